// An ArrayBuffer body is sent as raw bytes, with no content-type.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const buf = new ArrayBuffer(6);
    new Uint8Array(buf).set([0x68, 0x69, 0x00, 0xff, 0x80, 0x21]);
    if (path === "/raw") {
      return new Response(buf);
    }
    const r = new Response(buf);
    const back = new Uint8Array(await r.arrayBuffer());
    return new Response(JSON.stringify({
      contentType: new Response(buf).headers.get("content-type"),
      bytes: [...back],
      isArrayBuffer: (await new Response(buf).arrayBuffer()) instanceof ArrayBuffer,
      byteLength: buf.byteLength,
    }, null, 2));
  },
};
