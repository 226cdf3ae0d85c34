// URL setters: each component can be changed, with the URL re-serialised;
// invalid assignments are ignored rather than thrown.
export default {
  async fetch() {
    const steps = [];
    const u = new URL("https://example.com/start?x=1#h");
    const step = (what, fn) => { fn(); steps.push([what, u.href]); };
    step("pathname", () => { u.pathname = "/new path/é"; });
    step("search", () => { u.search = "a=1&b=2"; });
    step("search ?", () => { u.search = "?c=3"; });
    step("hash", () => { u.hash = "frag ment"; });
    step("hostname", () => { u.hostname = "other.example"; });
    step("port", () => { u.port = "8080"; });
    step("port default", () => { u.port = "443"; });
    step("port invalid", () => { u.port = "notaport"; });
    step("host", () => { u.host = "host.example:9000"; });
    step("username", () => { u.username = "me@x"; });
    step("password", () => { u.password = "s3cret:!"; });
    step("protocol http", () => { u.protocol = "http"; });
    step("protocol invalid", () => { u.protocol = "mailto"; });
    step("empty search", () => { u.search = ""; });
    step("empty hash", () => { u.hash = ""; });
    step("searchParams", () => { u.searchParams.set("via", "params & more"); });
    step("href", () => { u.href = "https://reset.example/"; });
    let hrefError = "no error";
    try { u.href = "not a url"; } catch (e) { hrefError = e.name; }
    return Response.json({ steps, hrefError, final: u.href });
  },
};
