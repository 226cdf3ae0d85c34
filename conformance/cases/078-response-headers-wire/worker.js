// The full header set on the wire: nothing added or dropped beyond
// transport headers (content-length, date, ...), which the harness ignores.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/json") return Response.json({ ok: true }, { headers: { "Cache-Control": "no-store", "X-Request-Id": "fixed-id" } });
    if (path === "/bytes") return new Response(new Uint8Array([1, 2, 3]), { headers: { "ETag": "\"abc\"", "Vary": "Accept, Origin" } });
    if (path === "/empty") return new Response(null, { status: 204, headers: { "Access-Control-Allow-Origin": "*" } });
    const h = new Headers();
    h.set("Content-Type", "text/html; charset=utf-8");
    h.append("Link", "</a.css>; rel=preload");
    h.append("Link", "</b.js>; rel=preload");
    h.set("X-Empty", "");
    return new Response("<p>hi</p>", { headers: h });
  },
};
