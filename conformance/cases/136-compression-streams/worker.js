// CompressionStream and DecompressionStream: round trips in each format
// through chunked writes and pipeThrough, what a chunk may be, and every
// error workerd reports (bad formats, corrupt, empty, truncated and trailing
// input). The compressed bytes themselves differ between zlib and Go's
// compressor, so only their headers are compared.
async function collect(readable) {
  const chunks = [];
  for await (const c of readable) chunks.push(c);
  const n = chunks.reduce((a, c) => a + c.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.byteLength; }
  return { bytes: out, types: [...new Set(chunks.map((c) => Object.prototype.toString.call(c)))] };
}
async function through(ts, inputs) {
  const w = ts.writable.getWriter();
  const done = collect(ts.readable);
  done.catch(() => {}); // the writer's close() reports the same failure
  for (const i of inputs) await w.write(i);
  await w.close();
  return done;
}
const text = "hello hello hello hello, the quick brown fox jumps over the lazy dog ".repeat(50);
export default {
  async fetch() {
    const out = {};
    for (const f of ["gzip", "deflate", "deflate-raw"]) {
      const c = await through(new CompressionStream(f), [new TextEncoder().encode(text.slice(0, 100)), new TextEncoder().encode(text.slice(100))]);
      const d = await through(new DecompressionStream(f), [c.bytes.slice(0, 10), c.bytes.slice(10)]);
      out[f] = { roundTrip: new TextDecoder().decode(d.bytes) === text, ctypes: c.types, dtypes: d.types, smaller: c.bytes.length < text.length, head: Array.from(c.bytes.slice(0, f === "deflate-raw" ? 0 : 2)) };
    }
    for (const f of ["br", "zstd", "GZIP", "", "x"]) {
      try { new CompressionStream(f); out["c_" + f] = "ok"; } catch (e) { out["c_" + f] = e.constructor.name + ": " + e.message; }
    }
    try { new CompressionStream(); out.cNoArg = "ok"; } catch (e) { out.cNoArg = e.constructor.name + ": " + e.message; }
    out.tag = [Object.prototype.toString.call(new CompressionStream("gzip")), Object.prototype.toString.call(new DecompressionStream("gzip"))];
    out.props = Object.getOwnPropertyNames(CompressionStream.prototype).sort();
    for (const [name, bytes] of [["garbage", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])], ["empty", new Uint8Array(0)]]) {
      try { const d = await through(new DecompressionStream("gzip"), bytes.length ? [bytes] : []); out["d_" + name] = "ok " + d.bytes.length; } catch (e) { out["d_" + name] = e.constructor.name + ": " + e.message; }
    }
    const good = (await through(new CompressionStream("gzip"), [new TextEncoder().encode(text)])).bytes;
    try { const d = await through(new DecompressionStream("gzip"), [good.slice(0, good.length - 5)]); out.d_truncated = "ok " + d.bytes.length; } catch (e) { out.d_truncated = e.constructor.name + ": " + e.message; }
    const trailing = new Uint8Array(good.length + 3); trailing.set(good); trailing.set([7, 7, 7], good.length);
    try { const d = await through(new DecompressionStream("gzip"), [trailing]); out.d_trailing = "ok " + d.bytes.length; } catch (e) { out.d_trailing = e.constructor.name + ": " + e.message; }
    try { await through(new CompressionStream("gzip"), ["a string"]); out.c_string = "ok"; } catch (e) { out.c_string = e.constructor.name + ": " + e.message; }
    const ab = await through(new CompressionStream("deflate"), [new TextEncoder().encode("x").buffer]);
    out.c_arraybuffer = ab.bytes.length > 0;
    const empty = await through(new CompressionStream("gzip"), []);
    out.c_empty = [empty.bytes.length > 0, Array.from(empty.bytes.slice(0, 2))];
    const resp = new Response(new Response(text).body.pipeThrough(new CompressionStream("gzip")).pipeThrough(new DecompressionStream("gzip")));
    out.pipe = (await resp.text()) === text;
    return Response.json(out);
  },
};
