// Facet storage: each facet has its own database, apart from the parent's
// and its siblings' (KV and SQL); abort(name, reason) makes calls on the
// old stub throw the reason and keeps the storage, so a later get() may run
// a new class (a code update) on the same data; delete(name) wipes it and
// breaks old stubs. The second request finds the facets' data kept.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const version = (n) => ({
  compatibilityDate: "2026-11-01",
  mainModule: "app.js",
  modules: {
    "app.js": `
      import { DurableObject } from "cloudflare:workers";
      export class App extends DurableObject {
        info() { return { version: ${n}, kv: [...this.ctx.storage.kv.list()] }; }
        put(k, v) { this.ctx.storage.kv.put(k, v); }
      }
    `,
  },
});

export class Store extends DurableObject {
  put(k, v) { this.ctx.storage.kv.put(k, v); }
  kv() { return [...this.ctx.storage.kv.list()]; }
  async asyncKv() { return [...(await this.ctx.storage.list())]; }
  tables() {
    return this.ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")
      .toArray().map((r) => r.name);
  }
  createTable(name) { this.ctx.storage.sql.exec(`CREATE TABLE ${name} (x)`); }
}

export class Parent extends DurableObject {
  facet(name) {
    return this.ctx.facets.get(name, () => ({ class: this.ctx.exports.Store({ props: {} }) }));
  }
  kv() { return [...this.ctx.storage.kv.list()]; }

  async run() {
    const facets = this.ctx.facets;
    const out = {};
    this.ctx.storage.kv.put("parent key", "parent");
    this.ctx.storage.sql.exec("CREATE TABLE parent_table (x)");
    const a = this.facet("a");
    const b = this.facet("b");
    await a.put("a key", "a");
    await b.put("b key", "b");
    await a.createTable("a_table");
    out.isolation = {
      parentKv: this.kv(),
      parentTables: this.ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")
        .toArray().map((r) => r.name),
      aKv: await a.kv(),
      bKv: await b.kv(),
      aAsyncKv: await a.asyncKv(),
      aTables: await a.tables(),
      bTables: await b.tables(),
    };

    const worker1 = this.env.LOADER.get("v1", () => version(1));
    const app = facets.get("app", () => ({ class: worker1.getDurableObjectClass("App") }));
    await app.put("app data", "written by version 1");
    out.beforeAbort = await probe(() => app.info());
    out.abortResult = await probe(() => facets.abort("app", new Error("updating the code")));
    out.oldStubAfterAbort = await probe(() => app.info());
    out.oldStubAfterAbortAgain = await probe(() => app.put("x", 1));
    const worker2 = this.env.LOADER.get("v2", () => version(2));
    const updated = facets.get("app", () => ({ class: worker2.getDurableObjectClass("App") }));
    out.newClassSameStorage = await probe(() => updated.info());

    out.reasons = {};
    for (const [label, reason] of [["typeError", new TypeError("typed reason")], ["string", "string reason"]]) {
      const s = this.facet("r-" + label);
      await s.kv();
      facets.abort("r-" + label, reason);
      out.reasons[label] = await probe(() => s.kv());
    }
    out.reasons.missing = await probe(() => facets.abort("r-missing"));
    out.abortUnknownName = await probe(() => facets.abort("never started", new Error("r")));

    const doomed = this.facet("doomed");
    await doomed.put("doomed key", 1);
    out.deleteResult = await probe(() => facets.delete("doomed"));
    out.oldStubAfterDelete = await probe(() => doomed.kv());
    out.afterDelete = await probe(() => this.facet("doomed").kv());
    out.deleteUnknownName = await probe(() => facets.delete("never started"));
    out.parentUntouched = this.kv();
    return out;
  }

  async again() {
    return {
      parent: this.kv(),
      a: await this.facet("a").kv(),
      b: await this.facet("b").kv(),
      app: await probe(() => this.ctx.facets.get("app", () => ({
        class: this.env.LOADER.get("v2", () => version(2)).getDurableObjectClass("App"),
      })).info()),
      doomed: await this.facet("doomed").kv(),
    };
  }
}

export default {
  async fetch(request, env) {
    const stub = env.PARENT.getByName("parent");
    if (new URL(request.url).pathname === "/again") return Response.json(await stub.again());
    return Response.json(await stub.run());
  },
};
