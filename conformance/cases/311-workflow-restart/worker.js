// restart(): a complete, a terminated and an errored instance run again from
// the start with the same id and params; step results and buffered events
// from before the restart are gone.
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;

export class Restartable extends WorkflowEntrypoint {
  async run(event, step) {
    switch (event.payload.mode) {
      case "wait": {
        const params = await step.do("params", async () => event.payload);
        const ev = await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
        return { params, got: ev.payload };
      }
      case "fail":
        await step.do("only", async () => "ok");
        throw new Error(`failed for ${event.instanceId}`);
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
    const op = (name, arg) => attempt(async () => (await env.WF.get(id))[name](arg));
    try {
      switch (url.pathname) {
        case "/create":
          return Response.json((await env.WF.create({ id, params: { mode: url.searchParams.get("mode") } })).id);
        case "/restart":
          return Response.json(await op("restart"));
        case "/terminate":
          return Response.json(await op("terminate"));
        case "/send":
          return Response.json(await op("sendEvent", { type: "go", payload: url.searchParams.get("payload") }));
        case "/status":
          return Response.json(await view(env, id));
        case "/status-later": {
          await new Promise((r) => setTimeout(r, 300));
          return Response.json(await view(env, id));
        }
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
