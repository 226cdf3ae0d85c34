// pause() and resume(): pausing a sleeping instance (paused at once, and
// its sleep does not end while paused), pausing during a step
// ("waitingForPause" until the step ends), an event sent while paused,
// and pause/resume where they change nothing (a running or a complete
// instance).
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;

export class Pausable extends WorkflowEntrypoint {
  async run(event, step) {
    switch (event.payload.mode) {
      case "sleep": {
        const a = await step.do("a", async () => "a");
        await step.sleep("nap", 800);
        const b = await step.do("b", async () => "b");
        return { a, b };
      }
      case "step": {
        const slow = await step.do("slow", async () => {
          await new Promise((r) => setTimeout(r, 1500));
          return "slow done";
        });
        const next = await step.do("next", async () => "next done");
        return { slow, next };
      }
      case "wait": {
        const ev = await step.waitForEvent("approval", { type: "approve", timeout: "1 minute" });
        return { got: ev.payload };
      }
    }
    return "no mode";
  }
}

async function view(env, id) {
  const s = await (await env.WF.get(id)).status();
  const v = { status: s.status, output: s.output };
  if (s.error !== undefined) v.error = { name: s.error.name, message: s.error.message };
  return v;
}

async function attempt(f) {
  try {
    const v = await f();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return fmt(e);
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const id = url.searchParams.get("id");
    try {
      switch (url.pathname) {
        case "/create":
          return Response.json((await env.WF.create({ id, params: { mode: url.searchParams.get("mode") } })).id);
        case "/pause":
          return Response.json(await attempt(async () => (await env.WF.get(id)).pause()));
        case "/resume":
          return Response.json(await attempt(async () => (await env.WF.get(id)).resume()));
        case "/send":
          return Response.json(await attempt(async () => (await env.WF.get(id)).sendEvent({ type: "approve", payload: "yes" })));
        case "/status":
          return Response.json(await view(env, id));
        case "/status-later": {
          await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms"))));
          return Response.json(await view(env, id));
        }
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
