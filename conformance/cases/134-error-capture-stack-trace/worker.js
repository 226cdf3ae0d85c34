// Error.captureStackTrace and Error.stackTraceLimit, which code written
// for V8 (and many npm packages) uses without checking they exist. Stack
// text differs between engines and is not compared: only its presence,
// type, and that the frames of the constructor passed are left out.
class AppError extends Error {
  constructor(message) {
    super(message);
    this.name = "AppError";
    Error.captureStackTrace(this, AppError);
  }
}

function makeApp() { return new AppError("bad thing"); }

export default {
  fetch() {
    const out = {};
    out.types = [typeof Error.captureStackTrace, Error.captureStackTrace.length, typeof Error.stackTraceLimit, Error.stackTraceLimit];
    const e = makeApp();
    out.appError = [e instanceof AppError, e instanceof Error, e.name, e.message, typeof e.stack, /\bAppError \(/.test(e.stack), e.stack.includes("makeApp")];
    const d = Object.getOwnPropertyDescriptor(e, "stack");
    out.descriptor = d ? [typeof d.value === "string" || typeof d.get === "function", d.enumerable, d.configurable] : null;
    const plain = {};
    const r = Error.captureStackTrace(plain);
    out.plain = [r === undefined, typeof plain.stack, Object.keys(plain)];
    const fn = {};
    (function outer() { (function middle() { Error.captureStackTrace(fn, middle); })(); })();
    out.omitted = [typeof fn.stack, fn.stack.includes("middle")];
    for (const bad of [undefined, null, 1, "s"]) {
      try { Error.captureStackTrace(bad); out["bad_" + String(bad)] = "no error"; }
      catch (err) { out["bad_" + String(bad)] = err instanceof TypeError ? "TypeError" : String(err); }
    }
    const frozen = Object.freeze({});
    try { Error.captureStackTrace(frozen); out.frozen = "no error"; } catch (err) { out.frozen = err.constructor.name; }
    Error.stackTraceLimit = 0;
    out.limitSet = Error.stackTraceLimit;
    Error.stackTraceLimit = 10;
    return Response.json(out);
  },
};
