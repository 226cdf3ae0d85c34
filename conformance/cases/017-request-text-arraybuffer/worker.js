// request.text() decodes UTF-8 (replacing invalid bytes); arrayBuffer()
// returns the raw bytes.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/text") {
      const t = await request.text();
      return Response.json({ text: t, length: t.length });
    }
    if (path === "/bytes") {
      const buf = await request.arrayBuffer();
      return Response.json({ isArrayBuffer: buf instanceof ArrayBuffer, bytes: [...new Uint8Array(buf)] });
    }
    if (path === "/echo") {
      // Echo the raw bytes back unchanged.
      return new Response(await request.arrayBuffer(), { headers: { "content-type": "application/octet-stream" } });
    }
    if (path === "/blob") {
      const b = await request.blob();
      return Response.json({ size: b.size, type: b.type, text: await b.text() });
    }
    return new Response("unknown", { status: 404 });
  },
};
