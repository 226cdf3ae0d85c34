// ctx.facets.get(name, callback): classes from ctx.exports.X({props}), from
// ctx.exports.X alone and from a dynamic worker's getDurableObjectClass;
// what the facet stub and the class objects look like; the callback runs
// only while the facet is not running; the facet's ctx.id defaults to the
// parent's and can be set with an id or a string; fetch and RPC reach the
// facet; errors for bad arguments, bad classes and long names.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const chain = (o) => {
  const names = [];
  for (let p = Object.getPrototypeOf(o); p; p = Object.getPrototypeOf(p)) names.push(p.constructor?.name ?? "?");
  return names;
};

const DYNAMIC = {
  compatibilityDate: "2026-11-01",
  mainModule: "app.js",
  modules: {
    "app.js": `
      import { DurableObject } from "cloudflare:workers";
      export class App extends DurableObject {
        info() { return { class: "App", idName: this.ctx.id.name ?? "undefined", props: this.ctx.props, facets: typeof this.ctx.facets }; }
        fetch(request) { return new Response("App fetched " + new URL(request.url).pathname + " with " + request.method); }
      }
    `,
  },
};

export class Child extends DurableObject {
  info() { return { class: "Child", idName: this.ctx.id.name ?? "undefined", props: this.ctx.props }; }
  idString() { return this.ctx.id.toString(); }
}

export class Parent extends DurableObject {
  hello() { return "Parent as a facet"; }

  async run() {
    const facets = this.ctx.facets;
    const out = {};
    out.facets = {
      string: String(facets),
      chain: chain(facets),
      methods: Object.getOwnPropertyNames(Object.getPrototypeOf(facets)).sort(),
    };

    let calls = 0;
    const local = facets.get("local", () => {
      calls++;
      return { class: this.ctx.exports.Child({ props: { who: "local" } }) };
    });
    out.stub = {
      type: typeof local,
      string: String(local),
      chain: chain(local),
      ownKeys: Object.keys(local),
      members: [typeof local.id, typeof local.name, typeof local.fetch],
      isPromise: local instanceof Promise,
      callbackCallsBeforeUse: calls,
    };
    out.local = await probe(() => local.info());
    out.sameIdAsParent = await probe(async () => (await local.idString()) === this.ctx.id.toString());
    const again = facets.get("local", () => {
      calls++;
      return { class: this.ctx.exports.Child({ props: { who: "second callback" } }) };
    });
    out.secondGet = await probe(() => again.info());
    out.callbackCalls = calls;
    out.asyncCallback = await probe(() => facets.get("async", async () => {
      await null;
      return { class: this.ctx.exports.Child({ props: { async: true } }) };
    }).info());
    out.exportWithoutProps = await probe(() => facets.get("bare", () => ({ class: this.ctx.exports.Child })).info());
    out.namespaceOfParentClass = await probe(() => facets.get("parentClass", () => ({ class: this.ctx.exports.Parent })).hello());

    const worker = this.env.LOADER.get("dynamic", () => DYNAMIC);
    const appClass = worker.getDurableObjectClass("App");
    out.dynamicClass = { type: typeof appClass, string: String(appClass), chain: chain(appClass) };
    const app = facets.get("app", () => ({ class: appClass }));
    out.dynamic = await probe(() => app.info());
    out.dynamicFetch = await probe(async () => (await app.fetch("http://facet/path", { method: "POST" })).text());
    out.dynamicWithProps = await probe(() => facets.get("appProps", () => ({
      class: worker.getDurableObjectClass("App", { props: { tenant: 7 } }),
    })).info());
    out.dynamicMissingClass = await probe(() => facets.get("missing", () => ({ class: worker.getDurableObjectClass("Nope") })).info());

    const otherId = this.env.PARENT.idFromName("someone else");
    out.idOption = await probe(async () => {
      const s = facets.get("withId", () => ({ class: this.ctx.exports.Child({ props: {} }), id: otherId }));
      return [await s.info(), (await s.idString()) === otherId.toString()];
    });
    out.stringIdOption = await probe(async () => {
      const s = facets.get("withStringId", () => ({ class: this.ctx.exports.Child({ props: {} }), id: "custom id" }));
      return [await s.info(), await s.idString()];
    });

    out.errors = {
      noCallback: await probe(() => facets.get("x")),
      noClass: await probe(() => facets.get("noClass", () => ({})).info()),
      numberClass: await probe(() => facets.get("numberClass", () => ({ class: 5 })).info()),
      throwingCallback: await probe(() => facets.get("throwing", () => { throw new Error("callback failed"); }).info()),
      name256: await probe(async () => (await facets.get("n".repeat(256), () => ({ class: this.ctx.exports.Child({}) })).info()).class),
      name257: await probe(() => facets.get("n".repeat(257), () => ({ class: this.ctx.exports.Child({}) }))),
      slashInName: await probe(async () => (await facets.get("a/b", () => ({ class: this.ctx.exports.Child({}) })).info()).class),
    };
    return out;
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.PARENT.getByName("parent").run());
  },
};
