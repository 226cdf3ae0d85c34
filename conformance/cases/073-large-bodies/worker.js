// Bodies larger than any single buffer: a 1 MiB string response, a 2 MiB
// streamed response of many chunks, and a digest of a large upload.
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/string") {
      return new Response("0123456789abcdef".repeat(65536));
    }
    if (path === "/stream") {
      let i = 0;
      const chunk = new Uint8Array(16384).map((_, j) => j % 251);
      return new Response(new ReadableStream({
        pull(c) {
          if (i++ === 128) c.close();
          else c.enqueue(chunk);
        },
      }));
    }
    const buf = await request.arrayBuffer();
    return Response.json({ size: buf.byteLength, sha256: hex(await crypto.subtle.digest("SHA-256", buf)) });
  },
};
