// A Blob body carries its type as the content-type.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const blob = new Blob(["<h1>", "blob", "</h1>"], { type: "text/html" });
    if (path === "/blob") return new Response(blob);
    if (path === "/untyped") return new Response(new Blob(["no type"]));
    if (path === "/override") return new Response(blob, { headers: { "content-type": "text/plain" } });
    return new Response(JSON.stringify({
      typed: new Response(blob).headers.get("content-type"),
      untyped: new Response(new Blob(["x"])).headers.get("content-type"),
      text: await new Response(blob).text(),
    }, null, 2));
  },
};
