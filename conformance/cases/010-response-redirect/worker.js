// Response.redirect: Location is the serialised URL, status defaults to 302,
// and only redirect statuses are allowed.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const status = url.searchParams.get("status");
    if (status) return Response.redirect("https://example.com/a b?x=1", Number(status));
    if (url.pathname === "/default") return Response.redirect("https://example.com/");
    const errName = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    const r = Response.redirect("https://example.com/path", 307);
    return new Response(JSON.stringify({
      status: r.status,
      location: r.headers.get("location"),
      bodyNull: r.body === null,
      headerKeys: [...r.headers.keys()],
      invalid200: errName(() => Response.redirect("https://example.com/", 200)),
      invalid304: errName(() => Response.redirect("https://example.com/", 304)),
      invalidUrl: errName(() => Response.redirect("not a url", 302)),
      immutable: errName(() => r.headers.set("x", "y")),
    }, null, 2));
  },
};
