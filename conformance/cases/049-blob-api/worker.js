// Blob: construction from mixed parts, size, type normalisation, slice
// (including negative indices), text/arrayBuffer/bytes/stream.
export default {
  async fetch() {
    const b = new Blob(["abc", new Uint8Array([100, 101]), new Blob(["fgh"]), new ArrayBuffer(0)], { type: "Text/PLAIN" });
    const stream = [];
    for await (const chunk of b.stream()) stream.push(...chunk);
    return Response.json({
      size: b.size,
      type: b.type,
      text: await b.text(),
      bytes: [...new Uint8Array(await b.arrayBuffer())],
      slice: await b.slice(1, 4).text(),
      sliceNegative: await b.slice(-3).text(),
      sliceNegativeBoth: await b.slice(-5, -2).text(),
      sliceType: b.slice(0, 1, "application/x-custom").type,
      sliceDefaultType: b.slice(0, 1).type,
      sliceOutOfRange: (await b.slice(100)).size,
      stream: new TextDecoder().decode(new Uint8Array(stream)),
      empty: [new Blob().size, new Blob().type],
      invalidType: new Blob(["x"], { type: "bad\u0001type" }).type,
      unicode: new Blob(["☃"]).size,
      numberPart: await new Blob([123, true]).text(),
      toStringTag: Object.prototype.toString.call(b),
      notIterable: (() => { try { new Blob("string"); return "no error"; } catch (e) { return e.name; } })(),
    });
  },
};
