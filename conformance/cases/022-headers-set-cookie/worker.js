// Set-Cookie is the one header that is not joined: getSetCookie() returns
// each value, and each goes out as its own header line.
export default {
  async fetch(request) {
    const h = new Headers();
    h.append("Set-Cookie", "a=1; Path=/");
    h.append("set-cookie", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
    h.append("X-Other", "x");
    const info = {
      getSetCookie: h.getSetCookie(),
      get: h.get("set-cookie"),
      entries: [...h],
      emptyGetSetCookie: new Headers().getSetCookie(),
      afterSet: (() => { const c = new Headers(h); c.set("set-cookie", "only=1"); return c.getSetCookie(); })(),
      afterDelete: (() => { const c = new Headers(h); c.delete("Set-Cookie"); return c.getSetCookie(); })(),
    };
    if (new URL(request.url).pathname === "/info") return Response.json(info);
    return new Response("cookies set", { headers: h });
  },
};
