// Request init details: a Headers object or pairs, overriding a method,
// a signal, and reading the incoming request's headers into a new Request.
export default {
  async fetch(request) {
    const ac = new AbortController();
    const r = new Request("https://example.com/api", { method: "PUT", headers: [["X-A", "1"], ["x-a", "2"]], body: "data", signal: ac.signal });
    const signalBefore = r.signal.aborted;
    ac.abort();
    const derived = new Request(request, { method: "POST", body: "override" });
    const copyHeaders = new Request("https://example.com/", { headers: request.headers });
    copyHeaders.headers.set("x-added", "yes"); // a constructed Request's headers are mutable
    return Response.json({
      headers: [...r.headers],
      method: r.method,
      signal: [signalBefore, r.signal.aborted],
      derived: { method: derived.method, body: await derived.text(), path: new URL(derived.url).pathname, incomingHeader: derived.headers.get("x-incoming") },
      copied: [copyHeaders.headers.get("x-incoming"), copyHeaders.headers.get("x-added"), request.headers.get("x-added")],
      keepalive: typeof r.keepalive,
      cacheOption: (() => { try { new Request("https://example.com/", { cache: "no-store" }); return "accepted"; } catch (e) { return e.name; } })(),
    });
  },
};
