// Durable Object stubs: fetch() with a URL and init or a Request, RPC
// methods with arguments and results (Map, Date, nested values, functions
// and RpcTargets coming back), errors thrown with their class, message and
// own properties, property reads (getters, not instance fields), unknown
// and reserved methods, and a class without a fetch handler.
import { DurableObject, RpcTarget } from "cloudflare:workers";

class MyError extends Error {
  constructor(message) {
    super(message);
    this.name = "MyError";
    this.code = 42;
  }
}

class Greeter extends RpcTarget {
  hi() { return "hi from an RpcTarget"; }
}

export class Thing extends DurableObject {
  field = "instance field";
  static staticField = 1;
  get getter() { return "getter value"; }

  async fetch(request) {
    if (request.headers.get("x-fail")) throw new Error("fetch handler failed");
    const seen = { method: request.method, url: request.url, header: request.headers.get("x-h"), body: await request.text() };
    return new Response(JSON.stringify(seen), { status: 201, headers: { "x-from": "object" } });
  }

  describe(...args) {
    return args.map((a) => [
      Object.prototype.toString.call(a),
      a instanceof Map ? [...a] : a instanceof Date ? a.toISOString() : ArrayBuffer.isView(a) ? [...a] : a,
    ]);
  }
  makeMap() { return new Map([["a", 1], ["when", new Date(0)]]); }
  makeDate() { return new Date(86400000); }
  nested() { return { inner: { fn: (x) => x * 7 } }; }
  greeter() { return new Greeter(); }
  _underscored() { return "underscore methods are callable"; }

  throwPlain() { throw new Error("plain failure"); }
  throwType() { throw new TypeError("type failure"); }
  throwCustom() { throw new MyError("custom failure"); }
  async throwAsync() { await null; throw new RangeError("async failure"); }
  throwString() { throw "a string"; }
}

export class NoFetch extends DurableObject {
  method() { return "NoFetch.method"; }
}

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    let s = "threw " + e.name + ": " + e.message;
    if (e.code !== undefined) s += " (code " + e.code + ")";
    if (e.remote) s += " (remote)";
    return s;
  }
};

export default {
  async fetch(request, env) {
    const stub = env.THING.getByName("x");
    const out = {};

    const r = await stub.fetch("http://example.com/path?q=1", { method: "POST", headers: { "x-h": "hv" }, body: "payload" });
    out.fetch = { status: r.status, from: r.headers.get("x-from"), seen: await r.json() };
    const r2 = await stub.fetch(new Request("http://other/", { headers: { "x-h": "2" } }));
    out.fetchRequest = await r2.json();
    out.fetchThrows = await probe(async () => (await stub.fetch("http://x/", { headers: { "x-fail": "1" } })).status);

    out.args = await stub.describe(1, "s", null, undefined, new Map([[1, 2]]), new Date(5), [1, [2]], { a: { b: 1 } }, new Uint8Array([1, 2]));
    out.map = await probe(async () => {
      const m = await stub.makeMap();
      return [m instanceof Map, [...m.keys()], m.get("when") instanceof Date, m.get("when").getTime()];
    });
    out.date = await probe(async () => {
      const d = await stub.makeDate();
      return [d instanceof Date, d.toISOString()];
    });
    out.functionInResult = await probe(async () => (await stub.nested()).inner.fn(6));
    out.pipelinedFunction = await probe(() => stub.nested().inner.fn(3));
    out.rpcTarget = await probe(async () => (await stub.greeter()).hi());
    out.pipelinedTarget = await probe(() => stub.greeter().hi());
    out.functionArgument = await probe(async () => (await stub.describe(() => 1))[0][0]);
    out.symbolArgument = await probe(() => stub.describe(Symbol("x")));

    out.errors = {
      plain: await probe(() => stub.throwPlain()),
      type: await probe(() => stub.throwType()),
      custom: await probe(() => stub.throwCustom()),
      async: await probe(() => stub.throwAsync()),
      string: await probe(() => stub.throwString()),
    };

    out.members = {
      getter: await probe(() => stub.getter),
      instanceField: await probe(() => stub.field),
      instanceFieldCalled: await probe(() => stub.field()),
      staticField: await probe(() => stub.staticField),
      unknownMethod: await probe(() => stub.nope()),
      unknownProperty: await probe(() => stub.nope),
      underscored: await probe(() => stub._underscored()),
      ctx: await probe(() => stub.ctx),
      env: await probe(() => stub.env),
      alarm: await probe(() => stub.alarm()),
      webSocketMessage: await probe(() => stub.webSocketMessage()),
      afterErrors: await probe(() => stub.makeDate().then((d) => d.getTime())),
    };

    const noFetch = env.NOFETCH.getByName("y");
    out.noFetch = {
      fetch: await probe(async () => (await noFetch.fetch("http://x/")).status),
      method: await probe(() => noFetch.method()),
    };
    return Response.json(out);
  },
};
