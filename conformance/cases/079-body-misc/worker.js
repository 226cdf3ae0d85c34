// Less common body cases: null/undefined/empty bodies, a body taken from
// another Response, blob() and bytes() readers, and numbers or objects
// coerced to strings.
export default {
  async fetch() {
    const d = async (r) => ({ bodyNull: r.body === null, text: await r.text(), ct: r.headers.get("content-type") });
    const upstream = new Response("from upstream", { headers: { "content-type": "text/x-up" } });
    const piped = new Response(upstream.body);
    const blob = await new Response("as blob", { headers: { "content-type": "text/x-blob" } }).blob();
    const bytes = typeof Response.prototype.bytes === "function" ? [...(await new Response("ab").bytes())] : "no bytes()";
    return Response.json({
      undefinedBody: await d(new Response(undefined)),
      nullBody: await d(new Response(null)),
      emptyString: await d(new Response("")),
      number: await d(new Response(123)),
      object: await d(new Response({ a: 1 })),
      piped: await d(piped),
      upstreamUsed: upstream.bodyUsed,
      blob: [blob.size, blob.type, await blob.text()],
      bytes,
      requestBlob: await (await new Request("https://example.com/", { method: "POST", body: "rb" }).blob()).text(),
      jsonOfNumber: await new Response("42").json(),
    });
  },
};
