// Synchronous KV values: what survives a put/get round trip (Date, Map,
// Set, typed arrays, ArrayBuffer, nested and cyclic values, undefined,
// BigInt, NaN, errors...), that get returns a fresh copy, and the errors
// for missing arguments, non-string keys and values that cannot be stored.
// The second request reads the values back from storage.
import { DurableObject, RpcTarget } from "cloudflare:workers";

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    // The message quotes a function's source, which a bundler may reprint.
    return "threw " + e.name + ": " + e.message.replace(/^(.*\S) (could not be cloned\.)$/s, (m, what, rest) =>
      (/^[#S]/.test(what) ? what : "<source>") + " " + rest);
  }
};

const show = (v, seen = new Set()) => {
  if (v === undefined) return "undefined";
  if (seen.has(v)) return "<cycle>";
  if (v && typeof v === "object") seen = new Set(seen).add(v);
  const inner = (x) => show(x, seen);
  const tag = Object.prototype.toString.call(v);
  if (v instanceof Map || v instanceof Set) return [tag, [...v].map(inner)];
  if (ArrayBuffer.isView(v)) return [tag, [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)]];
  if (v instanceof ArrayBuffer) return [tag, [...new Uint8Array(v)]];
  if (v instanceof Date) return [tag, v.toISOString()];
  if (v instanceof RegExp) return [tag, String(v)];
  if (v instanceof Error) return [tag, v.name + ": " + v.message];
  if (typeof v === "bigint") return [tag, String(v)];
  if (typeof v === "number") return [tag, Object.is(v, -0) ? "-0" : String(v)];
  if (Array.isArray(v)) return [tag, v.map(inner)];
  if (v && typeof v === "object") return [tag, Object.entries(v).map(([k, x]) => [k, inner(x)])];
  return [tag, v];
};

const values = () => {
  const cyclic = { n: 1 };
  cyclic.self = cyclic;
  const shared = { s: 1 };
  return {
    date: new Date(1000),
    map: new Map([["k", [1]], [2, new Date(0)]]),
    set: new Set([1, "x"]),
    u8: new Uint8Array([1, 2, 3]),
    subarray: new Uint8Array([1, 2, 3, 4]).subarray(1, 3),
    f64: new Float64Array([1.5]),
    arrayBuffer: new Uint8Array([9]).buffer,
    dataView: new DataView(new Uint8Array([4, 5]).buffer),
    nested: { a: [1, { b: new Date(0) }], s: "x" },
    undefined: undefined,
    null: null,
    number: -0.5,
    negativeZero: -0,
    nan: NaN,
    infinity: -Infinity,
    string: "",
    unicode: "é\u{1F600}\u0000",
    boolean: false,
    bigint: 12345678901234567890n,
    regexp: /ab+c/gi,
    error: new TypeError("stored error"),
    sparse: [1, , 3],
    cyclic,
    shared: [shared, shared],
    classInstance: new (class Point { constructor() { this.x = 1; } })(),
    objectWithUndefined: { a: undefined, b: 1 },
  };
};

export class Store extends DurableObject {
  write() {
    const kv = this.ctx.storage.kv;
    const out = { roundTrip: {} };
    for (const [k, v] of Object.entries(values())) {
      out.roundTrip[k] = probe(() => {
        kv.put("v:" + k, v);
        return show(kv.get("v:" + k));
      });
    }
    out.cyclicKept = probe(() => { const v = kv.get("v:cyclic"); return v.self === v; });
    out.sharedKept = probe(() => { const v = kv.get("v:shared"); return v[0] === v[1]; });
    out.undefinedIsListed = [...kv.list({ prefix: "v:undefined" })].length;
    out.copies = probe(() => {
      const o = { x: 1 };
      kv.put("obj", o);
      const a = kv.get("obj");
      const b = kv.get("obj");
      o.x = 2;
      a.x = 3;
      return [a === b, a === o, kv.get("obj").x];
    });

    out.errors = {
      getMissingKey: probe(() => kv.get()),
      putMissingKey: probe(() => kv.put()),
      putMissingValue: probe(() => kv.put("only")),
      deleteMissingKey: probe(() => kv.delete()),
      listNotObject: probe(() => [...kv.list(5)].length),
      getNumberKey: probe(() => { kv.put("5", "five"); return kv.get(5); }),
      putNumberKey: probe(() => { kv.put(6, "six"); return kv.get("6"); }),
      deleteNumberKey: probe(() => kv.delete(6)),
      getObjectKey: probe(() => { kv.put("[object Object]", "coerced"); return kv.get({}); }),
      getArrayKey: probe(() => kv.get(["a", "b"])),
      emptyKey: probe(() => { kv.put("", "empty"); return kv.get(""); }),
      function: probe(() => kv.put("fn", () => 1)),
      method: probe(() => kv.put("fn", { f() {} })),
      symbol: probe(() => kv.put("sym", Symbol("s"))),
      weakMap: probe(() => kv.put("wm", new WeakMap())),
      rpcTarget: probe(() => kv.put("t", new (class extends RpcTarget {})())),
      stub: probe(() => kv.put("stub", this.env.STORE.getByName("other"))),
      failedPutsLeftNothing: ["fn", "sym", "wm", "t", "stub"].map((k) => kv.get(k) === undefined),
    };
    return out;
  }

  readBack() {
    const out = {};
    for (const [k, v] of this.ctx.storage.kv.list({ prefix: "v:" })) out[k.slice(2)] = show(v);
    return out;
  }
}

export default {
  async fetch(request, env) {
    const stub = env.STORE.getByName("s");
    if (new URL(request.url).pathname === "/again") return Response.json(await stub.readBack());
    return Response.json(await stub.write());
  },
};
