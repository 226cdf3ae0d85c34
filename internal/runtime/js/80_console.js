// 80_console.js: console, performance, navigator and scheduler, a lazy unit: an
// isolate that never logs (many dynamic workers) does not pay for them.
// console output goes to the host, which prefixes it with the worker's name.
// The formatting itself (81_inspect.js) loads on the first log line.

const consoleCounts = new Map();
const consoleTimers = new Map();
let consoleIndent = "";
function consoleEmit(level, args) {
  let text = formatLogArgs(args);
  if (consoleIndent) text = consoleIndent + text.replace(/\n/g, "\n" + consoleIndent);
  host.log(level, text);
}
const consoleObject = {
  log: (...a) => consoleEmit("log", a),
  info: (...a) => consoleEmit("info", a),
  warn: (...a) => consoleEmit("warn", a),
  error: (...a) => consoleEmit("error", a),
  debug: (...a) => consoleEmit("debug", a),
  trace: (...a) => consoleEmit("trace", [...a, "\n" + (new Error().stack || "")]),
  dir: (v) => consoleEmit("log", [v]),
  dirxml: (...a) => consoleEmit("log", a),
  table: (v) => consoleEmit("log", [v]),
  assert: (cond, ...a) => { if (!cond) consoleEmit("error", ["Assertion failed" + (a.length ? ":" : ""), ...a]); },
  count: (label = "default") => {
    const n = (consoleCounts.get(label) || 0) + 1;
    consoleCounts.set(label, n);
    consoleEmit("log", [`${label}: ${n}`]);
  },
  countReset: (label = "default") => consoleCounts.delete(label),
  group: (...a) => { if (a.length) consoleEmit("log", a); consoleIndent += "  "; },
  groupCollapsed: (...a) => { if (a.length) consoleEmit("log", a); consoleIndent += "  "; },
  groupEnd: () => { consoleIndent = consoleIndent.slice(2); },
  time: (label = "default") => consoleTimers.set(label, host.now()),
  timeLog: (label = "default", ...a) => consoleEmit("log", [`${label}: ${(host.now() - (consoleTimers.get(label) ?? host.now())).toFixed(3)}ms`, ...a]),
  timeEnd: (label = "default") => {
    consoleEmit("log", [`${label}: ${(host.now() - (consoleTimers.get(label) ?? host.now())).toFixed(3)}ms`]);
    consoleTimers.delete(label);
  },
};
defineGlobal("console", consoleObject);

const perfTimeOrigin = isolateStart;
class Performance {
  get timeOrigin() { return perfTimeOrigin; }
  now() { return host.now() - perfTimeOrigin; }
  toJSON() { return { timeOrigin: perfTimeOrigin }; }
}
defineGlobal("Performance", Performance);
defineGlobal("performance", new Performance());

class Navigator {
  get userAgent() { return "Cloudflare-Workers"; }
  get hardwareConcurrency() { return 1; }
  get language() { return "en"; }
  get languages() { return ["en"]; }
}
defineGlobal("Navigator", Navigator);
defineGlobal("navigator", new Navigator());
// scheduler.wait(ms) is workerd's awaitable setTimeout; a signal that
// aborts rejects it with the signal's reason.
class Scheduler {
  wait(delay = 0, options = undefined) {
    return new Promise((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(id);
        reject(signal.reason);
      };
      const id = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Number(delay) || 0);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  get [Symbol.toStringTag]() { return "Scheduler"; }
}
defineGlobal("scheduler", new Scheduler());

defineGlobal("self", globalThis);
defineGlobal("reportError", function reportError(e) {
  consoleEmit("error", ["Uncaught", e]);
});
