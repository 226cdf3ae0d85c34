// Typed arrays and DataViews as bodies: only the viewed bytes are sent.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const all = new Uint8Array([65, 66, 67, 68, 69, 70, 71, 72]);
    const sub = all.subarray(2, 6); // "CDEF"
    if (path === "/subarray") return new Response(sub);
    if (path === "/dataview") return new Response(new DataView(all.buffer, 1, 3)); // "BCD"
    if (path === "/uint16") return new Response(new Uint16Array([0x6968, 0x2121])); // little-endian "hi!!"
    const text = async (b) => new Response(b).text();
    return new Response(JSON.stringify({
      uint8: await text(all),
      sub: await text(sub),
      dataview: await text(new DataView(all.buffer, 4)),
      int8: await text(new Int8Array([104, 105])),
      float64Length: (await new Response(new Float64Array(2)).arrayBuffer()).byteLength,
      contentType: new Response(all).headers.get("content-type"),
    }, null, 2));
  },
};
