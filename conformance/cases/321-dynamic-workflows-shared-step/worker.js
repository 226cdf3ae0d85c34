// One run's step used from two isolates: a dispatcher written by hand (no
// library) takes steps itself and hands the step to a tenant's dynamic
// worker, which takes steps under the same name (one concurrently with a
// sleep). Occurrence numbering is per run, whichever isolate takes the
// step, and the replay after the sleep answers each from the journal.
import { WorkflowEntrypoint } from "cloudflare:workers";

const TENANT = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Tenant extends WorkerEntrypoint {
  async run(event, step) {
    const [a, , b] = await Promise.all([
      step.do("shared", async (ctx) => "tenant " + ctx.step.count),
      step.sleep("tenant-nap", 200),
      step.do("own", async (ctx) => "own " + ctx.attempt),
    ]);
    const again = await step.do("shared", async (ctx) => "tenant again " + ctx.step.count);
    return { a, b, again };
  }
}
export default {};`;

const code = (src) => () => ({ compatibilityDate: "2026-01-01", mainModule: "m.js", modules: { "m.js": src } });

export class Dispatcher extends WorkflowEntrypoint {
  async run(event, step) {
    const first = await step.do("shared", async (ctx) => "dispatcher " + ctx.step.count);
    const tenant = this.env.LOADER.get("tenant", code(TENANT)).getEntrypoint("Tenant");
    const fromTenant = await tenant.run(event, step);
    const last = await step.do("shared", async (ctx) => "dispatcher " + ctx.step.count);
    return { first, fromTenant, last };
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const id = url.searchParams.get("id");
    if (url.pathname === "/create") {
      await env.WF.create({ id });
      return Response.json(id);
    }
    const s = await (await env.WF.get(id)).status();
    return Response.json({ status: s.status, output: s.output, error: s.error && { name: s.error.name, message: s.error.message } });
  },
};
