// TextEncoderStream / TextDecoderStream, with a multi-byte character split
// across chunks.
export default {
  async fetch() {
    const bytes = new TextEncoder().encode("snow ☃ man");
    // Split inside the 3-byte snowman.
    const split = new ReadableStream({
      start(c) { c.enqueue(bytes.slice(0, 6)); c.enqueue(bytes.slice(6)); c.close(); },
    });
    const decoded = [];
    for await (const s of split.pipeThrough(new TextDecoderStream())) decoded.push(s);

    const encoded = [];
    const strings = new ReadableStream({ start(c) { c.enqueue("é"); c.enqueue("x"); c.close(); } });
    for await (const b of strings.pipeThrough(new TextEncoderStream())) encoded.push([...b]);
    return Response.json({ decoded: decoded.join(""), encoded });
  },
};
