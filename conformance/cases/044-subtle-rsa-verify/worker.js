// RSA verify (PKCS#1 v1.5 and PSS, SHA-256) of fixed signatures made
// elsewhere, with a 2048-bit public key imported from a JWK.
const publicJwk = {"key_ops": ["verify"], "ext": true, "kty": "RSA", "n": "sbFEo082Gagj2pjHBGQ0m4mSd33xL34OcKHMsCOSPiplNfZl0FXzNlKdu7VEuvcRNKutdmvG02Faa8y2QPouA0gYBv-4XNdFG2494iIo9BGfzNsf9aHJt5k30P2Cg1ncmhUN3Pbp6Nzs426ffyYdH3SS6GSp7BT4XB17lQroIrpuqfUTJkROSa0hZZZCLOF9v0l4pn2BYfm6KYm2HprwtBz8xdV7KBEij35c9ZrTeMrcvtQAuz7SE6AjBzC5mqAdudz7rZkvGbh68pwfNKHvI19Dsaj_VxsjRaM7OLWnYT-hHC_ojWin0ExIGKAnW7pcztPgZ35Rj3ojn7QgdKADoQ", "e": "AQAB", "alg": "RS256"};
const pkcs1Hex = "8e90e6ad42e021332a97e1af1338a20f8ad026c02e87a25342c59ad90cb83b945387f71b73597649e27caceb614671c25736ca52c6f750e544614c64cfc6bb8d7e9f7d4980cef78f06596be402d35f95506f9bca9c364c3be29d25684ee8ed94b6ce77636e2e7bdbeaab4a831d683f2c4047b73940af9de785b810c34e9b72d2e4d1e9accfe9a99b110abc7b3a152ade7cf338ac9e932497309d7ee4a385769682093b946e0c498f1fc659a1daaa77129d58cd970ffb7301a3654e56ee3de5ed57df407a96a25c46a9579dc4d7ae3bf4b01a23ed49cc8fc5f97694e801de4da6fc8a3b6334afa12b97c5c240bd854f476deb569e49ca50878a205f6f4f732b5c";
const pssHex = "a7d5ba75c2c4f1f4ce4787ad340bcf2ffc33170009e5c7ca89dc05d396630861219b1475b36a175fe068493999c9e9bba46e20df265fa1273a08f105aae2af594fae5a4f10b821f357df73f5ebcb29134defc89951207cd732723d04279b705bb6cc6a06343c5c467e575b9b7c31803b3d10c1f47bbec87df8a5364a85e1b2ba1135b9dff78a40b4347caaa0480aa9baef3d3a3d35a9e96be89639ab5036b9f63133076e86f8451cd9747697cbb8640ecde19e87c92d06ebc0c987bfdc495b27cd86905093a67a9b9150e0aa0f0fc3a608ff52f607664b4b955da850893ca1206a6231d6896483ea10b299c57ed0e6068609e06c14db2d62efa560a4fce29e1f";
const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
export default {
  async fetch() {
    const enc = new TextEncoder();
    const message = enc.encode("isola conformance message");
    const { key_ops, ...jwk } = publicJwk;
    const pkcs1Key = await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
    const pssKey = await crypto.subtle.importKey("jwk", jwk, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
    const pkcs1 = fromHex(pkcs1Hex);
    const pss = fromHex(pssHex);
    const bad = pkcs1.slice();
    bad[0] ^= 1;
    return Response.json({
      algorithm: { name: pkcs1Key.algorithm.name, modulusLength: pkcs1Key.algorithm.modulusLength, publicExponent: [...pkcs1Key.algorithm.publicExponent], hash: pkcs1Key.algorithm.hash.name },
      pkcs1Verifies: await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pkcs1Key, pkcs1, message),
      pkcs1WrongMessage: await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pkcs1Key, pkcs1, enc.encode("other")),
      pkcs1Tampered: await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pkcs1Key, bad, message),
      pssVerifies: await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pssKey, pss, message),
      pssWrongSalt: await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 20 }, pssKey, pss, message),
    });
  },
};
