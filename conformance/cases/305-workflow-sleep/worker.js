// step.sleep with a duration string and with a number of milliseconds: the
// instance reports "running" while it sleeps, and wakes no earlier than
// asked. Times are compared inside the workflow, never printed.
import { WorkflowEntrypoint } from "cloudflare:workers";

export class Sleeper extends WorkflowEntrypoint {
  async run(event, step) {
    const t0 = await step.do("t0", async () => Date.now());
    await step.sleep("string", "1 second");
    const t1 = await step.do("t1", async () => Date.now());
    await step.sleep("number", 300);
    const t2 = await step.do("t2", async () => Date.now());
    await step.sleep("fraction", "0.2 seconds");
    const t3 = await step.do("t3", async () => Date.now());
    // the same sleep name twice is two sleeps
    await step.sleep("twice", 100);
    await step.sleep("twice", 100);
    const t4 = await step.do("t4", async () => Date.now());
    return {
      string: t1 - t0 >= 1000,
      number: t2 - t1 >= 300,
      fraction: t3 - t2 >= 200,
      twice: t4 - t3 >= 200,
      total: t4 - t0 < 10000,
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
    try {
      if (url.pathname === "/create") {
        const inst = await env.WF.create({ id: "sleeper-1" });
        return Response.json({ id: inst.id });
      }
      if (url.pathname === "/status") return Response.json(await view(env, url.searchParams.get("id")));
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
