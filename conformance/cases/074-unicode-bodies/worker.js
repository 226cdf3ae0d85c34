// Non-ASCII text in bodies: UTF-8 out and UTF-8 in.
// Not covered: workerd sends a lone surrogate in a string body as raw
// WTF-8 bytes (ED A0 80) rather than U+FFFD, and non-ASCII header values
// as UTF-8; neither is behaviour to copy.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/text") return new Response("héllo wörld ☃ 日本語 𝄞 🎉");
    if (path === "/echo") {
      const t = await request.text();
      return Response.json({ t, length: t.length, codePoints: [...t].length });
    }
    return new Response("not found", { status: 404 });
  },
};
