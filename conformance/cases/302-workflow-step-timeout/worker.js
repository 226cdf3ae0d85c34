// step.do timeouts: a callback that never settles times out after the
// configured duration (a duration string or a number of ms), a timed-out
// attempt is retried like a failed one, a step that finishes in time is
// unaffected, and a timeout nobody catches fails the instance.
import { WorkflowEntrypoint } from "cloudflare:workers";

const never = () => new Promise(() => {});
const fmt = (e) => `${e.name}: ${e.message}`;

async function attempt(f) {
  try {
    return { ok: await f() };
  } catch (e) {
    return { error: fmt(e) };
  }
}

export class Timeouts extends WorkflowEntrypoint {
  async run(event, step) {
    if (event.payload.uncaught) {
      await step.do("hang", { retries: { limit: 0, delay: 10 }, timeout: 100 }, never);
      return "unreachable";
    }
    const out = {};
    out.string = await attempt(() => step.do("string", { retries: { limit: 0, delay: 10 }, timeout: "0.2 seconds" }, never));
    out.number = await attempt(() => step.do("number", { retries: { limit: 0, delay: 10 }, timeout: 150 }, never));
    out.retried = await attempt(() =>
      step.do("retried", { retries: { limit: 1, delay: 50 }, timeout: 100 }, async (ctx) =>
        ctx.attempt === 1 ? never() : { attempt: ctx.attempt }));
    out.allTimedOut = await attempt(() =>
      step.do("all-timed-out", { retries: { limit: 1, delay: 50 }, timeout: 100 }, never));
    out.inTime = await attempt(() =>
      step.do("in-time", { timeout: 2000 }, async () => {
        await new Promise((r) => setTimeout(r, 50));
        return "done";
      }));
    return out;
  }
}

async function view(env, id) {
  const s = await (await env.WF.get(id)).status();
  const v = { status: s.status, output: s.output };
  if (s.error !== undefined) v.error = { name: s.error.name, message: s.error.message };
  return v;
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    try {
      if (url.pathname === "/create") {
        const inst = await env.WF.create({ id: "timeouts-1" });
        return Response.json({ id: inst.id });
      }
      if (url.pathname === "/create-uncaught") {
        const inst = await env.WF.create({ id: "timeouts-2", params: { uncaught: true } });
        return Response.json({ id: inst.id });
      }
      if (url.pathname === "/status") return Response.json(await view(env, url.searchParams.get("id")));
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
