// The incoming request as the worker sees it. The host and port differ
// between runtimes in the test, so only the path and chosen headers are shown.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    return Response.json({
      method: request.method,
      pathname: url.pathname,
      search: url.search,
      query: [...url.searchParams],
      protocol: url.protocol,
      custom: request.headers.get("X-Custom-Header"),
      accept: request.headers.get("accept"),
      multi: request.headers.get("x-multi"),
      contentType: request.headers.get("content-type"),
      hasBody: request.body !== null,
      body: await request.text(),
      redirect: request.redirect,
      signalAborted: request.signal ? request.signal.aborted : "no signal",
      headersImmutable: (() => { try { request.headers.set("x", "y"); return "mutable"; } catch (e) { return e.name; } })(),
    });
  },
};
