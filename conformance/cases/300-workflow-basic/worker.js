// The basic life of an instance: create with an id and params, steps
// returning values of several types, repeated step names, the step context
// (with the default and a custom config), the event, and the status and
// output once complete.
import { WorkflowEntrypoint } from "cloudflare:workers";

export class Basic extends WorkflowEntrypoint {
  async run(event, step) {
    const greeting = await step.do("greet", async () => `Hello, ${event.payload.name}!`);
    const obj = await step.do("object", async () => ({ n: 1, list: [1, "two", null, true], nested: { ok: true } }));
    const first = await step.do("same", async (ctx) => ({ step: ctx.step, attempt: ctx.attempt }));
    const second = await step.do("same", async (ctx) => ({ step: ctx.step, attempt: ctx.attempt }));
    const config = await step.do("config", async (ctx) => ctx.config);
    const custom = await step.do(
      "custom",
      { retries: { limit: 2, delay: "1 second", backoff: "linear" }, timeout: "5 minutes" },
      async (ctx) => ctx.config,
    );
    const undef = await step.do("undefined", async () => undefined);
    const nul = await step.do("null", async () => null);
    const map = await step.do("map", async () => new Map([["k", 1]]));
    const bytes = await step.do("bytes", async () => new Uint8Array([1, 2, 3]));
    return {
      greeting,
      obj,
      first,
      second,
      config,
      custom,
      undef: typeof undef,
      nul,
      map: [Object.prototype.toString.call(map), [...map]],
      bytes: [Object.prototype.toString.call(bytes), [...bytes]],
      event: {
        payload: event.payload,
        instanceId: event.instanceId,
        workflowName: event.workflowName,
        timestampIsDate: event.timestamp instanceof Date,
        keys: Object.keys(event).sort(),
      },
      env: typeof this.env.WF,
      ctx: typeof this.ctx,
    };
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
    const id = url.searchParams.get("id");
    try {
      switch (url.pathname) {
        case "/create": {
          const inst = await env.WF.create({ id: "basic-1", params: { name: "Alice" } });
          return Response.json({ id: inst.id });
        }
        case "/create-no-params": {
          const inst = await env.WF.create({ id: "basic-2" });
          return Response.json({ id: inst.id });
        }
        case "/status":
          return Response.json(await view(env, id));
        case "/keys": {
          // The local engine adds __LOCAL_DEV_STEP_OUTPUTS; production has no such key.
          const s = await (await env.WF.get(id)).status();
          return Response.json(Object.keys(s).filter((k) => k !== "__LOCAL_DEV_STEP_OUTPUTS").sort());
        }
        case "/instance": {
          const inst = await env.WF.get(id);
          const methods = ["status", "pause", "resume", "terminate", "restart", "sendEvent"];
          return Response.json({ id: inst.id, methods: methods.map((m) => typeof inst[m]) });
        }
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
