// The incoming body as a ReadableStream: read chunk by chunk, or passed
// straight through as the response body (streaming echo).
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/echo") {
      return new Response(request.body, { headers: { "content-type": "application/octet-stream" } });
    }
    if (path === "/upper") {
      const upper = new TransformStream({
        transform(chunk, c) { c.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase())); },
      });
      return new Response(request.body.pipeThrough(upper));
    }
    const reader = request.body.getReader();
    let total = 0;
    let chunks = 0;
    let sum = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      total += value.byteLength;
      for (const b of value) sum = (sum + b) % 65521;
    }
    return Response.json({ total, sum, gotChunks: chunks > 0, isStream: request.body instanceof ReadableStream });
  },
};
