// HMAC with a fixed raw key: sign gives a deterministic MAC; verify accepts
// it and rejects a tampered one; key properties are reported.
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch() {
    const enc = new TextEncoder();
    const out = {};
    for (const hash of ["SHA-1", "SHA-256", "SHA-512"]) {
      const key = await crypto.subtle.importKey("raw", enc.encode("key"), { name: "HMAC", hash }, false, ["sign", "verify"]);
      const mac = await crypto.subtle.sign("HMAC", key, enc.encode("The quick brown fox jumps over the lazy dog"));
      const tampered = new Uint8Array(mac).slice(); // a copy: the MAC itself stays intact
      tampered[0] ^= 1;
      out[hash] = {
        mac: hex(mac),
        verifies: await crypto.subtle.verify("HMAC", key, mac, enc.encode("The quick brown fox jumps over the lazy dog")),
        tamperedVerifies: await crypto.subtle.verify("HMAC", key, tampered, enc.encode("The quick brown fox jumps over the lazy dog")),
        otherMessage: await crypto.subtle.verify("HMAC", key, mac, enc.encode("other")),
      };
    }
    const key = await crypto.subtle.importKey("raw", enc.encode("secret"), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    out.key = { type: key.type, extractable: key.extractable, algorithm: key.algorithm.name, hash: key.algorithm.hash.name, length: key.algorithm.length, usages: key.usages };
    out.exported = hex(await crypto.subtle.exportKey("raw", key));
    out.jwk = await crypto.subtle.exportKey("jwk", key);
    try { await crypto.subtle.verify("HMAC", key, new Uint8Array(32), enc.encode("x")); out.wrongUsage = "no error"; } catch (e) { out.wrongUsage = e.name; }
    return Response.json(out);
  },
};
