// WebAssembly basics: a .wasm module imported as a WebAssembly.Module (the
// sources are in conformance/wasm-src/083-wasm-basics), instantiated
// synchronously and asynchronously; reflection on modules, instances and
// exported functions; argument and result conversion for i32, i64 (BigInt),
// f32 and f64; the exports object; exported and standalone globals.
import mod from "./basics.wasm";

const ticks = [];
const imports = { env: { tick: (n) => { ticks.push(n); }, base: 100 } };
const instance = new WebAssembly.Instance(mod, imports);
const ex = instance.exports;

// Each probe answers the value, or the error's class and message.
const run = (fn) => {
  try { return fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
const runAsync = async (fn) => {
  try { return await fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
// Only the class, for errors whose message is the JavaScript engine's own.
const cls = (fn) => {
  try { fn(); return "no error"; } catch (e) { return e.constructor.name; }
};
// JSON cannot show BigInts, NaN, -0 or undefined: spell them out.
const show = (v) => {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number" && (Number.isNaN(v) || !Number.isFinite(v) || Object.is(v, -0))) return Object.is(v, -0) ? "-0" : String(v);
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return v.map(show);
  return v;
};
const tag = (v) => Object.prototype.toString.call(v);

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/reflect") {
      const viaInstantiate = await WebAssembly.instantiate(mod, imports);
      return Response.json({
        isModule: mod instanceof WebAssembly.Module,
        moduleTag: tag(mod),
        instanceTag: tag(instance),
        memoryTag: tag(ex.memory),
        globalTag: tag(ex.counter),
        functionTag: tag(ex.add),
        exports: WebAssembly.Module.exports(mod),
        imports: WebAssembly.Module.imports(mod),
        instantiateIsInstance: viaInstantiate instanceof WebAssembly.Instance,
        instantiateTag: tag(viaInstantiate),
        instantiateKeys: Object.keys(viaInstantiate),
        instantiateAdd: viaInstantiate.exports.add(2, 3),
        separateInstances: viaInstantiate.exports.add !== ex.add,
        separateGlobals: viaInstantiate.exports.counter !== ex.counter,
        instanceKeys: Object.keys(instance),
        instanceOwnNames: Object.getOwnPropertyNames(instance),
        exportsOnPrototype: Object.getOwnPropertyNames(WebAssembly.Instance.prototype).sort(),
        instantiateNoImports: await runAsync(async () => tag(await WebAssembly.instantiate(mod))),
        newInstanceNoNew: run(() => WebAssembly.Instance(mod, imports)),
        newModuleNoArgs: run(() => new WebAssembly.Module()),
      });
    }
    if (path === "/functions") {
      return Response.json({
        name: ex.add.name, nameOfPair: ex.pair.name, nameOfNoop: ex.noop.name,
        length: ex.add.length, lengthOfNeg64: ex.neg64.length, lengthOfNoop: ex.noop.length,
        typeofAdd: typeof ex.add,
        isFunction: ex.add instanceof Function,
        sameEachTime: ex.add === instance.exports.add,
        // V8 prints native code; the name is the function's index.
        string: String(ex.add),
        add: ex.add(2, 3),
        addStrings: ex.add("3", "4"),
        addNone: ex.add(),
        addOne: ex.add(5),
        addExtra: ex.add(1, 2, 3),
        addFloats: ex.add(1.9, -2.9),
        addWrap: ex.add(2 ** 31, 0),
        addBig: ex.add(2 ** 32 + 5, 0),
        addNaN: ex.add(NaN, Infinity),
        addNull: ex.add(null, true),
        addValueOf: ex.add({ valueOf() { return 5; } }, 1),
        addBigInt: run(() => ex.add(1n, 2)),
        addSymbol: cls(() => ex.add(Symbol("s"), 1)),
        id32Negative: ex.id32(-1),
        id32Unsigned: ex.id32(0xffffffff),
        add64: show(ex.add64(2n ** 40n, 1n)),
        add64Typeof: typeof ex.add64(1n, 2n),
        add64Wrap: show(ex.add64(2n ** 63n - 1n, 1n)),
        add64Big: show(ex.add64(2n ** 64n + 3n, 0n)),
        add64String: show(ex.add64("5", 2n)),
        add64Bool: show(ex.add64(true, 1n)),
        add64Number: run(() => ex.add64(1, 2n)),
        add64Undefined: run(() => ex.add64(undefined, 2n)),
        add64Missing: run(() => ex.add64(1n)),
        add64BadString: run(() => ex.add64("x", 2n)),
        neg64: show(ex.neg64(1n)),
        neg64Min: show(ex.neg64(-(2n ** 63n))),
        mulf32: show(ex.mulf32(1.1, 3)),
        mulf32Huge: show(ex.mulf32(3e38, 10)),
        mulf32String: show(ex.mulf32("2", "0.25")),
        divf64: show(ex.divf64(1, 3)),
        divf64ByZero: show(ex.divf64(1, 0)),
        divf64NegZero: show(ex.divf64(-0, 1)),
        divf64NaN: show(ex.divf64(0, 0)),
        divf64Undefined: show(ex.divf64(undefined, 1)),
        noop: show(ex.noop()),
        pair: show(ex.pair(-5)),
        pairIsArray: Array.isArray(ex.pair(1)),
        addBase: ex.addBase(1),
        callTick: show(ex.callTick(9)),
        ticks,
        construct: cls(() => new ex.add(1, 2)),
        callWithThis: ex.add.call({}, 4, 4),
      });
    }
    if (path === "/exports") {
      return Response.json({
        keys: Object.keys(ex),
        frozen: Object.isFrozen(ex),
        extensible: Object.isExtensible(ex),
        nullPrototype: Object.getPrototypeOf(ex) === null,
        descriptor: (({ writable, enumerable, configurable }) => ({ writable, enumerable, configurable }))(Object.getOwnPropertyDescriptor(ex, "add")),
        sameObject: instance.exports === ex,
        assign: cls(() => { ex.add = 1; }),
        addProperty: cls(() => { ex.extra = 1; }),
        deleteProperty: cls(() => { delete ex.add; }),
        tag: tag(ex),
        isMemory: ex.memory instanceof WebAssembly.Memory,
        isGlobal: ex.counter instanceof WebAssembly.Global,
        memoryBytes: ex.memory.buffer.byteLength,
      });
    }
    if (path === "/globals") {
      const out = {};
      out.counter = ex.counter.value;
      out.counterValueOf = ex.counter.valueOf();
      ex.counter.value = 10;
      out.afterSet = ex.counter.value;
      out.incCounter = ex.incCounter();
      out.afterInc = ex.counter.value;
      ex.counter.value = "20.7";
      out.setString = ex.counter.value;
      ex.counter.value = 2 ** 32 + 1;
      out.setWrap = ex.counter.value;
      out.answer = ex.answer.value;
      out.setImmutable = run(() => { ex.answer.value = 1; });
      out.answerAfter = ex.answer.value;
      out.big = show(ex.big.value);
      out.bigValueOf = show(ex.big.valueOf());
      out.setBigNumber = run(() => { ex.big.value = 5; });
      ex.big.value = -(2n ** 63n) - 1n;
      out.setBigWrap = show(ex.big.value);
      out.pi = ex.pi.value;
      ex.half.value = 0.1;
      out.halfAfterSet = ex.half.value;
      out.setValueMissing = run(() => { ex.half.value = undefined; return show(ex.half.value); });
      out.globalOwnNames = Object.getOwnPropertyNames(WebAssembly.Global.prototype).sort();
      // Standalone globals.
      const g = new WebAssembly.Global({ value: "i32", mutable: true }, 5);
      out.standalone = g.value;
      g.value = 6;
      out.standaloneSet = g.value;
      out.standaloneDefault = new WebAssembly.Global({ value: "i32" }).value;
      out.standaloneF64Default = new WebAssembly.Global({ value: "f64" }).value;
      out.standaloneI64 = show(new WebAssembly.Global({ value: "i64" }, 3n).value);
      out.standaloneI64Default = show(new WebAssembly.Global({ value: "i64" }).value);
      out.standaloneI64Number = run(() => new WebAssembly.Global({ value: "i64" }, 3).value);
      out.standaloneF32 = new WebAssembly.Global({ value: "f32" }, 1.1).value;
      out.standaloneImmutable = run(() => { new WebAssembly.Global({ value: "i32" }, 1).value = 2; });
      out.badType = run(() => new WebAssembly.Global({ value: "x" }, 1));
      out.noDescriptor = run(() => new WebAssembly.Global());
      out.noNew = run(() => WebAssembly.Global({ value: "i32" }, 1));
      out.valueOnNonGlobal = run(() => Object.getOwnPropertyDescriptor(WebAssembly.Global.prototype, "value").get.call({}));
      // A standalone global given as an import; instances see the same cell.
      const base = new WebAssembly.Global({ value: "i32", mutable: false }, 1000);
      const inst = new WebAssembly.Instance(mod, { env: { tick() {}, base } });
      out.importedGlobal = inst.exports.addBase(1);
      out.importMutableMismatch = run(() => new WebAssembly.Instance(mod, { env: { tick() {}, base: new WebAssembly.Global({ value: "i32", mutable: true }, 1) } }));
      out.importWrongType = run(() => new WebAssembly.Instance(mod, { env: { tick() {}, base: new WebAssembly.Global({ value: "i64" }, 1n) } }));
      out.importNumberAsGlobalString = run(() => new WebAssembly.Instance(mod, { env: { tick() {}, base: "7" } }));
      out.importBigIntAsI32Global = run(() => new WebAssembly.Instance(mod, { env: { tick() {}, base: 7n } }));
      return Response.json(out);
    }
    return new Response("not found", { status: 404 });
  },
};
