// A ReadableStream body: chunks enqueued up front, bytes and strings mixed
// through a TextEncoder.
export default {
  async fetch(request) {
    const enc = new TextEncoder();
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(enc.encode("first,"));
        controller.enqueue(new Uint8Array([115, 101, 99, 111, 110, 100, 44])); // "second,"
        controller.enqueue(enc.encode("third"));
        controller.close();
      },
    });
    if (new URL(request.url).pathname === "/raw") {
      return new Response(stream, { headers: { "content-type": "text/plain" } });
    }
    const r = new Response(stream);
    return new Response(JSON.stringify({
      contentType: r.headers.get("content-type"),
      bodyIsStream: r.body instanceof ReadableStream,
      text: await r.text(),
    }, null, 2));
  },
};
