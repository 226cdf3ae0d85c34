// crypto.DigestStream: each algorithm workerd offers (MD5 too) by name or
// HashAlgorithm, chunks as bytes, buffers and strings, bytesWritten (a
// BigInt), an empty stream, pipeTo, an abort, and the errors workerd gives.
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
export default {
  async fetch() {
    const out = {};
    for (const alg of ["SHA-256", "sha-256", "SHA-1", "SHA-384", "SHA-512", "MD5", { name: "SHA-256" }, "SHA-224", "x"]) {
      const key = typeof alg === "string" ? alg : JSON.stringify(alg);
      try {
        const ds = new crypto.DigestStream(alg);
        const w = ds.getWriter();
        await w.write(new TextEncoder().encode("hello "));
        await w.write(new Uint8Array([119, 111, 114, 108, 100]).buffer);
        await w.close();
        out[key] = hex(await ds.digest);
      } catch (e) { out[key] = e.constructor.name + ": " + e.message; }
    }
    const ds = new crypto.DigestStream("SHA-256");
    out.isWritable = ds instanceof WritableStream;
    out.tag = Object.prototype.toString.call(ds);
    out.digestType = Object.prototype.toString.call(ds.digest);
    out.protoKeys = Object.getOwnPropertyNames(crypto.DigestStream.prototype).sort();
    const w = ds.getWriter();
    try { await w.write("a string"); out.writeString = "ok"; } catch (e) { out.writeString = e.constructor.name + ": " + e.message; }
    try { new crypto.DigestStream("x"); } catch (e) { out.unknownName = [e.name, e.code, e instanceof DOMException]; }
    const dsb = new crypto.DigestStream("SHA-256");
    const wb = dsb.getWriter();
    out.bytesBefore = [typeof dsb.bytesWritten, String(dsb.bytesWritten)];
    await wb.write(new Uint8Array(10));
    await wb.write("abc");
    await wb.close();
    out.bytesAfter = String(dsb.bytesWritten);
    out.where = [Object.getOwnPropertyNames(crypto).includes("DigestStream"), Object.getOwnPropertyNames(Object.getPrototypeOf(crypto)).includes("DigestStream"), typeof globalThis.DigestStream];
    try { await new crypto.DigestStream("SHA-256").getWriter().write(5); out.writeNumber = "ok"; } catch (e) { out.writeNumber = e.constructor.name + ": " + e.message; }
    const ds2 = new crypto.DigestStream("SHA-256");
    await ds2.getWriter().close();
    out.empty = hex(await ds2.digest);
    try { new crypto.DigestStream(); out.noArg = "ok"; } catch (e) { out.noArg = e.constructor.name + ": " + e.message; }
    const ds3 = new crypto.DigestStream("SHA-256");
    const w3 = ds3.getWriter();
    await w3.abort(new Error("stop"));
    try { await ds3.digest; out.aborted = "resolved"; } catch (e) { out.aborted = e.constructor.name + ": " + e.message; }
    const ds4 = new crypto.DigestStream("SHA-256");
    await new Response("piped body").body.pipeTo(ds4);
    out.piped = hex(await ds4.digest);
    return Response.json(out);
  },
};
