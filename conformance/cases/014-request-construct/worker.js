// new Request(): normalisation of method and URL, defaults, and errors.
export default {
  async fetch() {
    const errName = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    const d = (r) => ({ method: r.method, url: r.url, redirect: r.redirect, headers: [...r.headers], bodyNull: r.body === null });
    const base = new Request("https://Example.COM:443/a/../b?q=1#frag");
    const post = new Request("https://example.com/post", { method: "post", body: "hello", headers: { "X-Y": "z" } });
    const src = new Request("https://example.com/src", { method: "PUT", body: "copied body", headers: { "x-src": "1" } });
    // Building a Request from another moves the body: the source is used up.
    const copy = new Request(src, { headers: { "x-copy": "1" } });
    const fromUrl = new Request(new URL("https://example.com/from-url"));
    return Response.json({
      base: d(base),
      post: d(post),
      postText: await post.text(),
      // workerd accepts only methods it knows (Custom is a TypeError).
      custom: errName(() => new Request("https://example.com/", { method: "Custom" })),
      lowercaseDelete: new Request("https://example.com/", { method: "delete" }).method,
      lowercasePatch: new Request("https://example.com/", { method: "patch" }).method,
      copy: d(copy),
      copyText: await copy.text(),
      srcUsed: src.bodyUsed,
      fromUrl: d(fromUrl),
      manualRedirect: new Request("https://example.com/", { redirect: "manual" }).redirect,
      getWithBody: errName(() => new Request("https://example.com/", { method: "GET", body: "x" })),
      headWithBody: errName(() => new Request("https://example.com/", { method: "HEAD", body: "x" })),
      relativeUrl: errName(() => new Request("/relative")),
      badMethod: errName(() => new Request("https://example.com/", { method: "BAD METHOD" })),
      contentTypeFromBody: new Request("https://example.com/", { method: "POST", body: new URLSearchParams("a=1") }).headers.get("content-type"),
    });
  },
};
