package js

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func init() { extraHost = append(extraHost, registerCryptoHost) }

// registerCryptoHost installs the host.crypto bridge the runtime provides:
// __isola_crypto(op, paramsJSON, ...ArrayBuffers) -> [result, "Name: message" | null].
func registerCryptoHost(h *testHost) { h.register("crypto", CryptoHost) }

// cryptoHelpers are small encoders the crypto tests' scripts share.
const cryptoHelpers = `
const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const utf8 = (s) => new Uint8Array(Array.from(s, (c) => c.charCodeAt(0)));
const b64url = (b) => { const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"; const u = new Uint8Array(b); let s = "";
  for (let i = 0; i < u.length; i += 3) { const n = (u[i] << 16) | ((u[i + 1] || 0) << 8) | (u[i + 2] || 0);
    s += a[n >> 18] + a[(n >> 12) & 63] + (i + 1 < u.length ? a[(n >> 6) & 63] : "") + (i + 2 < u.length ? a[n & 63] : ""); } return s; };
const unb64url = (s) => { const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"; const out = []; let n = 0, bits = 0;
  for (const c of s) { n = (n << 6) | a.indexOf(c); bits += 6; if (bits >= 8) { bits -= 8; out.push((n >> bits) & 255); } } return new Uint8Array(out); };
const fails = async (p) => { try { await p; return "resolved"; } catch (e) { return e.name + ": " + e.message; } };
`

// runCryptoJS is runJS with the crypto test helpers in scope.
func runCryptoJS(t *testing.T, script string) string {
	t.Helper()
	return runJS(t, cryptoHelpers+script)
}

func wantJS(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func jsonLit(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestCryptoDigestJS(t *testing.T) {
	got := runCryptoJS(t, `
		const out = [];
		for (const alg of ["SHA-1", "SHA-256", {name: "sha-384"}, "SHA-512", "MD5"]) {
			out.push(hex(await crypto.subtle.digest(alg, utf8("abc"))));
		}
		const view = new Uint8Array([0, 97, 98, 99, 0]).subarray(1, 4);
		out.push(hex(await crypto.subtle.digest("SHA-1", view)) === out[0]);
		out.push(await fails(crypto.subtle.digest("SHA-3", utf8("abc"))));
		out.push(await fails(crypto.subtle.digest("SHA-256", "abc")));
		out.push(await fails(crypto.subtle.digest({}, utf8("abc"))));
		const p = crypto.subtle.digest();
		out.push(p instanceof Promise, await fails(p));
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"a9993e364706816aba3e25717850c26c9cd0d89d",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"900150983cd24fb0d6963f7d28e17f72",
		"true",
		"NotSupportedError: Unrecognized or unimplemented digest algorithm requested.",
		"TypeError: data must be an ArrayBuffer or ArrayBufferView.",
		`TypeError: Missing field "name" in "algorithm".`,
		"true",
		"TypeError: Failed to execute 'digest' on 'SubtleCrypto': 2 arguments required, but only 0 present.",
	}, "\n"))
}

func TestCryptoHMACJS(t *testing.T) {
	got := runCryptoJS(t, `
		const key = await crypto.subtle.importKey("raw", utf8("Jefe"), {name: "hmac", hash: "SHA-256"}, true, ["verify", "sign", "sign"]);
		const data = utf8("what do ya want for nothing?");
		const sig = await crypto.subtle.sign("HMAC", key, data);
		const out = [hex(sig)];
		out.push(await crypto.subtle.verify("HMAC", key, sig, data));
		const bad = new Uint8Array(sig).slice(); bad[0] ^= 1;
		out.push(await crypto.subtle.verify({name: "HMAC"}, key, bad, data));
		out.push(key.type, key.extractable, JSON.stringify(key.algorithm), key.usages.join(","));
		out.push(Object.prototype.toString.call(key), key instanceof CryptoKey);
		const jwk = await crypto.subtle.exportKey("jwk", key);
		out.push(JSON.stringify(jwk));
		const again = await crypto.subtle.importKey("jwk", jwk, {name: "HMAC", hash: {name: "SHA-256"}}, false, ["sign"]);
		out.push(hex(await crypto.subtle.sign("HMAC", again, data)) === hex(sig));
		out.push(await fails(crypto.subtle.exportKey("raw", again)));
		out.push(await fails(crypto.subtle.importKey("raw", utf8("k"), {name: "HMAC", hash: "SHA-256"}, false, ["encrypt"])));
		out.push(await fails(crypto.subtle.importKey("raw", utf8("k"), {name: "HMAC", hash: "SHA-256"}, false, [])));
		out.push(await fails(crypto.subtle.sign("HMAC", again, 5)));
		out.push(await fails(crypto.subtle.sign("AES-GCM", again, data)));
		out.push(await fails(crypto.subtle.verify("HMAC", again, sig, data)));
		const gen = await crypto.subtle.generateKey({name: "HMAC", hash: "SHA-512"}, true, ["sign"]);
		out.push(gen.algorithm.length, (await crypto.subtle.exportKey("raw", gen)).byteLength);
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"true", "false",
		"secret", "true", `{"name":"HMAC","hash":{"name":"SHA-256"},"length":32}`, "sign,verify",
		"[object CryptoKey]", "true",
		`{"kty":"oct","key_ops":["sign","verify"],"alg":"HS256","ext":true,"k":"SmVmZQ"}`,
		"true",
		"InvalidAccessError: Attempt to export non-extractable HMAC key.",
		`SyntaxError: Attempt to import secret HMAC key with invalid usage "encrypt".`,
		"SyntaxError: Secret/private CryptoKeys must have at least one usage.",
		"TypeError: data must be an ArrayBuffer or ArrayBufferView.",
		`InvalidAccessError: Requested algorithm "AES-GCM" does not match this CryptoKey's algorithm "HMAC".`,
		`InvalidAccessError: Requested key usage "verify" does not match any usage listed in this CryptoKey.`,
		"1024", "128",
	}, "\n"))
}

