// RPC arguments and results are structured clones: every supported type
// arrives as the same type on the other side, in both directions.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      const describe = (v) => {
        if (v === null) return "null";
        if (typeof v !== "object") return typeof v + ":" + String(v) + (Object.is(v, -0) ? "(-0)" : "");
        const tag = Object.prototype.toString.call(v);
        if (v instanceof Date) return "Date:" + v.toISOString();
        if (v instanceof Map) return "Map:" + JSON.stringify([...v]);
        if (v instanceof Set) return "Set:" + JSON.stringify([...v]);
        if (v instanceof RegExp) return "RegExp:" + v.source + "/" + v.flags;
        if (v instanceof ArrayBuffer) return "ArrayBuffer:" + [...new Uint8Array(v)];
        if (ArrayBuffer.isView(v)) return v.constructor.name + ":" + [...(v instanceof DataView ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v)];
        if (v instanceof Error) return "Error:" + v.name + ":" + v.message;
        if (Array.isArray(v)) return "Array:" + v.length + ":" + JSON.stringify(v);
        return tag + ":" + JSON.stringify(v);
      };
      export default class extends WorkerEntrypoint {
        describeArgs(...args) { return args.map(describe); }
        echo(v) { return v; }
        countArgs(...args) { return args.length; }
        make() {
          const shared = { s: 1 };
          return {
            date: new Date(Date.UTC(2001, 8, 9, 1, 46, 40)),
            map: new Map([[1, "one"], ["two", 2]]),
            set: new Set([3, 4]),
            re: /a.c/m,
            buf: new Uint8Array([1, 2, 3]).buffer,
            u8: new Uint8Array([4, 5]),
            i32: new Int32Array([-1, 2]),
            f64: new Float64Array([0.5]),
            big: -42n,
            undef: undefined,
            nul: null,
            nan: NaN,
            negZero: -0,
            inf: -Infinity,
            holes: [1, , 3],
            a: shared, b: shared,
            err: new RangeError("made here"),
          };
        }
      }
    `,
  },
};

const describe = (v) => {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v + ":" + String(v) + (Object.is(v, -0) ? "(-0)" : "");
  if (v instanceof Date) return "Date:" + v.toISOString();
  if (v instanceof Map) return "Map:" + JSON.stringify([...v]);
  if (v instanceof Set) return "Set:" + JSON.stringify([...v]);
  if (v instanceof RegExp) return "RegExp:" + v.source + "/" + v.flags;
  if (v instanceof ArrayBuffer) return "ArrayBuffer:" + [...new Uint8Array(v)];
  if (ArrayBuffer.isView(v)) return v.constructor.name + ":" + [...(v instanceof DataView ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v)];
  if (v instanceof Error) return "Error:" + v.name + ":" + v.message;
  if (Array.isArray(v)) return "Array:" + v.length + ":" + JSON.stringify(v);
  return Object.prototype.toString.call(v) + ":" + JSON.stringify(v);
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("clone", () => code).getEntrypoint();
    const out = {};
    out.args = await probe(() => ep.describeArgs(
      new Date(Date.UTC(2020, 0, 2, 3, 4, 5)),
      new Map([["k", { v: 1 }]]),
      new Set([1, "two"]),
      /ab+c/gi,
      new Uint8Array([1, 2, 3]).buffer,
      new Uint8Array([7, 8]),
      new Uint16Array([65535]),
      new Float32Array([1.5]),
      new DataView(new Uint8Array([9, 10, 11]).buffer, 1, 2),
      123n,
      undefined,
      null,
      NaN,
      -0,
      "str",
      true,
      [1, [2, [3]]],
      { nested: { deep: true } },
      new TypeError("as an argument"),
    ));
    out.argCountWithTrailingUndefined = await probe(() => ep.countArgs(1, undefined, undefined));
    out.argCountNone = await probe(() => ep.countArgs());
    const made = await ep.make();
    out.results = Object.fromEntries(Object.entries(made).map(([k, v]) => [k, describe(v)]));
    out.undefKept = "undef" in made;
    out.sharedKept = made.a === made.b;
    out.holes = [made.holes.length, 1 in made.holes];
    out.errIsRangeError = made.err instanceof RangeError;
    out.echoUndefined = describe(await ep.echo(undefined));
    out.echoBig = describe(await ep.echo(2n ** 70n));
    out.echoCycle = await probe(async () => { const o = { name: "cyc" }; o.self = o; const r = await ep.echo(o); return [r.name, r.self === r]; });
    out.echoClassInstance = await probe(async () => {
      class Point { constructor() { this.x = 1; } get y() { return 2; } }
      const r = await ep.echo(new Point());
      return [Object.prototype.toString.call(r), JSON.stringify(r), r instanceof Point];
    });
    out.echoBoxedString = await probe(async () => describe(await ep.echo(new String("boxed"))));
    out.echoSymbol = await probe(() => ep.echo(Symbol("s")));
    out.echoWeakMap = await probe(() => ep.echo(new WeakMap()));
    // Symbol keys are not cloned (the result object gets Symbol.dispose added).
    out.symbolKeys = await probe(async () => {
      const r = await ep.echo({ [Symbol("k")]: 1, a: 1 });
      return [Object.keys(r), Object.getOwnPropertySymbols(r).map(String)];
    });
    return Response.json(out);
  },
};
