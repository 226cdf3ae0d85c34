// WebAssembly traps (sources in conformance/wasm-src/086-wasm-traps): each
// kind of trap's error class and message, stack overflow, a trap in a start
// function, and the instance staying usable after a trap.
import mod from "./traps.wasm";
import startTrapMod from "./starttrap.wasm";

const ex = new WebAssembly.Instance(mod).exports;

// Isola's engine (wazero) reports a remainder by zero as a division by
// zero, a float out of an integer's range as a division's overflow, and a
// call through a null table slot as one past the table's end: for those
// only the class is compared (case.json's "differs").
const trapClass = (fn) => {
  try { fn(); return "no error"; } catch (e) { return e.constructor.name; }
};

const trap = (fn) => {
  try { const v = fn(); return { value: typeof v === "bigint" ? `${v}n` : v }; } catch (e) {
    return {
      error: `${e.constructor.name}: ${e.message}`,
      name: e.name,
      isRuntimeError: e instanceof WebAssembly.RuntimeError,
      isError: e instanceof Error,
      ownKeys: Object.keys(e),
    };
  }
};

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/traps") {
      return Response.json({
        ok: trap(() => ex.ok()),
        unreachable: trap(() => ex.unreachable()),
        divByZero: trap(() => ex.divS(1, 0)),
        divUByZero: trap(() => ex.divU(1, 0)),
        remByZero: trapClass(() => ex.remS(1, 0)),
        remOverflowIsZero: trap(() => ex.remS(-2147483648, -1)),
        divOverflow: trap(() => ex.divS(-2147483648, -1)),
        div64Overflow: trap(() => ex.div64(-(2n ** 63n), -1n)),
        div64ByZero: trap(() => ex.div64(1n, 0n)),
        loadOutOfBounds: trap(() => ex.load(65536)),
        loadStraddling: trap(() => ex.load(65534)),
        loadLastWord: trap(() => ex.load(65532)),
        loadNegative: trap(() => ex.load(-1)),
        storeOutOfBounds: trap(() => ex.store(70000)),
        truncNaN: trap(() => ex.truncS(NaN)),
        truncOverflow: trapClass(() => ex.truncS(1e10)),
        truncUNegative: trapClass(() => ex.truncU(-1)),
        truncOk: trap(() => ex.truncS(-3.9)),
        truncSat: [ex.truncSat(NaN), ex.truncSat(1e10), ex.truncSat(-1e10)],
        callIndirectOk: trap(() => ex.callIndirect(0, 41)),
        callIndirectNull: trapClass(() => ex.callIndirect(2, 1)),
        callIndirectSignature: trap(() => ex.callIndirect(1, 1)),
        callIndirectOutOfTable: trap(() => ex.callIndirect(10, 1)),
        stackOverflow: trap(() => ex.recurse(0)),
        okAfterTraps: trap(() => ex.ok()),
      });
    }
    if (path === "/details") {
      const out = {};
      let first, second;
      try { ex.unreachable(); } catch (e) { first = e; }
      try { ex.unreachable(); } catch (e) { second = e; }
      out.freshErrorEachTime = first !== second;
      out.prototypeChain = Object.getPrototypeOf(WebAssembly.RuntimeError.prototype) === Error.prototype;
      out.runtimeErrorName = WebAssembly.RuntimeError.prototype.name;
      out.stackIsString = typeof first.stack === "string";
      out.constructed = (({ name, message }) => ({ name, message }))(new WebAssembly.RuntimeError("made by hand"));
      out.constructedWithoutNew = WebAssembly.RuntimeError("no new") instanceof WebAssembly.RuntimeError;
      out.toString = String(new WebAssembly.RuntimeError("x"));
      // Trap in the start function: instantiation fails, sync and async.
      out.startTrap = trap(() => new WebAssembly.Instance(startTrapMod));
      try { await WebAssembly.instantiate(startTrapMod); out.startTrapAsync = "no error"; } catch (e) {
        out.startTrapAsync = `${e.constructor.name}: ${e.message}`;
      }
      // Catching a trap in JavaScript, then trapping again from a promise job.
      out.inPromise = await Promise.resolve().then(() => ex.divS(1, 0)).then(() => "no error", (e) => `${e.constructor.name}: ${e.message}`);
      return Response.json(out);
    }
    return new Response("not found", { status: 404 });
  },
};