// The RSA and P-256 keys and JWS signatures of RFC 7515 appendices A.2 and A.3.
var (
	rfcRSAJWK = map[string]string{
		"kty": "RSA",
		"n":   "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
		"e":   "AQAB",
		"d":   "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
		"p":   "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
		"q":   "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
		"dp":  "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
		"dq":  "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
		"qi":  "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
	}
	rfcRS256Sig = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
	rfcECJWK    = map[string]string{
		"kty": "EC", "crv": "P-256",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
		"y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
		"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
	}
	rfcES256Sig = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
	rfcPayload  = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)

func TestCryptoRSAJS(t *testing.T) {
	got := runCryptoJS(t, `
		const jwk = `+jsonLit(rfcRSAJWK)+`;
		const {d, p, q, dp, dq, qi, ...pubJWK} = jwk;
		const alg = {name: "RSASSA-PKCS1-v1_5", hash: "SHA-256"};
		const priv = await crypto.subtle.importKey("jwk", jwk, alg, false, ["sign"]);
		const pub = await crypto.subtle.importKey("jwk", pubJWK, alg, true, ["verify"]);
		const input = utf8("eyJhbGciOiJSUzI1NiJ9.`+rfcPayload+`");
		const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", priv, input);
		const out = [b64url(sig) === "`+rfcRS256Sig+`"];
		out.push(await crypto.subtle.verify(alg, pub, sig, input));
		out.push(await crypto.subtle.verify(alg, pub, sig, utf8("other")));
		out.push(priv.type, pub.type, pub.algorithm.modulusLength, hex(pub.algorithm.publicExponent), pub.algorithm.hash.name);
		out.push(pub.algorithm.publicExponent instanceof Uint8Array);
		const spki = await crypto.subtle.exportKey("spki", pub);
		const fromSpki = await crypto.subtle.importKey("spki", spki, alg, true, ["verify"]);
		out.push(await crypto.subtle.verify(alg, fromSpki, sig, input));
		out.push(await fails(crypto.subtle.importKey("spki", spki, alg, true, ["sign"])));
		out.push(await fails(crypto.subtle.exportKey("pkcs8", pub)));

		const pssAlg = {name: "RSA-PSS", hash: "SHA-256"};
		const pssPriv = await crypto.subtle.importKey("jwk", jwk, pssAlg, false, ["sign"]);
		const pssPub = await crypto.subtle.importKey("jwk", pubJWK, pssAlg, false, ["verify"]);
		const pssSig = await crypto.subtle.sign({name: "RSA-PSS", saltLength: 32}, pssPriv, input);
		out.push(await crypto.subtle.verify({name: "RSA-PSS", saltLength: 32}, pssPub, pssSig, input));
		out.push(await fails(crypto.subtle.sign("RSA-PSS", pssPriv, input)));
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"true", "true", "false",
		"private", "public", "2048", "010001", "SHA-256", "true",
		"true",
		`SyntaxError: Attempt to import public RSASSA-PKCS1-v1_5 key with invalid usage "sign".`,
		`InvalidAccessError: Asymmetric pkcs8 export requires private key (not "public").`,
		"true",
		"TypeError: Failed to provide salt for RSA-PSS key operation which requires a salt",
	}, "\n"))
}

func TestCryptoECDSAJS(t *testing.T) {
	got := runCryptoJS(t, `
		const jwk = `+jsonLit(rfcECJWK)+`;
		const {d, ...pubJWK} = jwk;
		const alg = {name: "ECDSA", namedCurve: "P-256"};
		const pub = await crypto.subtle.importKey("jwk", pubJWK, alg, true, ["verify"]);
		const input = utf8("eyJhbGciOiJFUzI1NiJ9.`+rfcPayload+`");
		const sha = {name: "ECDSA", hash: {name: "SHA-256"}};
		const out = [await crypto.subtle.verify(sha, pub, unb64url("`+rfcES256Sig+`"), input)];
		const priv = await crypto.subtle.importKey("jwk", jwk, alg, false, ["sign"]);
		const sig = await crypto.subtle.sign(sha, priv, utf8("hello"));
		out.push(sig.byteLength, await crypto.subtle.verify(sha, pub, sig, utf8("hello")), await crypto.subtle.verify(sha, pub, sig, utf8("hellO")));
		out.push(JSON.stringify(pub.algorithm));
		out.push(await fails(crypto.subtle.sign({name: "ECDSA"}, priv, input)));

		const pair = await crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-384"}, false, ["sign", "verify"]);
		out.push(pair.privateKey.usages.join(), pair.publicKey.usages.join(), pair.privateKey.extractable, pair.publicKey.extractable);
		const s2 = await crypto.subtle.sign({name: "ECDSA", hash: "SHA-384"}, pair.privateKey, input);
		out.push(s2.byteLength, await crypto.subtle.verify({name: "ECDSA", hash: "SHA-384"}, pair.publicKey, s2, input));
		const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
		out.push(raw.byteLength);
		out.push(await fails(crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["verify"])));
		out.push(await fails(crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-192"}, false, ["sign"])));
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"true",
		"64", "true", "false",
		`{"name":"ECDSA","namedCurve":"P-256"}`,
		`TypeError: Missing "hash" in AlgorithmIdentifier. (ECDSA requires that the hash algorithm be specified at call time rather than on the key. This differs from other WebCrypto algorithms for historical reasons.)`,
		"sign", "verify", "false", "true",
		"96", "true",
		"97",
		"SyntaxError: Attempt to generate asymmetric keys with no valid private key usages.",
		`NotSupportedError: Unrecognized or unimplemented EC curve "P-192" requested.`,
	}, "\n"))
}

