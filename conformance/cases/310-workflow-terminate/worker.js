// terminate(): a waiting instance becomes "terminated" and stays so (events,
// pause and resume change nothing); terminating a terminated, complete or
// errored instance is an error; a paused instance can be terminated.
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;

export class Terminable extends WorkflowEntrypoint {
  async run(event, step) {
    switch (event.payload.mode) {
      case "wait": {
        const a = await step.do("a", async () => "a");
        const ev = await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
        return { a, got: ev.payload };
      }
      case "done":
        return await step.do("only", async () => "done");
      case "fail":
        await step.do("only", async () => "ok");
        throw new Error("failed on purpose");
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
        case "/terminate":
          return Response.json(await op("terminate"));
        case "/pause":
          return Response.json(await op("pause"));
        case "/resume":
          return Response.json(await op("resume"));
        case "/send":
          return Response.json(await op("sendEvent", { type: "go", payload: "late" }));
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
