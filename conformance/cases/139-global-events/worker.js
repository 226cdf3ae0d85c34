// The global scope's addEventListener in a module worker: unhandledrejection
// for a rejection nobody handled by the end of a turn, rejectionhandled once
// it gets a handler, both PromiseRejectionEvents; ErrorEvent; and that code
// may not construct a PromiseRejectionEvent itself.
const seen = [];
addEventListener("unhandledrejection", (e) => {
  seen.push(["unhandledrejection", Object.prototype.toString.call(e), e.type, String(e.reason && e.reason.message), e.promise instanceof Promise, typeof PromiseRejectionEvent === "function" && e instanceof PromiseRejectionEvent, e.cancelable]);
});
addEventListener("rejectionhandled", (e) => { seen.push(["rejectionhandled", Object.prototype.toString.call(e)]); });
export default {
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/reject") {
      const p = Promise.reject(new Error("nobody"));
      await scheduler.wait(20);
      p.catch(() => {});
      await scheduler.wait(20);
      return Response.json(seen);
    }
    const out = {};
    out.types = ["ErrorEvent", "PromiseRejectionEvent", "Event", "EventTarget"].map((n) => typeof globalThis[n]);
    try {
      const ev = new PromiseRejectionEvent("unhandledrejection", { promise: Promise.resolve(), reason: 5 });
      out.construct = [ev.type, ev.reason, ev.promise instanceof Promise, ev.cancelable];
    } catch (e) { out.construct = e.constructor.name + ": " + e.message; }
    try {
      const ev = new ErrorEvent("error", { message: "m", error: new Error("x"), filename: "f", lineno: 2, colno: 3 });
      out.errorEvent = [ev.type, ev.message, ev.error.message, ev.filename, ev.lineno, ev.colno];
    } catch (e) { out.errorEvent = e.constructor.name + ": " + e.message; }
    return Response.json(out);
  },
};
