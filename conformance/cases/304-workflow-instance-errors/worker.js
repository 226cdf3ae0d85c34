// How a failed instance reports its error in status(): run() throwing
// built-in and custom errors and a non-Error value, a step whose retries
// run out, and a step returning a value that cannot be stored.
import { WorkflowEntrypoint } from "cloudflare:workers";

class MyError extends Error {
  constructor(message) {
    super(message);
    this.name = "MyError";
  }
}

export class Errors extends WorkflowEntrypoint {
  async run(event, step) {
    await step.do("first", async () => "ok");
    switch (event.payload.mode) {
      case "range":
        throw new RangeError("out of range");
      case "plain":
        throw new Error("plain failure");
      case "custom":
        throw new MyError("custom failure");
      case "string":
        throw "a string";
      case "exhausted":
        await step.do("flaky", { retries: { limit: 1, delay: 50 } }, async (ctx) => {
          throw new Error(`flaky attempt ${ctx.attempt}`);
        });
        return "unreachable";
      case "unserialisable":
        await step.do("returns-function", async () => () => 1);
        return "unreachable";
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

const modes = ["range", "plain", "custom", "string", "exhausted", "unserialisable"];

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    try {
      switch (url.pathname) {
        case "/create": {
          const ids = [];
          for (const mode of modes) ids.push((await env.WF.create({ id: `err-${mode}`, params: { mode } })).id);
          return Response.json(ids);
        }
        case "/status":
          return Response.json(await view(env, url.searchParams.get("id")));
        case "/error-keys": {
          // Which keys status().error has
          const s = await (await env.WF.get(url.searchParams.get("id"))).status();
          return Response.json(s.error && Object.keys(s.error).sort());
        }
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
