// 16_errors.js: V8's Error.captureStackTrace (installed by 90_worker.js), a
// lazy unit: few workers call it, and its code costs every isolate memory.

// errorCaptureStackTrace gives obj a stack in the engine's format, frames
// only. The frames up to and including the latest call of fn are left out,
// as V8 leaves them out (all of them when fn is not on the stack), and
// Error.stackTraceLimit caps the rest.
function errorCaptureStackTrace(obj, fn) {
  if (obj === null || (typeof obj !== "object" && typeof obj !== "function")) throw new TypeError("Invalid argument");
  // The first two frames are this function's and the stub's.
  let frames = new Error().stack.split("\n").slice(2, -1);
  if (typeof fn === "function") {
    const name = fn.name || "<anonymous>";
    const at = frames.findIndex((f) => f === "    at " + name || f.startsWith("    at " + name + " ("));
    frames = at < 0 ? [] : frames.slice(at + 1);
  }
  const limit = Error.stackTraceLimit;
  if (typeof limit === "number" && frames.length > limit) frames = frames.slice(0, Math.max(0, limit));
  defineProperty(obj, "stack", { value: frames.length ? frames.join("\n") + "\n" : "", writable: true, configurable: true });
}
