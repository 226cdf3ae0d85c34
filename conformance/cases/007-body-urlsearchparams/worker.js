// A URLSearchParams body is form-urlencoded, with its own content-type.
export default {
  async fetch(request) {
    const params = new URLSearchParams({ q: "a b&c", emoji: "é☃", plus: "1+1" });
    params.append("q", "second");
    if (new URL(request.url).pathname === "/raw") return new Response(params);
    const r = new Response(params);
    const fd = await new Response(new URLSearchParams("a=1&b=2&a=3"), {}).formData();
    return new Response(JSON.stringify({
      contentType: r.headers.get("content-type"),
      text: await r.text(),
      parsedBack: [...fd],
    }, null, 2));
  },
};
