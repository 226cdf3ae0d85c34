// Errors thrown inside the dynamic worker reject the caller's promise: the
// built-in Error subclass, name and message cross over (stack is not
// compared); custom classes, extra properties and thrown non-errors are
// reported as workerd delivers them.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      class MyError extends Error {
        constructor(m) { super(m); this.name = "MyError"; this.code = 42; }
      }
      export default class extends WorkerEntrypoint {
        plain() { throw new Error("plain failure"); }
        typeError() { throw new TypeError("bad type"); }
        rangeError() { throw new RangeError("out of range"); }
        syntaxError() { throw new SyntaxError("bad syntax"); }
        referenceError() { return undefinedVariable + 1; }
        evalError() { throw new EvalError("eval"); }
        uriError() { decodeURIComponent("%"); }
        custom() { throw new MyError("custom failure"); }
        withProps() { const e = new Error("with props"); e.code = "E_CODE"; e.detail = { n: 1 }; throw e; }
        withCause() { throw new Error("outer", { cause: new TypeError("inner") }); }
        aggregate() { throw new AggregateError([new Error("a")], "many"); }
        domException() { throw new DOMException("dom failure", "AbortError"); }
        async asyncReject() { await null; throw new TypeError("async failure"); }
        rejectedPromise() { return Promise.reject(new RangeError("rejected")); }
        throwString() { throw "a string"; }
        throwNumber() { throw 7; }
        throwObject() { throw { message: "an object", name: "Fake" }; }
        throwNull() { throw null; }
        emptyMessage() { throw new Error(); }
        fetch() { throw new Error("fetch handler failure"); }
      }
    `,
  },
};

const engineWorded = new Set(["ReferenceError", "URIError"]);

const describe = (e) => {
  if (!(e instanceof Error)) return { notAnError: true, type: typeof e, value: e && typeof e === "object" ? JSON.stringify(e) : String(e) };
  const d = {
    name: e.name,
    // The engine words its own messages (ReferenceError, URIError), so
    // only messages the worker wrote are compared.
    message: engineWorded.has(e.name) ? "<engine message>" : e.message,
    isError: true,
    ctor: e.constructor.name,
    isTypeError: e instanceof TypeError,
    isRangeError: e instanceof RangeError,
    isDOMException: e instanceof DOMException,
    hasStack: typeof e.stack === "string",
  };
  // workerd marks errors that crossed RPC with remote = true.
  for (const k of ["code", "detail", "remote"]) if (k in e) d[k] = e[k];
  if ("cause" in e) d.cause = e.cause instanceof Error ? e.cause.name + ": " + e.cause.message : e.cause;
  if ("errors" in e) d.errors = Array.isArray(e.errors) ? e.errors.map(String) : String(e.errors);
  return d;
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("errors", () => code).getEntrypoint();
    const methods = ["plain", "typeError", "rangeError", "syntaxError", "referenceError", "evalError",
      "uriError", "custom", "withProps", "withCause", "aggregate", "domException", "asyncReject",
      "rejectedPromise", "throwString", "throwNumber", "throwObject", "throwNull", "emptyMessage"];
    const out = {};
    for (const m of methods) {
      try {
        out[m] = { resolved: await ep[m]() };
      } catch (e) {
        out[m] = describe(e);
      }
    }
    try {
      out.fetch = { resolved: (await ep.fetch("http://x/")).status };
    } catch (e) {
      out.fetch = describe(e);
    }
    // The isolate survives its errors.
    out.stillWorks = await ep.plain().catch((e) => "again: " + e.message);
    return Response.json(out);
  },
};
