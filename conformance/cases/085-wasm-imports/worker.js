// WebAssembly imports (sources in conformance/wasm-src/085-wasm-imports):
// JavaScript functions called from wasm, errors thrown through wasm,
// re-entrancy, linking errors, and another instance's exports as imports.
import mod from "./imports.wasm";
import helperMod from "./helper.wasm";
import kindsMod from "./kinds.wasm";

const run = (fn) => {
  try { return fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
const runAsync = async (fn) => {
  try { return await fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
const show = (v) => (typeof v === "bigint" ? `${v}n` : v === undefined ? "undefined" : v);

const helper = new WebAssembly.Instance(helperMod).exports;

function makeEnv(log) {
  let self;
  const env = {
    log: function (...args) { log.push({ args, thisIsUndefined: this === undefined }); return "ignored"; },
    now: () => 2.5,
    big: (x) => { log.push({ big: show(x), type: typeof x }); return x * 2n; },
    boom: () => { throw env.error; },
    reenter: (n) => self.fact(n),
    ext: (x) => x + 1000,
    error: new Error("from JavaScript"),
  };
  return { env, setSelf: (s) => { self = s; } };
}

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/calls") {
      const log = [];
      const { env, setSelf } = makeEnv(log);
      const ex = new WebAssembly.Instance(mod, { env }).exports;
      setSelf(ex);
      const out = {};
      out.callLog = show(ex.callLog(21));
      out.callNow = ex.callNow();
      out.callBig = show(ex.callBig(2n ** 40n));
      out.fact = ex.fact(10);
      out.callExt = ex.callExt(1);
      out.log = log;
      // Results of imported functions are converted like arguments.
      const convert = (overrides) => new WebAssembly.Instance(mod, { env: { ...env, ...overrides } }).exports;
      out.nowString = convert({ now: () => "4.5" }).callNow();
      out.nowUndefined = String(convert({ now: () => {} }).callNow());
      out.nowBigInt = run(() => convert({ now: () => 1n }).callNow());
      out.bigNumber = run(() => convert({ big: () => 5 }).callBig(1n));
      out.bigString = show(convert({ big: () => "41" }).callBig(1n));
      out.extFloat = convert({ ext: () => 7.9 }).callExt(0);
      out.extObject = convert({ ext: () => ({ valueOf: () => 12 }) }).callExt(0);
      // A bound function and a class are callable, so they link.
      out.boundImport = convert({ ext: function (x) { return this.k + x; }.bind({ k: 300 }) }).callExt(1);
      out.proxyImport = convert({ ext: new Proxy((x) => x * 3, {}) }).callExt(5);
      try { convert({ ext: class {} }).callExt(1); out.classImport = "no error"; } catch (e) { out.classImport = e.constructor.name; }
      out.importReadOnce = (() => {
        let reads = 0;
        const e2 = { ...env };
        Object.defineProperty(e2, "ext", { get() { reads++; return (x) => x; }, enumerable: true });
        const inst = new WebAssembly.Instance(mod, { env: e2 });
        inst.exports.callExt(1); inst.exports.callExt(2);
        return reads;
      })();
      return Response.json(out);
    }
    if (path === "/throws") {
      const log = [];
      const { env, setSelf } = makeEnv(log);
      const ex = new WebAssembly.Instance(mod, { env }).exports;
      setSelf(ex);
      const out = {};
      try { ex.callBoom(); out.boom = "no error"; } catch (e) {
        out.boom = `${e.constructor.name}: ${e.message}`;
        out.sameObject = e === env.error;
        out.isRuntimeError = e instanceof WebAssembly.RuntimeError;
      }
      env.error = "a plain string";
      try { ex.callBoom(); } catch (e) { out.thrownString = e === "a plain string"; }
      env.error = undefined;
      try { ex.callBoom(); out.thrownUndefined = "no error"; } catch (e) { out.thrownUndefined = e === undefined; }
      const custom = new TypeError("custom type error");
      env.error = custom;
      try { ex.callBoom(); } catch (e) { out.thrownTypeError = e === custom; }
      // A trap in wasm called back from JavaScript called from wasm.
      const nested = new WebAssembly.Instance(mod, { env: { ...env, ext: () => { ex.trap(); } } }).exports;
      try { nested.callExt(1); } catch (e) {
        out.nestedTrap = `${e.constructor.name}: ${e.message}`;
        out.nestedIsRuntimeError = e instanceof WebAssembly.RuntimeError;
      }
      // Catching the JavaScript error in the middle leaves wasm usable.
      out.usableAfter = ex.fact(5);
      // An async import returns a Promise, which is not a number.
      out.asyncImport = run(() => new WebAssembly.Instance(mod, { env: { ...env, ext: async () => 1 } }).exports.callExt(1));
      return Response.json(out);
    }
    if (path === "/link") {
      const { env } = makeEnv([]);
      const out = {};
      out.noImports = run(() => new WebAssembly.Instance(mod));
      out.importsNotObject = run(() => new WebAssembly.Instance(mod, 5));
      out.emptyImports = run(() => new WebAssembly.Instance(mod, {}));
      out.moduleNotObject = run(() => new WebAssembly.Instance(mod, { env: 1 }));
      out.moduleIsFunction = run(() => new WebAssembly.Instance(mod, { env: Object.assign(() => {}, env) }) instanceof WebAssembly.Instance);
      out.missingField = run(() => new WebAssembly.Instance(mod, { env: {} }));
      out.missingLaterField = run(() => new WebAssembly.Instance(mod, { env: { ...env, reenter: undefined } }));
      out.notFunction = run(() => new WebAssembly.Instance(mod, { env: { ...env, log: 5 } }));
      out.notFunctionObject = run(() => new WebAssembly.Instance(mod, { env: { ...env, log: {} } }));
      out.asyncMissingField = await runAsync(() => WebAssembly.instantiate(mod, { env: {} }));
      out.asyncEmptyImports = await runAsync(() => WebAssembly.instantiate(mod, {}));
      out.asyncNotFunction = await runAsync(() => WebAssembly.instantiate(mod, { env: { ...env, now: "x" } }));
      out.asyncRejectsNotThrows = (() => {
        try { const p = WebAssembly.instantiate(mod, {}); p.catch(() => {}); return p instanceof Promise; } catch { return "threw"; }
      })();
      out.extraImportsIgnored = run(() => new WebAssembly.Instance(mod, { env: { ...env, unused: 1 }, other: 5 }) instanceof WebAssembly.Instance);
      // Every import kind, each missing or wrong in turn.
      const good = {
        f: (x) => x,
        g: 5,
        mg: new WebAssembly.Global({ value: "i64", mutable: true }, 9n),
        mem: new WebAssembly.Memory({ initial: 1, maximum: 2 }),
        tbl: new WebAssembly.Table({ element: "anyfunc", initial: 2 }),
      };
      const kinds = (m) => run(() => { const k = new WebAssembly.Instance(kindsMod, { m: { ...good, ...m } }).exports; return [k.readG(), show(k.readMG())]; });
      out.kindsGood = kinds({});
      out.kindsGlobalAsGlobalObject = kinds({ g: new WebAssembly.Global({ value: "i32" }, 6) });
      out.kindsGlobalMissing = kinds({ g: undefined });
      out.kindsGlobalWrongType = kinds({ g: 5n });
      out.kindsMutableGlobalAsNumber = kinds({ mg: 9n });
      out.kindsMemoryMissing = kinds({ mem: undefined });
      out.kindsMemoryWrong = kinds({ mem: new ArrayBuffer(65536) });
      out.kindsMemoryTooSmall = kinds({ mem: new WebAssembly.Memory({ initial: 0, maximum: 2 }) });
      out.kindsMemoryNoMaximum = kinds({ mem: new WebAssembly.Memory({ initial: 1 }) });
      out.kindsMemoryMaximumTooBig = kinds({ mem: new WebAssembly.Memory({ initial: 1, maximum: 3 }) });
      out.kindsTableMissing = kinds({ tbl: undefined });
      out.kindsTableWrong = kinds({ tbl: [] });
      out.kindsTableTooSmall = kinds({ tbl: new WebAssembly.Table({ element: "anyfunc", initial: 1 }) });
      out.kindsTableExternref = kinds({ tbl: new WebAssembly.Table({ element: "externref", initial: 2 }) });
      return Response.json(out);
    }
    if (path === "/instance-exports") {
      const { env } = makeEnv([]);
      const out = {};
      // Another instance's exported function, of the right type, as an import.
      const ex = new WebAssembly.Instance(mod, { env: { ...env, ext: helper.double } }).exports;
      out.wasmImport = ex.callExt(21);
      // Of the wrong type: a LinkError at instantiation.
      out.wrongSignature = run(() => new WebAssembly.Instance(mod, { env: { ...env, ext: helper.wrong } }));
      out.wrongSignatureAsync = await runAsync(() => WebAssembly.instantiate(mod, { env: { ...env, ext: helper.wrong } }));
      // A JavaScript function wrapping the wrong-typed export links (it is just a function).
      out.wrappedWrongSignature = new WebAssembly.Instance(mod, { env: { ...env, ext: (x) => helper.wrong(x) } }).exports.callExt(8);
      // Re-exporting: imports.wasm does not re-export, but the same function
      // object given to two instances works in both.
      const a = new WebAssembly.Instance(mod, { env: { ...env, ext: helper.double } }).exports;
      const b = new WebAssembly.Instance(mod, { env: { ...env, ext: helper.double } }).exports;
      out.shared = [a.callExt(1), b.callExt(2)];
      return Response.json(out);
    }
    return new Response("not found", { status: 404 });
  },
};
