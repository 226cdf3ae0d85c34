// ECDSA P-256 verify of a fixed signature made elsewhere, with the public
// key imported from a JWK. The signature is fixed, so the result is
// deterministic (signing is randomised and is only checked by round trip).
const publicJwk = {"key_ops": ["verify"], "ext": true, "kty": "EC", "x": "z71UWa8y0ykYPi50m9ZvFqj9lD9tB1tGXfoV7TUqqJE", "y": "BrqgKFRB8s4j0B8BMFIwl6idh-mOCIW1GV2TVktMLAQ", "crv": "P-256"};
const signatureHex = "9870b701d08abee5fcbdc6df3be3a82bfdfc02d6175948fd9a2e7f985959fc7e88a39b57c500fda368a92dd7bf5baa05689f911848952d45f870e99b412edc5c";
const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
export default {
  async fetch() {
    const enc = new TextEncoder();
    const message = enc.encode("isola conformance message");
    const alg = { name: "ECDSA", hash: "SHA-256" };
    const key = await crypto.subtle.importKey("jwk", publicJwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const sig = fromHex(signatureHex);
    const bad = sig.slice();
    bad[10] ^= 0xff;
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const fresh = await crypto.subtle.sign(alg, pair.privateKey, message);
    // Not covered: workerd accepts a JWK whose crv differs from namedCurve.
    let importError = "no error";
    try { await crypto.subtle.importKey("jwk", { ...publicJwk, x: "AAAA" }, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]); } catch (e) { importError = e.name; }
    return Response.json({
      key: { type: key.type, algorithm: key.algorithm, usages: key.usages },
      verifies: await crypto.subtle.verify(alg, key, sig, message),
      wrongMessage: await crypto.subtle.verify(alg, key, sig, enc.encode("something else")),
      tampered: await crypto.subtle.verify(alg, key, bad, message),
      freshSignatureLength: fresh.byteLength,
      freshRoundTrip: await crypto.subtle.verify(alg, pair.publicKey, fresh, message),
      reexported: await crypto.subtle.exportKey("jwk", key).then((j) => [j.kty, j.crv, j.x === publicJwk.x, j.y === publicJwk.y]),
      badPoint: importError,
    });
  },
};
