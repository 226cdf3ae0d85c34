import { DurableObject, WorkflowEntrypoint } from "cloudflare:workers";

const COMPAT = "2026-04-01";

// Workflow code is kept by its hash: an instance that sleeps for days finds
// its tenant's code again when it wakes, even after a restart.
export class CodeStore extends DurableObject {
  put(id, code) {
    this.ctx.storage.kv.put(id, code);
  }
  get(id) {
    return this.ctx.storage.kv.get(id) ?? null;
  }
}

async function codeId(prefix, code) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(code));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return prefix + hex.slice(0, 16);
}

function tenantWorker(env, tenant) {
  return env.LOADER.get(tenant, async () => {
    const code = await env.CODES.getByName("codes").get(tenant);
    if (code == null) throw new Error(`no code is stored for ${tenant}`);
    return {
      compatibilityDate: COMPAT,
      mainModule: "workflow.js",
      modules: { "workflow.js": code },
      globalOutbound: null,
    };
  });
}

// The dispatcher: every instance runs its tenant's TenantWorkflow, handing
// it the step, so each step.do is journaled as if the tenant's class were
// the workflow.
export class PlaygroundWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const { tenant, params } = event.payload;
    const entry = tenantWorker(this.env, tenant).getEntrypoint("TenantWorkflow");
    return entry.run({ ...event, payload: params }, step);
  }
}

// The app-platform pattern: the supervisor keeps the app's code in its own
// storage and runs its App class as a facet with a database of its own.
// Saving new code aborts the facet, so the next request runs the new code
// against the same data.
export class AppRunner extends DurableObject {
  setCode(code) {
    const tenant = "app-" + crypto.randomUUID().slice(0, 8);
    this.ctx.storage.kv.put("tenant", tenant);
    this.ctx.storage.kv.put("code", code);
    this.ctx.facets.abort("app", new Error("The app's code was replaced."));
    return tenant;
  }
  getCode() {
    return { code: this.ctx.storage.kv.get("code") ?? null, tenant: this.ctx.storage.kv.get("tenant") ?? null };
  }
  async fetch(request) {
    const tenant = this.ctx.storage.kv.get("tenant");
    if (tenant == null) return new Response("No app code has been saved yet.\n", { status: 404 });
    const facet = this.ctx.facets.get("app", () => ({ class: this.#worker(tenant).getDurableObjectClass("App") }));
    return facet.fetch(request);
  }
  #worker(tenant) {
    return this.env.LOADER.get(tenant, () => ({
      compatibilityDate: COMPAT,
      mainModule: "app.js",
      modules: { "app.js": this.ctx.storage.kv.get("code") },
      globalOutbound: null,
    }));
  }
}

function errorResponse(status, message) {
  return Response.json({ error: message }, { status });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/workflow" && request.method === "POST") {
      const { code, params } = await request.json();
      if (typeof code !== "string" || code.trim() === "") return errorResponse(400, "code: expected the workflow's source");
      const tenant = await codeId("wf-", code);
      await env.CODES.getByName("codes").put(tenant, code);
      const instance = await env.WORKFLOWS.create({ params: { tenant, params: params ?? {} } });
      return Response.json({ id: instance.id, tenant, workflow: "playground" }, { status: 201 });
    }
    if (url.pathname === "/app/code") {
      const runner = env.APPS.getByName("app");
      if (request.method === "PUT") {
        const { code } = await request.json();
        if (typeof code !== "string" || code.trim() === "") return errorResponse(400, "code: expected the app's source");
        return Response.json({ tenant: await runner.setCode(code) });
      }
      return Response.json(await runner.getCode());
    }
    if (url.pathname === "/app/run" || url.pathname.startsWith("/app/run/")) {
      const inner = new URL(url);
      inner.pathname = url.pathname.slice("/app/run".length) || "/";
      try {
        return await env.APPS.getByName("app").fetch(new Request(inner, request));
      } catch (e) {
        return new Response(String((e && e.stack) || e) + "\n", { status: 500 });
      }
    }
    return errorResponse(404, `no such playground endpoint: ${request.method} ${url.pathname}`);
  },
};
