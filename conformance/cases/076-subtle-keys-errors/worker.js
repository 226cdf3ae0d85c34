// crypto.subtle key handling: generateKey shapes (random keys, so only
// their properties are printed), export formats, and the error names for
// misuse.
export default {
  async fetch() {
    const s = crypto.subtle;
    const enc = new TextEncoder();
    const err = async (p) => { try { await p; return "no error"; } catch (e) { return e.name; } };
    const aes = await s.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt", "decrypt"]);
    const hmac = await s.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const ec = await s.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const signOnly = await s.importKey("raw", enc.encode("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return Response.json({
      aes: { type: aes.type, algorithm: aes.algorithm, usages: aes.usages, rawLength: (await s.exportKey("raw", aes)).byteLength },
      hmac: { algorithm: hmac.algorithm.name, hash: hmac.algorithm.hash.name, length: hmac.algorithm.length },
      ec: { publicType: ec.publicKey.type, privateType: ec.privateKey.type, publicUsages: ec.publicKey.usages, privateUsages: ec.privateKey.usages, publicExtractable: ec.publicKey.extractable },
      // Only fields with values: workerd's JWK object also has every other
      // JWK member present as undefined.
      ecJwkFields: Object.entries(await s.exportKey("jwk", ec.publicKey)).filter(([, v]) => v !== undefined).map(([k]) => k).sort(),
      ecSpkiLength: (await s.exportKey("spki", ec.publicKey)).byteLength,
      cryptoKeyClass: aes instanceof CryptoKey,
      unknownAlgorithm: await err(s.generateKey({ name: "NOPE" }, true, ["sign"])),
      badUsage: await err(s.importKey("raw", enc.encode("k"), { name: "HMAC", hash: "SHA-256" }, false, ["encrypt"])),
      noUsages: await err(s.generateKey({ name: "AES-GCM", length: 128 }, true, [])),
      wrongOperation: await err(s.verify("HMAC", signOnly, new Uint8Array(32), enc.encode("x"))),
      notExtractable: await err(s.exportKey("raw", signOnly)),
      badAesLength: await err(s.generateKey({ name: "AES-GCM", length: 100 }, true, ["encrypt"])),
      wrongKeyType: await err(s.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, signOnly, enc.encode("x"))),
      notAKey: await err(s.sign("HMAC", {}, enc.encode("x"))),
    });
  },
};
