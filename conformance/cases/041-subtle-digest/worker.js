// crypto.subtle.digest for each SHA variant, over strings, empty input and
// different BufferSource kinds; unknown algorithms are NotSupportedError.
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch(request) {
    const enc = new TextEncoder();
    const out = {};
    for (const alg of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
      out[alg] = hex(await crypto.subtle.digest(alg, enc.encode("abc")));
    }
    out.empty256 = hex(await crypto.subtle.digest("SHA-256", new Uint8Array(0)));
    out.objectForm = hex(await crypto.subtle.digest({ name: "sha-256" }, enc.encode("abc")));
    out.fromArrayBuffer = hex(await crypto.subtle.digest("SHA-256", enc.encode("abc").buffer));
    out.fromDataView = hex(await crypto.subtle.digest("SHA-256", new DataView(enc.encode("xabc").buffer, 1)));
    out.body = hex(await crypto.subtle.digest("SHA-256", await request.arrayBuffer()));
    out.resultType = Object.prototype.toString.call(await crypto.subtle.digest("SHA-256", new Uint8Array(1)));
    try { await crypto.subtle.digest("SHA-3", enc.encode("abc")); out.unknown = "no error"; } catch (e) { out.unknown = e.name; }
    try { await crypto.subtle.digest("SHA-256", "a string"); out.stringData = "no error"; } catch (e) { out.stringData = e.name; }
    return Response.json(out);
  },
};
