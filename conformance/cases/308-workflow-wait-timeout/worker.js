// step.waitForEvent timing out: the error it throws (a duration string and
// a number of ms), the workflow going on after catching it, and an
// uncaught timeout failing the instance.
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;

export class Waits extends WorkflowEntrypoint {
  async run(event, step) {
    if (event.payload.uncaught) {
      await step.waitForEvent("never comes", { type: "nothing", timeout: 150 });
      return "unreachable";
    }
    const out = {};
    const t0 = await step.do("t0", async () => Date.now());
    try {
      await step.waitForEvent("string timeout", { type: "nothing", timeout: "0.2 seconds" });
      out.string = "no error";
    } catch (e) {
      out.string = fmt(e);
    }
    const t1 = await step.do("t1", async () => Date.now());
    out.waitedAtLeast200ms = t1 - t0 >= 200;
    try {
      await step.waitForEvent("number timeout", { type: "nothing", timeout: 100 });
      out.number = "no error";
    } catch (e) {
      out.number = fmt(e);
    }
    out.after = await step.do("after", async () => "went on");
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
        const a = await env.WF.create({ id: "wait-caught" });
        const b = await env.WF.create({ id: "wait-uncaught", params: { uncaught: true } });
        return Response.json([a.id, b.id]);
      }
      if (url.pathname === "/status") return Response.json(await view(env, url.searchParams.get("id")));
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
