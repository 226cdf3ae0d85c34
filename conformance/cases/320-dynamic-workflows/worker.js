// @cloudflare/dynamic-workflows: two tenants with their own code behind one
// dispatcher. The tenants use the wrapped binding (create with an id,
// createBatch, get, await instance.id, status, pause, resume, terminate,
// restart, sendEvent, and delete, which the wrapper does not forward);
// their steps cross isolates (callbacks, retries, a callback's error, the
// ctx a callback gets, sleeps, events); the event a tenant's run() sees;
// errors thrown by a tenant's run(); an instance created on the dispatcher's
// binding without the envelope.
import {
  createDynamicWorkflowEntrypoint,
  DynamicWorkflowBinding,
  MissingDispatcherMetadataError,
  wrapWorkflowBinding,
} from "@cloudflare/dynamic-workflows";

export { DynamicWorkflowBinding };

const FETCH = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    const fmt = (e) => e.name + ": " + e.message;
    const attempt = async (f) => { try { const v = await f(); return v === undefined ? "ok" : v; } catch (e) { return fmt(e); } };
    const view = async (id) => {
      const s = await (await env.WORKFLOWS.get(id)).status();
      const v = { status: s.status, output: s.output };
      if (s.error !== undefined) v.error = { name: s.error.name, message: s.error.message };
      return v;
    };
    switch (url.pathname) {
      case "/create": {
        const inst = await env.WORKFLOWS.create({ id, params: JSON.parse(url.searchParams.get("params") || "{}") });
        return Response.json({ id: await inst.id, type: typeof inst.status });
      }
      case "/batch": {
        const list = await env.WORKFLOWS.createBatch([
          { id: id + "-1", params: { n: 1 } },
          { id: id + "-2", params: { n: 2 } },
        ]);
        const ids = [];
        for (const inst of list) ids.push(await inst.id);
        return Response.json(ids);
      }
      case "/status": return Response.json(await attempt(() => view(id)));
      case "/pause": return Response.json(await attempt(async () => (await env.WORKFLOWS.get(id)).pause()));
      case "/resume": return Response.json(await attempt(async () => (await env.WORKFLOWS.get(id)).resume()));
      case "/terminate": return Response.json(await attempt(async () => (await env.WORKFLOWS.get(id)).terminate()));
      case "/restart": return Response.json(await attempt(async () => (await env.WORKFLOWS.get(id)).restart()));
      case "/delete": return Response.json(await attempt(async () => (await env.WORKFLOWS.get(id)).delete()));
      case "/send": return Response.json(await attempt(async () => (await env.WORKFLOWS.get(id)).sendEvent({ type: "go", payload: { from: "tenant" } })));
    }
    return new Response("not found", { status: 404 });
  },
};`;

const TENANT_CODE = {
  alpha: `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const p = event.payload;
    const seen = { keys: Object.keys(event).sort(), payload: p, id: event.instanceId, ts: event.timestamp instanceof Date };
    if (p.mode === "throw") throw new TypeError("alpha gave up");
    if (p.mode === "fail-step") {
      try {
        await step.do("doomed", { retries: { limit: 1, delay: 10 } }, async () => { throw new RangeError("no luck"); });
      } catch (e) {
        return { caught: e.name + ": " + e.message };
      }
    }
    let tries = 0;
    // The instance the test pauses at once ("wait") does not fail its first
    // try: a pause that lands during a retry's delay is handled differently
    // (see the issue note), and when it lands would be a race.
    const flaky = await step.do("flaky", { retries: { limit: 2, delay: 10, backoff: "constant" } }, async (ctx) => {
      tries++;
      if (ctx.attempt < 2 && p.mode !== "wait") throw new Error("first try fails");
      return { attempt: ctx.attempt, step: ctx.step, tries };
    });
    await step.sleep("nap", 300);
    if (p.mode === "wait") {
      const ev = await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
      return { seen, flaky, event: { type: ev.type, payload: ev.payload } };
    }
    const after = await step.do("after", async () => "alpha " + (p.n ?? "-"));
    return { seen, flaky, after };
  }
}
${FETCH}`,
  beta: `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const a = await step.do("one", async () => [1, 2, 3]);
    await step.sleep("nap", 200);
    const b = await step.do("two", async () => new Map([["k", a.length]]));
    return { tenant: "beta", a, b: [...b] };
  }
}
${FETCH}`,
};

function loadTenant(env, tenant) {
  return env.LOADER.get(tenant, async () => {
    const code = TENANT_CODE[tenant];
    if (!code) throw new Error("unknown tenant " + tenant);
    return {
      compatibilityDate: "2026-01-01",
      mainModule: "index.js",
      modules: { "index.js": code },
      env: { WORKFLOWS: wrapWorkflowBinding({ tenant }) },
    };
  });
}

export const DynamicWorkflow = createDynamicWorkflowEntrypoint(async ({ env, metadata }) => {
  return loadTenant(env, metadata.tenant).getEntrypoint("TenantWorkflow");
});

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/raw") {
      // The dispatcher's own binding, without the library's envelope.
      const id = url.searchParams.get("id");
      if (url.searchParams.get("op") === "create") {
        await env.WORKFLOWS.create({ id, params: { plain: true } });
        return Response.json(id);
      }
      const s = await (await env.WORKFLOWS.get(id)).status();
      return Response.json({ status: s.status, error: s.error && { name: s.error.name, message: s.error.message } });
    }
    if (url.pathname === "/error-class") {
      const e = new MissingDispatcherMetadataError();
      return Response.json({ name: e.name, message: e.message });
    }
    const tenant = url.searchParams.get("tenant");
    try {
      return await loadTenant(env, tenant).getEntrypoint().fetch(request);
    } catch (e) {
      return new Response(e.name + ": " + e.message, { status: 500 });
    }
  },
};
