// AbortController/AbortSignal: abort() fires "abort" once, records the
// reason (an AbortError DOMException by default), and throwIfAborted throws
// it; AbortSignal.abort and AbortSignal.any.
export default {
  async fetch() {
    const describe = (r) => (r instanceof DOMException ? `DOMException ${r.name} code ${r.code}` : r instanceof Error ? `${r.name}: ${r.message}` : JSON.stringify(r));
    const out = {};
    const ac = new AbortController();
    const events = [];
    ac.signal.addEventListener("abort", (e) => events.push(["listener", e.type, e.target === ac.signal]));
    ac.signal.onabort = () => events.push(["onabort"]);
    out.before = [ac.signal.aborted, ac.signal.reason === undefined];
    out.throwBefore = (() => { try { ac.signal.throwIfAborted(); return "no error"; } catch (e) { return describe(e); } })();
    ac.abort();
    ac.abort(); // a second abort is ignored
    out.events = events;
    out.after = [ac.signal.aborted, describe(ac.signal.reason)];
    out.throwAfter = (() => { try { ac.signal.throwIfAborted(); return "no error"; } catch (e) { return describe(e); } })();

    const custom = new AbortController();
    custom.abort("custom reason");
    out.customReason = describe(custom.signal.reason);
    const errReason = new AbortController();
    errReason.abort(new TypeError("typed reason"));
    out.errorReason = describe(errReason.signal.reason);

    out.staticAbort = [AbortSignal.abort().aborted, describe(AbortSignal.abort().reason), describe(AbortSignal.abort(42).reason)];

    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    out.anyBefore = any.aborted;
    b.abort("from b");
    out.anyAfter = [any.aborted, describe(any.reason)];
    out.anyAlready = describe(AbortSignal.any([AbortSignal.abort("pre")]).reason);
    out.isEventTarget = ac.signal instanceof EventTarget;
    out.constructSignal = (() => { try { new AbortSignal(); return "no error"; } catch (e) { return e.name; } })();
    return Response.json(out);
  },
};
