// 85_process.js: the `process` global. A lazy unit.

// A small `process`, as workerd has one (its Node.js compatibility layer is
// on by default at current compatibility dates); enough for libraries that
// probe process.env or process.nextTick.
defineGlobal("process", {
  env: {},
  version: "v22.0.0",
  versions: { node: "22.0.0" },
  platform: "linux",
  arch: "x64",
  argv: [],
  argv0: "node",
  execArgv: [],
  title: "workerd",
  pid: 1,
  ppid: 0,
  features: {},
  exitCode: undefined,
  cwd() { return "/"; },
  chdir() { throw new Error("process.chdir() is not supported"); },
  umask() { return 0o22; },
  nextTick(fn, ...args) { queueMicrotask(() => fn(...args)); },
  emitWarning(w) { consoleEmit("warn", [w]); },
  hrtime: Object.assign(function hrtime(prev) {
    const ns = BigInt(Math.round(host.now() * 1e6));
    const t = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
    if (!prev) return t;
    let s = t[0] - prev[0], n = t[1] - prev[1];
    if (n < 0) { s--; n += 1e9; }
    return [s, n];
  }, { bigint() { return BigInt(Math.round(host.now() * 1e6)); } }),
  uptime() { return (host.now() - performance.timeOrigin) / 1000; },
  memoryUsage() { return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }; },
  exit() { throw new Error("process.exit() is not supported in Workers"); },
  abort() { throw new Error("process.abort() is not supported in Workers"); },
  on() { return this; },
  once() { return this; },
  off() { return this; },
  emit() { return false; },
});