func TestCryptoAESGCMJS(t *testing.T) {
	got := runCryptoJS(t, `
		const key = await crypto.subtle.generateKey({name: "AES-GCM", length: 256}, true, ["encrypt", "decrypt"]);
		const iv = crypto.getRandomValues(new Uint8Array(12));
		const aad = utf8("header");
		const ct = await crypto.subtle.encrypt({name: "AES-GCM", iv, additionalData: aad}, key, utf8("attack at dawn"));
		const out = [ct.byteLength];
		const pt = await crypto.subtle.decrypt({name: "AES-GCM", iv, additionalData: aad}, key, ct);
		out.push(String.fromCharCode(...new Uint8Array(pt)));
		const bad = new Uint8Array(ct).slice(); bad[3] ^= 1;
		out.push((await fails(crypto.subtle.decrypt({name: "AES-GCM", iv, additionalData: aad}, key, bad))).split(".")[0]);
		out.push((await fails(crypto.subtle.decrypt({name: "AES-GCM", iv}, key, ct))).split(".")[0]);
		const short = await crypto.subtle.encrypt({name: "AES-GCM", iv, tagLength: 64}, key, utf8("x"));
		out.push(short.byteLength, hex(await crypto.subtle.decrypt({name: "AES-GCM", iv, tagLength: 64}, key, short)));
		out.push(await fails(crypto.subtle.encrypt({name: "AES-GCM"}, key, utf8("x"))));
		out.push(await fails(crypto.subtle.encrypt({name: "AES-CBC", iv}, key, utf8("x"))));
		const raw = await crypto.subtle.exportKey("raw", key);
		const again = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
		out.push(String.fromCharCode(...new Uint8Array(await crypto.subtle.decrypt({name: "AES-GCM", iv, additionalData: aad}, again, ct))));
		out.push(await fails(crypto.subtle.encrypt({name: "AES-GCM", iv}, again, utf8("x"))));
		out.push(JSON.stringify((await crypto.subtle.exportKey("jwk", key)).alg));
		out.push(await fails(crypto.subtle.generateKey({name: "AES-GCM", length: 100}, true, ["encrypt"])));
		out.push(await fails(crypto.subtle.generateKey({name: "AES-GCM", length: 128}, true, [])));

		const cbc = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-CBC", false, ["encrypt", "decrypt"]);
		const cbcCt = await crypto.subtle.encrypt({name: "AES-CBC", iv: new Uint8Array(16)}, cbc, utf8("sixteen bytes!!!"));
		out.push(cbcCt.byteLength, String.fromCharCode(...new Uint8Array(await crypto.subtle.decrypt({name: "AES-CBC", iv: new Uint8Array(16)}, cbc, cbcCt))));
		const ctr = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-CTR", false, ["encrypt"]);
		out.push(hex(await crypto.subtle.encrypt({name: "AES-CTR", counter: new Uint8Array(16), length: 64}, ctr, new Uint8Array(4))));
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"30", "attack at dawn",
		"OperationError: Decryption failed",
		"OperationError: Decryption failed",
		"9", "78",
		`TypeError: Missing field "iv" in "algorithm".`,
		`InvalidAccessError: Requested algorithm "AES-CBC" does not match this CryptoKey's algorithm "AES-GCM".`,
		"attack at dawn",
		`InvalidAccessError: Requested key usage "encrypt" does not match any usage listed in this CryptoKey.`,
		`"A256GCM"`,
		"OperationError: Generated AES key length must be 128, 192, or 256 bits but requested 100.",
		"SyntaxError: Secret/private CryptoKeys must have at least one usage.",
		"32", "sixteen bytes!!!",
		"66e94bd4", // AES-128 of the zero block under the zero key
	}, "\n"))
}

