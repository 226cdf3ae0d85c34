// Two things the reference's runtime has that QuickJS does not: workerd's
// scheduler.wait (an awaitable setTimeout that an AbortSignal can cut
// short) and ES2024's Array.fromAsync (async and sync iterables, array-likes,
// mapfn, a constructor as this, and its errors).
export default {
  async fetch(request) {
    const out = {};
    out.schedulerWait = typeof scheduler.wait;
    const t0 = Date.now(); await scheduler.wait(20); out.waited = Date.now() - t0 >= 19;
    out.schedulerKeys = Object.getOwnPropertyNames(Object.getPrototypeOf(scheduler)).sort();
    out.fromAsync = await Array.fromAsync((async function* () { yield 1; yield 2; })());
    out.fromAsyncSync = await Array.fromAsync([Promise.resolve(3), 4], (x, i) => x * 10 + i);
    out.fromAsyncArrayLike = await Array.fromAsync({ length: 2, 0: "a", 1: Promise.resolve("b") });
    out.fromAsyncLen = Array.fromAsync.length;
    out.fromAsyncName = Array.fromAsync.name;
    try { await Array.fromAsync(5); out.fromAsyncNum = "ok"; } catch (e) { out.fromAsyncNum = e.constructor.name; }
    try { await Array.fromAsync(null); out.fromAsyncNull = "ok"; } catch (e) { out.fromAsyncNull = e.constructor.name; }
    try { await Array.fromAsync([], 5); out.fromAsyncBadFn = "ok"; } catch (e) { out.fromAsyncBadFn = e.constructor.name; }
    class C { constructor() { this.made = true; } }
    const viaThis = await Array.fromAsync.call(C, [1, 2]);
    out.fromAsyncThis = [viaThis instanceof C, viaThis.length, viaThis[1], viaThis.made];
    out.schedulerType = Object.prototype.toString.call(scheduler);
    out.schedulerWaitLen = scheduler.wait.length;
    try { await scheduler.wait("x"); out.waitStr = "ok"; } catch (e) { out.waitStr = e.constructor.name + ": " + e.message; }
    const ac = new AbortController(); ac.abort(new Error("stop"));
    try { await scheduler.wait(10, { signal: ac.signal }); out.waitAbort = "ok"; } catch (e) { out.waitAbort = e.constructor.name + ": " + e.message; }
    out.waitResult = await scheduler.wait(1);
    return Response.json(out);
  },
};
