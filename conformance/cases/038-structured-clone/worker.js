// structuredClone: deep copies of the supported types, shared references and
// cycles kept, DataCloneError for what cannot be cloned.
export default {
  async fetch() {
    const err = (fn) => { try { fn(); return "no error"; } catch (e) { return `${e.name} (DOMException: ${e instanceof DOMException})`; } };
    const shared = { s: 1 };
    const src = {
      num: 1.5, str: "s", bool: true, nul: null, undef: undefined, big: 10n,
      date: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)),
      re: /ab+c/gi,
      map: new Map([["k", { v: 1 }]]),
      set: new Set([1, "two"]),
      arr: [1, , 3],
      bytes: new Uint8Array([1, 2, 3]),
      nested: { a: shared, b: shared },
      err: new RangeError("cloned error"),
    };
    src.self = src;
    const c = structuredClone(src);
    const buf = new ArrayBuffer(4);
    const moved = structuredClone(buf, { transfer: [buf] });
    return Response.json({
      notSame: c !== src,
      num: c.num, str: c.str, bool: c.bool, nul: c.nul, undefKept: "undef" in c && c.undef === undefined,
      big: typeof c.big === "bigint" && c.big === 10n,
      date: [c.date instanceof Date, c.date.toISOString()],
      re: [c.re instanceof RegExp, c.re.source, c.re.flags],
      map: [c.map instanceof Map, c.map.get("k").v, c.map.get("k") !== src.map.get("k")],
      set: [c.set instanceof Set, [...c.set]],
      holes: [c.arr.length, 1 in c.arr],
      bytes: [c.bytes instanceof Uint8Array, [...c.bytes]],
      sharedKept: c.nested.a === c.nested.b,
      cycleKept: c.self === c,
      err: [c.err instanceof RangeError, c.err.message],
      transfer: [buf.byteLength, moved.byteLength],
      prototypeDropped: (() => { class K { x = 1; } const k = structuredClone(new K()); return [k instanceof K, k.x]; })(),
      fn: err(() => structuredClone(() => 1)),
      fnInside: err(() => structuredClone({ f() {} })),
      symbol: err(() => structuredClone(Symbol("s"))),
      weakMap: err(() => structuredClone(new WeakMap())),
      noArgs: err(() => structuredClone()),
      primitive: structuredClone("just a string"),
    });
  },
};