func TestCryptoDeriveJS(t *testing.T) {
	got := runCryptoJS(t, `
		const out = [];
		const pw = await crypto.subtle.importKey("raw", utf8("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
		const pbkdf2 = {name: "PBKDF2", hash: "SHA-256", salt: utf8("salt"), iterations: 2};
		out.push(hex(await crypto.subtle.deriveBits(pbkdf2, pw, 256)));
		const aes = await crypto.subtle.deriveKey(pbkdf2, pw, {name: "AES-GCM", length: 256}, true, ["encrypt"]);
		out.push(hex(await crypto.subtle.exportKey("raw", aes)), JSON.stringify(aes.algorithm), aes.usages.join());
		const hmac = await crypto.subtle.deriveKey(pbkdf2, pw, {name: "HMAC", hash: "SHA-256"}, true, ["sign"]);
		out.push(hmac.algorithm.length);
		out.push(await fails(crypto.subtle.deriveBits({...pbkdf2, iterations: 1000000}, pw, 256)));
		out.push(await fails(crypto.subtle.deriveBits(pbkdf2, pw)));
		out.push(await fails(crypto.subtle.importKey("raw", utf8("pw"), "PBKDF2", true, ["deriveBits"])));
		out.push(await fails(crypto.subtle.deriveKey(pbkdf2, pw, {name: "AES-GCM", length: 100}, true, ["encrypt"])));

		const ikm = await crypto.subtle.importKey("raw", new Uint8Array(22).fill(11), "HKDF", false, ["deriveBits"]);
		const fromHex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
		out.push(hex(await crypto.subtle.deriveBits({name: "HKDF", hash: "SHA-256", salt: fromHex("000102030405060708090a0b0c"), info: fromHex("f0f1f2f3f4f5f6f7f8f9")}, ikm, 336)));

		const a = await crypto.subtle.generateKey({name: "ECDH", namedCurve: "P-256"}, false, ["deriveBits"]);
		const b = await crypto.subtle.generateKey({name: "ECDH", namedCurve: "P-256"}, false, ["deriveBits"]);
		const ab = await crypto.subtle.deriveBits({name: "ECDH", public: b.publicKey}, a.privateKey, 256);
		const ba = await crypto.subtle.deriveBits({name: "ECDH", public: a.publicKey}, b.privateKey, null);
		out.push(ab.byteLength, hex(ab) === hex(ba), a.publicKey.usages.length);
		out.push(await fails(crypto.subtle.deriveBits({name: "ECDH"}, a.privateKey, 256)));

		const x = await crypto.subtle.generateKey("X25519", false, ["deriveKey"]);
		const y = await crypto.subtle.generateKey({name: "X25519"}, false, ["deriveKey"]);
		const kx = await crypto.subtle.deriveKey({name: "X25519", public: y.publicKey}, x.privateKey, {name: "AES-GCM", length: 128}, true, ["encrypt"]);
		const ky = await crypto.subtle.deriveKey({name: "X25519", public: x.publicKey}, y.privateKey, {name: "AES-GCM", length: 128}, true, ["encrypt"]);
		out.push(hex(await crypto.subtle.exportKey("raw", kx)) === hex(await crypto.subtle.exportKey("raw", ky)));
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
		"ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43", `{"name":"AES-GCM","length":256}`, "encrypt",
		"512",
		"NotSupportedError: Pbkdf2 failed: iteration counts above 100000 are not supported (requested 1000000).",
		"OperationError: PBKDF2 cannot derive a key with null length.",
		"SyntaxError: PBKDF2 key cannot be extractable.",
		"OperationError: Derived AES key must be 128, 192, or 256 bits in length but provided 100.",
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
		"32", "true", "0",
		`TypeError: Missing field "public" in "derivedKeyParams".`,
		"true",
	}, "\n"))
}

func TestCryptoEd25519AndWrapJS(t *testing.T) {
	got := runCryptoJS(t, `
		const out = [];
		const fromHex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
		const seed = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
		const pubRaw = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
		const priv = await crypto.subtle.importKey("jwk", {kty: "OKP", crv: "Ed25519", x: b64url(pubRaw), d: b64url(seed)}, "Ed25519", false, ["sign"]);
		const pub = await crypto.subtle.importKey("raw", pubRaw, {name: "NODE-ED25519", namedCurve: "NODE-ED25519"}, true, ["verify"]);
		const sig = await crypto.subtle.sign("Ed25519", priv, new Uint8Array(0));
		out.push(hex(sig).slice(0, 16));
		out.push(await crypto.subtle.verify("NODE-ED25519", pub, sig, new Uint8Array(0)));
		out.push(JSON.stringify(pub.algorithm), JSON.stringify(priv.algorithm));
		const pair = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]);
		const s = await crypto.subtle.sign("Ed25519", pair.privateKey, utf8("m"));
		out.push(await crypto.subtle.verify("Ed25519", pair.publicKey, s, utf8("m")));
		out.push(JSON.stringify(Object.keys(await crypto.subtle.exportKey("jwk", pair.privateKey))));

		const kek = await crypto.subtle.importKey("raw", fromHex("000102030405060708090A0B0C0D0E0F"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
		const inner = await crypto.subtle.importKey("raw", fromHex("00112233445566778899AABBCCDDEEFF"), "AES-GCM", true, ["encrypt"]);
		const wrapped = await crypto.subtle.wrapKey("raw", inner, kek, "AES-KW");
		out.push(hex(wrapped));
		const unwrapped = await crypto.subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt"]);
		out.push(hex(await crypto.subtle.exportKey("raw", unwrapped)));
		const gcm = await crypto.subtle.generateKey({name: "AES-GCM", length: 128}, false, ["wrapKey", "unwrapKey"]);
		const iv = new Uint8Array(12);
		const wj = await crypto.subtle.wrapKey("jwk", inner, gcm, {name: "AES-GCM", iv});
		const uj = await crypto.subtle.unwrapKey("jwk", wj, gcm, {name: "AES-GCM", iv}, {name: "AES-GCM"}, false, ["encrypt"]);
		out.push(uj.type, uj.extractable, JSON.stringify(uj.algorithm));
		out.push(await fails(crypto.subtle.wrapKey("raw", uj, gcm, {name: "AES-GCM", iv})));
		out.push(crypto.subtle.timingSafeEqual(utf8("ab"), utf8("ab")), crypto.subtle.timingSafeEqual(utf8("ab"), utf8("ac")));
		return out.join("\n");`)
	wantJS(t, got, strings.Join([]string{
		"e5564300c360ac72",
		"true",
		`{"name":"NODE-ED25519","namedCurve":"NODE-ED25519"}`, `{"name":"Ed25519"}`,
		"true",
		`["kty","key_ops","alg","ext","crv","x","d"]`,
		"1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5",
		"00112233445566778899aabbccddeeff",
		"secret", "false", `{"name":"AES-GCM","length":128}`,
		"InvalidAccessError: Attempt to export non-extractable AES-GCM key.",
		"true", "false",
	}, "\n"))
}

func TestCryptoRandomJS(t *testing.T) {
	got := runCryptoJS(t, `
		const out = [];
		const a = new Uint32Array(8);
		out.push(crypto.getRandomValues(a) === a, a.some((x) => x !== 0));
		out.push(crypto.getRandomValues(new Uint8Array(65536)).length);
		out.push(crypto.getRandomValues(new BigInt64Array(2)).length);
		for (const bad of [new Float32Array(4), new DataView(new ArrayBuffer(4)), new Uint8Array(65537), new ArrayBuffer(4)]) {
			try { crypto.getRandomValues(bad); out.push("no error"); } catch (e) { out.push(e.name + ": " + e.message); }
		}
		const uuids = new Set();
		for (let i = 0; i < 50; i++) uuids.add(crypto.randomUUID());
		out.push(uuids.size);
		out.push([...uuids][0]);
		try { new CryptoKey(); } catch (e) { out.push(e.name + ": " + e.message); }
		try { new SubtleCrypto(); } catch (e) { out.push(e.name + ": " + e.message); }
		try { new Crypto(); } catch (e) { out.push(e.name + ": " + e.message); }
		try { Object.getOwnPropertyDescriptor(CryptoKey.prototype, "type").get.call({}); } catch (e) { out.push(e.name + ": " + e.message); }
		out.push(crypto.subtle === crypto.subtle, crypto instanceof Crypto, String(crypto.subtle));
		out.push(Object.keys(globalThis).includes("crypto"), typeof globalThis.__isola_crypto);
		return out.join("\n");`)
	lines := strings.Split(got, "\n")
	if len(lines) != 19 {
		t.Fatalf("output:\n%s", got)
	}
	uuid := lines[9]
	lines[9] = "<uuid>"
	wantJS(t, strings.Join(lines, "\n"), strings.Join([]string{
		"true", "true", "65536", "2",
		"TypeMismatchError: ArrayBufferView argument to getRandomValues() must be an integer-typed view.",
		"TypeMismatchError: ArrayBufferView argument to getRandomValues() must be an integer-typed view.",
		"QuotaExceededError: getRandomValues() only accepts buffers of size <= 64K but provided 65537 bytes.",
		"TypeError: Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.",
		"50", "<uuid>",
		"TypeError: Illegal constructor", "TypeError: Illegal constructor", "TypeError: Illegal constructor",
		"TypeError: Illegal invocation",
		"true", "true", "[object SubtleCrypto]",
		"false", "undefined",
	}, "\n"))
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(uuid) {
		t.Fatalf("uuid %q", uuid)
	}
}
