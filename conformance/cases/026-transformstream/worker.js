// TransformStream: a transformer that upper-cases text, used with
// pipeThrough, and an identity TransformStream written to by hand while the
// response streams.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const enc = new TextEncoder();
    if (path === "/identity") {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        for (const word of ["one ", "two ", "three"]) {
          await writer.write(enc.encode(word));
          await new Promise((r) => setTimeout(r, 1));
        }
        await writer.close();
      })();
      return new Response(readable);
    }
    const source = new ReadableStream({
      start(c) {
        c.enqueue("hello ");
        c.enqueue("streaming ");
        c.enqueue("world");
        c.close();
      },
    });
    const upper = new TransformStream({
      transform(chunk, controller) {
        controller.enqueue(chunk.toUpperCase());
      },
      flush(controller) {
        controller.enqueue("!");
      },
    });
    const toBytes = new TransformStream({
      transform(chunk, controller) {
        controller.enqueue(enc.encode(chunk));
      },
    });
    return new Response(source.pipeThrough(upper).pipeThrough(toBytes));
  },
};
