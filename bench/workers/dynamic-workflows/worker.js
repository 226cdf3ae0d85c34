// The Dynamic Workflows benchmark's worker: the same workflow (payload.k
// steps, each using the one before) bound statically (STATIC, class Steps)
// and dispatched to a tenant's dynamic worker through
// @cloudflare/dynamic-workflows (WORKFLOWS), so that the cost of a step
// can be compared between the two. The tenant's code is made from the
// dispatcher's own functions' source, so both run the very same code.
import { WorkflowEntrypoint } from "cloudflare:workers";
import { createDynamicWorkflowEntrypoint, DynamicWorkflowBinding, wrapWorkflowBinding } from "@cloudflare/dynamic-workflows";

export { DynamicWorkflowBinding };

export class Steps extends WorkflowEntrypoint {
  async run(event, step) {
    let v = event.payload.n;
    for (let i = 0; i < event.payload.k; i++) {
      v = await step.do("s" + i, async () => v + 1);
    }
    return v;
  }
}

// /batch?n=&prefix=&from=&k= creates instances <prefix><from>.. of k
// steps; /status?ids= counts the complete ones and returns outputs.
async function handle(url, wf) {
  if (url.pathname === "/batch") {
    const n = Number(url.searchParams.get("n"));
    const from = Number(url.searchParams.get("from"));
    const k = Number(url.searchParams.get("k"));
    const prefix = url.searchParams.get("prefix");
    const batch = [];
    for (let i = 0; i < n; i++) batch.push({ id: prefix + (from + i), params: { n: from + i, k } });
    await wf.createBatch(batch);
    return new Response("ok");
  }
  if (url.pathname === "/status") {
    const out = { complete: 0, statuses: {}, outputs: [] };
    for (const id of url.searchParams.get("ids").split(",")) {
      const s = await (await wf.get(id)).status();
      out.statuses[s.status] = (out.statuses[s.status] || 0) + 1;
      if (s.status === "complete") {
        out.complete++;
        if (url.searchParams.has("outputs")) out.outputs.push(s.output);
      }
    }
    return Response.json(out);
  }
  return new Response("ok");
}

const TENANT = `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  ${Steps.prototype.run.toString()}
}
${handle.toString()}
export default {
  fetch(req, env) { return handle(new URL(req.url), env.WORKFLOWS); },
};`;

function loadTenant(env, tenant) {
  return env.LOADER.get(tenant, async () => ({
    compatibilityDate: "2026-01-01",
    mainModule: "index.js",
    modules: { "index.js": TENANT },
    env: { WORKFLOWS: wrapWorkflowBinding({ tenant }) },
  }));
}

export const DynamicWorkflow = createDynamicWorkflowEntrypoint(async ({ env, metadata }) =>
  loadTenant(env, metadata.tenant).getEntrypoint("TenantWorkflow"));

export default {
  fetch(req, env) {
    const url = new URL(req.url);
    if (url.searchParams.get("wf") !== "dynamic") return handle(url, env.STATIC);
    // Instances are created by the tenant, through the wrapped binding;
    // the benchmark reads their status on the dispatcher's own binding, as
    // it does for the static ones, so that polling costs both the same.
    if (url.pathname === "/status") return handle(url, env.WORKFLOWS);
    return loadTenant(env, "bench").getEntrypoint().fetch(req);
  },
};
