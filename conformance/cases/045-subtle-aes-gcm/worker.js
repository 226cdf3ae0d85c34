// AES-GCM with a fixed key and IV: the ciphertext (with its 16-byte tag) is
// deterministic; decrypt round-trips; a tampered ciphertext or wrong
// additional data is an OperationError.
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch() {
    const enc = new TextEncoder();
    const rawKey = new Uint8Array(32).map((_, i) => i);        // 00 01 .. 1f
    const iv = new Uint8Array(12).map((_, i) => 0xa0 + i);     // a0 .. ab
    const key = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", true, ["encrypt", "decrypt"]);
    const plain = enc.encode("attack at dawn");
    const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain);
    const withAad = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode("header") }, key, plain);
    const shortTag = await crypto.subtle.encrypt({ name: "AES-GCM", iv, tagLength: 96 }, key, plain);
    const err = async (p) => { try { await p; return "no error"; } catch (e) { return e.name; } };
    const tampered = new Uint8Array(ct).slice(); // a copy: ct itself stays intact
    tampered[0] ^= 1;
    const key128 = await crypto.subtle.importKey("raw", rawKey.slice(0, 16), { name: "AES-GCM" }, false, ["encrypt"]);
    return Response.json({
      key: { algorithm: key.algorithm, usages: key.usages },
      ciphertext: hex(ct),
      length: ct.byteLength,
      withAad: hex(withAad),
      shortTagLength: shortTag.byteLength,
      aes128: hex(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key128, plain)),
      decrypted: new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, ct)),
      decryptedAad: new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: enc.encode("header") }, key, withAad)),
      tampered: await err(crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, tampered)),
      wrongAad: await err(crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: enc.encode("other") }, key, withAad)),
      badKeyLength: await err(crypto.subtle.importKey("raw", new Uint8Array(15), "AES-GCM", false, ["encrypt"])),
      exported: hex(await crypto.subtle.exportKey("raw", key)),
    });
  },
};
