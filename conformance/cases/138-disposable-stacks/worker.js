// DisposableStack, AsyncDisposableStack and SuppressedError (ES2026
// explicit resource management, which workerd's V8 has): use, adopt, defer,
// move, dispose order, errors suppressed during disposal, and using
// declarations (which Isola's bundler lowers) against the reference's own.
export default {
  async fetch() {
    const out = {};
    const log = [];
    {
      const s = new DisposableStack();
      out.proto = Object.getOwnPropertyNames(DisposableStack.prototype).sort();
      out.tag = Object.prototype.toString.call(s);
      const r = { [Symbol.dispose]() { log.push("r"); } };
      out.useReturns = s.use(r) === r;
      out.useNull = s.use(null) === null;
      out.adopt = s.adopt(5, (v) => log.push("adopt " + v));
      s.defer(() => log.push("defer"));
      out.disposedBefore = s.disposed;
      s.dispose();
      out.disposedAfter = s.disposed;
      s.dispose();
      try { s.use(r); out.useAfter = "ok"; } catch (e) { out.useAfter = e.constructor.name + ": " + e.message; }
      try { s.move(); out.moveAfter = "ok"; } catch (e) { out.moveAfter = e.constructor.name + ": " + e.message; }
    }
    out.log = log.slice();
    try { new DisposableStack().use({}); out.useNoDispose = "ok"; } catch (e) { out.useNoDispose = e.constructor.name + ": " + e.message; }
    try { new DisposableStack().use(5); out.useNumber = "ok"; } catch (e) { out.useNumber = e.constructor.name + ": " + e.message; }
    try { new DisposableStack().defer(5); out.deferBad = "ok"; } catch (e) { out.deferBad = e.constructor.name + ": " + e.message; }
    {
      const s = new DisposableStack();
      s.defer(() => { throw new Error("first"); });
      s.defer(() => { throw new Error("second"); });
      try { s.dispose(); } catch (e) {
        out.errors = [e.constructor.name, e.name, e.message, e.error?.message, e.suppressed?.message, e instanceof Error];
      }
    }
    {
      const a = new DisposableStack();
      a.defer(() => log.push("moved"));
      const b = a.move();
      out.move = [a.disposed, b.disposed, b instanceof DisposableStack];
      b.dispose();
      out.moved = log.includes("moved");
    }
    {
      const s = new AsyncDisposableStack();
      out.aproto = Object.getOwnPropertyNames(AsyncDisposableStack.prototype).sort();
      const order = [];
      s.use({ async [Symbol.asyncDispose]() { order.push("async"); } });
      s.use({ [Symbol.dispose]() { order.push("sync"); } });
      s.defer(async () => { order.push("defer"); });
      const p = s.disposeAsync();
      out.disposeAsyncType = Object.prototype.toString.call(p);
      await p;
      out.aorder = order;
      out.adisposed = s.disposed;
    }
    const se = new SuppressedError(new Error("e"), new Error("s"), "msg");
    out.se = [se.name, se.message, se.error.message, se.suppressed.message, se instanceof Error, Object.keys(se), SuppressedError.length];
    out.se2 = [new SuppressedError(1, 2).message, "message" in new SuppressedError(1, 2)];
    out.symbols = [typeof Symbol.dispose, typeof Symbol.asyncDispose];
    const usingLog = [];
    {
      using a = { [Symbol.dispose]() { usingLog.push("a"); } };
      await using b = { async [Symbol.asyncDispose]() { usingLog.push("b"); } };
      usingLog.push("body");
    }
    try {
      using c = { [Symbol.dispose]() { throw new Error("from dispose"); } };
      throw new Error("from body");
    } catch (e) {
      usingLog.push([e.constructor.name, e.error?.message, e.suppressed?.message].join(" "));
    }
    out.using = usingLog;
    return Response.json(out);
  },
};
