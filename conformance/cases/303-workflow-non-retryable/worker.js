// NonRetryableError from "cloudflare:workflows": the class itself, a step
// that throws it is not retried (whatever its retry limit), and an instance
// that does not catch it fails with the engine's own error.
import { WorkflowEntrypoint } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";

const fmt = (e) => `${e.name}: ${e.message}`;

export class NonRetryable extends WorkflowEntrypoint {
  async run(event, step) {
    const mode = event.payload.mode;
    if (mode === "step") {
      await step.do("fatal", { retries: { limit: 5, delay: 50 } }, async () => {
        throw new NonRetryableError("stop here");
      });
      return "unreachable";
    }
    if (mode === "run") {
      await step.do("first", async () => 1);
      throw new NonRetryableError("thrown by run");
    }
    const out = {};
    try {
      await step.do("caught", { retries: { limit: 5, delay: 50 } }, async (ctx) => {
        throw new NonRetryableError(`nope on attempt ${ctx.attempt}`);
      });
      out.caught = "no error";
    } catch (e) {
      out.caught = fmt(e);
    }
    out.after = await step.do("after", async () => "still running");
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
      switch (url.pathname) {
        case "/class": {
          const e = new NonRetryableError("msg");
          const named = new NonRetryableError("msg", "Custom");
          return Response.json({
            e: fmt(e),
            isError: e instanceof Error,
            named: fmt(named),
            typeofClass: typeof NonRetryableError,
          });
        }
        case "/create": {
          const ids = [];
          for (const [id, mode] of [["nr-caught", "caught"], ["nr-step", "step"], ["nr-run", "run"]]) {
            ids.push((await env.WF.create({ id, params: { mode } })).id);
          }
          return Response.json(ids);
        }
        case "/status":
          return Response.json(await view(env, url.searchParams.get("id")));
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
