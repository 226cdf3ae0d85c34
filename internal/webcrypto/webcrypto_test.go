package webcrypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// ---- helpers ----

func mustCall(t *testing.T, op string, params any, bufs ...[]byte) any {
	t.Helper()
	out, err := callJSON(op, params, bufs...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func callJSON(op string, params any, bufs ...[]byte) (any, error) {
	p, err := json.Marshal(params)
	if err != nil {
		panic(err)
	}
	return Call(op, p, bufs)
}

// callErr runs an operation that must fail and returns its error.
func callErr(t *testing.T, op string, params any, bufs ...[]byte) *Error {
	t.Helper()
	out, err := callJSON(op, params, bufs...)
	if err == nil {
		t.Fatalf("%s: want error, got %v", op, out)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T is not *Error", op, err)
	}
	return e
}

func wantErr(t *testing.T, e *Error, name, substr string) {
	t.Helper()
	if e.Name != name || !strings.Contains(e.Message, substr) {
		t.Fatalf("got %s: %s; want %s containing %q", e.Name, e.Message, name, substr)
	}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func unb64url(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// key is the JS side's view of a CryptoKey.
type key struct {
	Type      string         `json:"type"`
	Algorithm map[string]any `json:"algorithm"`
	Usages    []string       `json:"usages"`
	data      []byte
}

func importK(t *testing.T, format string, alg map[string]any, data any, usages ...string) key {
	t.Helper()
	k, err := tryImport(format, alg, data, false, usages...)
	if err != nil {
		t.Fatalf("import %s %v: %v", format, alg, err)
	}
	return k
}

func tryImport(format string, alg map[string]any, data any, extractable bool, usages ...string) (key, error) {
	if usages == nil {
		usages = []string{}
	}
	params := map[string]any{"format": format, "alg": alg, "extractable": extractable, "usages": usages}
	var buf []byte
	if b, ok := data.([]byte); ok {
		buf = b
	} else {
		params["jwk"] = data
	}
	out, err := callJSON("importKey", params, buf)
	if err != nil {
		return key{}, err
	}
	var res struct {
		Type      string         `json:"type"`
		Algorithm map[string]any `json:"algorithm"`
		Data      string         `json:"data"`
	}
	if err := json.Unmarshal([]byte(out.(string)), &res); err != nil {
		return key{}, err
	}
	return key{Type: res.Type, Algorithm: res.Algorithm, Usages: usages, data: unhex(res.Data)}, nil
}

func generate(t *testing.T, alg map[string]any) (priv, pub key) {
	t.Helper()
	out := mustCall(t, "generateKey", map[string]any{"alg": alg})
	var res struct {
		Algorithm map[string]any `json:"algorithm"`
		Secret    string         `json:"secret"`
		Private   string         `json:"private"`
		Public    string         `json:"public"`
	}
	if err := json.Unmarshal([]byte(out.(string)), &res); err != nil {
		t.Fatal(err)
	}
	if res.Secret != "" {
		return key{Type: "secret", Algorithm: res.Algorithm, data: unhex(res.Secret)}, key{}
	}
	return key{Type: "private", Algorithm: res.Algorithm, data: unhex(res.Private)},
		key{Type: "public", Algorithm: res.Algorithm, data: unhex(res.Public)}
}

func signK(t *testing.T, alg map[string]any, k key, data []byte) []byte {
	t.Helper()
	return mustCall(t, "sign", map[string]any{"alg": alg, "key": k}, k.data, data).([]byte)
}

func verifyK(t *testing.T, alg map[string]any, k key, sig, data []byte) bool {
	t.Helper()
	return mustCall(t, "verify", map[string]any{"alg": alg, "key": k}, k.data, sig, data).(bool)
}

func exportJWK(t *testing.T, k key) map[string]any {
	t.Helper()
	out := mustCall(t, "exportKey", map[string]any{"format": "jwk", "key": k}, k.data)
	var j map[string]any
	if err := json.Unmarshal([]byte(out.(string)), &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// ---- digest ----

func TestCryptoDigestVectors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"SHA-1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"sha-256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"SHA-384", "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{"SHA-512", "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{"MD5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"SHA-256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	} {
		got := mustCall(t, "digest", map[string]any{"name": tc.name}, []byte(tc.in)).([]byte)
		if hexOf(got) != tc.want {
			t.Errorf("%s(%q) = %x", tc.name, tc.in, got)
		}
	}
	wantErr(t, callErr(t, "digest", map[string]any{"name": "SHA-3"}, nil), "NotSupportedError", "Unrecognized or unimplemented digest algorithm")
	wantErr(t, callErr(t, "nope", nil), "NotSupportedError", "nope")
	wantErr(t, callErr(t, "digest", nil, nil), "NotSupportedError", "digest")
	if _, err := Call("digest", []byte("{"), nil); err == nil || err.(*Error).Name != "TypeError" {
		t.Fatalf("bad JSON: %v", err)
	}
}

// ---- HMAC ----

func TestCryptoHMACRFC4231(t *testing.T) {
	cases := []struct {
		key, data []byte
		want      map[string]string
	}{
		{bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There"), map[string]string{
			"SHA-256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
			"SHA-384": "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
			"SHA-512": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
		}},
		{[]byte("Jefe"), []byte("what do ya want for nothing?"), map[string]string{
			"SHA-256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		}},
	}
	for _, tc := range cases {
		for hash, want := range tc.want {
			k := importK(t, "raw", map[string]any{"name": "hmac", "hash": hash}, tc.key, "sign", "verify")
			if k.Algorithm["name"] != "HMAC" || k.Algorithm["hash"] != hash || k.Algorithm["length"] != float64(len(tc.key)*8) {
				t.Fatalf("algorithm %v", k.Algorithm)
			}
			sig := signK(t, nil, k, tc.data)
			if hexOf(sig) != want {
				t.Errorf("HMAC-%s = %x", hash, sig)
			}
			if !verifyK(t, nil, k, sig, tc.data) {
				t.Error("verify failed")
			}
			sig[0] ^= 1
			if verifyK(t, nil, k, sig, tc.data) {
				t.Error("tampered signature verified")
			}
			if verifyK(t, nil, k, sig[:5], tc.data) {
				t.Error("short signature verified")
			}
		}
	}
}

func TestCryptoHMACKeys(t *testing.T) {
	k, _ := generate(t, map[string]any{"name": "HMAC", "hash": "SHA-512"})
	if len(k.data) != 128 || k.Algorithm["length"] != float64(1024) {
		t.Fatalf("default SHA-512 HMAC key: %d bytes, %v", len(k.data), k.Algorithm)
	}
	k, _ = generate(t, map[string]any{"name": "HMAC", "hash": "SHA-256", "length": 20})
	if len(k.data) != 3 || k.data[2]&0x0f != 0 {
		t.Fatalf("20-bit key %x", k.data)
	}
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "HMAC"}}), "TypeError", `Missing field "hash"`)
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "HMAC", "hash": "SHA-256", "length": 0}}), "OperationError", "non-zero")

	// JWK round trip.
	raw := []byte("0123456789abcdef0123456789abcdef")
	k = importK(t, "raw", map[string]any{"name": "HMAC", "hash": "SHA-256"}, raw, "sign")
	k.Usages = []string{"sign"}
	j := exportJWK(t, k)
	if j["kty"] != "oct" || j["alg"] != "HS256" || j["k"] != base64.RawURLEncoding.EncodeToString(raw) || j["ext"] != true {
		t.Fatalf("jwk %v", j)
	}
	if ops, _ := j["key_ops"].([]any); len(ops) != 1 || ops[0] != "sign" {
		t.Fatalf("key_ops %v", j["key_ops"])
	}
	k2 := importK(t, "jwk", map[string]any{"name": "HMAC", "hash": "SHA-256"}, j, "sign")
	if !bytes.Equal(k2.data, raw) {
		t.Fatal("jwk import changed the key")
	}
	_, err := tryImport("jwk", map[string]any{"name": "HMAC", "hash": "SHA-384"}, j, false, "sign")
	wantErr(t, err.(*Error), "DataError", `expected "HS384"`)
	exported := mustCall(t, "exportKey", map[string]any{"format": "raw", "key": k}, k.data).([]byte)
	if !bytes.Equal(exported, raw) {
		t.Fatal("raw export")
	}
	_, err = tryImport("raw", map[string]any{"name": "HMAC", "hash": "SHA-256", "length": 8}, raw, false, "sign")
	wantErr(t, err.(*Error), "DataError", "Imported HMAC key length (8)")
}

// ---- AES ----

func TestCryptoAESGCMVectors(t *testing.T) {
	// The GCM spec's test cases 3, 4 and 6 (6 has a 60-byte IV).
	key := unhex("feffe9928665731c6d6a8f9467308308")
	p := unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
	aad := unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
	cases := []struct {
		iv, pt, aad []byte
		ct, tag     string
	}{
		{unhex("cafebabefacedbaddecaf888"), p, nil,
			"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
			"4d5c2af327cd64a62cf35abd2ba6fab4"},
		{unhex("cafebabefacedbaddecaf888"), p[:60], aad,
			"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
			"5bc94fbc3221a5db94fae95ae7121a47"},
		{unhex("9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b"), p[:60], aad,
			"8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
			"619cc5aefffe0bfa462af43c1699d050"},
	}
	k := importK(t, "raw", map[string]any{"name": "AES-GCM"}, key, "encrypt", "decrypt")
	for i, tc := range cases {
		for _, tagBits := range []int{128, 96, 32} {
			alg := map[string]any{"name": "AES-GCM", "iv": hexOf(tc.iv), "tagLength": tagBits}
			if tc.aad != nil {
				alg["additionalData"] = hexOf(tc.aad)
			}
			ct := mustCall(t, "encrypt", map[string]any{"alg": alg, "key": k}, k.data, tc.pt).([]byte)
			want := tc.ct + tc.tag[:tagBits/4]
			if hexOf(ct) != want {
				t.Fatalf("case %d/%d: %x", i, tagBits, ct)
			}
			pt := mustCall(t, "decrypt", map[string]any{"alg": alg, "key": k}, k.data, ct).([]byte)
			if !bytes.Equal(pt, tc.pt) {
				t.Fatalf("case %d/%d: decrypt %x", i, tagBits, pt)
			}
			for _, pos := range []int{0, len(ct) - 1} {
				bad := bytes.Clone(ct)
				bad[pos] ^= 0x80
				wantErr(t, callErr(t, "decrypt", map[string]any{"alg": alg, "key": k}, k.data, bad), "OperationError", "Decryption failed")
			}
		}
	}
	alg := map[string]any{"name": "AES-GCM", "iv": ""}
	wantErr(t, callErr(t, "encrypt", map[string]any{"alg": alg, "key": k}, k.data, nil), "OperationError", "IV must not be empty")
	wantErr(t, callErr(t, "encrypt", map[string]any{"alg": map[string]any{"name": "AES-GCM"}, "key": k}, k.data, nil), "TypeError", `Missing field "iv"`)
	alg = map[string]any{"name": "AES-GCM", "iv": "00", "tagLength": 100}
	wantErr(t, callErr(t, "encrypt", map[string]any{"alg": alg, "key": k}, k.data, nil), "OperationError", "Invalid AES-GCM tag length 100.")
	alg = map[string]any{"name": "AES-GCM", "iv": "00"}
	wantErr(t, callErr(t, "decrypt", map[string]any{"alg": alg, "key": k}, k.data, []byte{1, 2}), "OperationError", "Ciphertext length of 16 bits")
}

func TestCryptoAESCBCAndCTR(t *testing.T) {
	// NIST SP 800-38A F.2.1 and F.5.1.
	key := unhex("2b7e151628aed2a6abf7158809cf4f3c")
	p := unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
	cbc := importK(t, "raw", map[string]any{"name": "AES-CBC"}, key, "encrypt", "decrypt")
	alg := map[string]any{"name": "AES-CBC", "iv": "000102030405060708090a0b0c0d0e0f"}
	ct := mustCall(t, "encrypt", map[string]any{"alg": alg, "key": cbc}, cbc.data, p).([]byte)
	if !strings.HasPrefix(hexOf(ct), "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2") || len(ct) != 48 {
		t.Fatalf("CBC %x", ct)
	}
	pt := mustCall(t, "decrypt", map[string]any{"alg": alg, "key": cbc}, cbc.data, ct).([]byte)
	if !bytes.Equal(pt, p) {
		t.Fatalf("CBC decrypt %x", pt)
	}
	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	wantErr(t, callErr(t, "decrypt", map[string]any{"alg": alg, "key": cbc}, cbc.data, bad), "OperationError", "Decryption failed")
	wantErr(t, callErr(t, "decrypt", map[string]any{"alg": alg, "key": cbc}, cbc.data, ct[:20]), "OperationError", "Decryption failed")
	wantErr(t, callErr(t, "encrypt", map[string]any{"alg": map[string]any{"iv": "00"}, "key": cbc}, cbc.data, p), "OperationError", "AES-CBC IV must be 16 bytes long (provided 1 bytes).")

	ctr := importK(t, "raw", map[string]any{"name": "AES-CTR"}, key, "encrypt", "decrypt")
	alg = map[string]any{"name": "AES-CTR", "counter": "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "length": 128}
	ct = mustCall(t, "encrypt", map[string]any{"alg": alg, "key": ctr}, ctr.data, p).([]byte)
	if hexOf(ct) != "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff" {
		t.Fatalf("CTR %x", ct)
	}
	// With an 8-bit counter the second block's counter wraps to ...fe00
	// instead of carrying into ...ff00.
	alg["length"] = 8
	ct8 := mustCall(t, "encrypt", map[string]any{"alg": alg, "key": ctr}, ctr.data, p).([]byte)
	second := mustCall(t, "encrypt", map[string]any{"key": ctr, "alg": map[string]any{
		"counter": "f0f1f2f3f4f5f6f7f8f9fafbfcfdfe00", "length": 8}}, ctr.data, p[16:]).([]byte)
	if !bytes.Equal(ct8[:16], ct[:16]) || !bytes.Equal(ct8[16:], second) {
		t.Fatalf("CTR wrap %x", ct8)
	}
	alg["length"] = 1
	wantErr(t, callErr(t, "encrypt", map[string]any{"alg": alg, "key": ctr}, ctr.data, make([]byte, 33)), "OperationError", "Counter block values will repeat")
	alg["length"] = 0
	wantErr(t, callErr(t, "encrypt", map[string]any{"alg": alg, "key": ctr}, ctr.data, p), "OperationError", "Invalid counter of 0 bits")
}

func TestCryptoAESKeys(t *testing.T) {
	k, _ := generate(t, map[string]any{"name": "aes-gcm", "length": 256})
	if len(k.data) != 32 || k.Algorithm["name"] != "AES-GCM" || k.Algorithm["length"] != float64(256) {
		t.Fatalf("generated %v %d", k.Algorithm, len(k.data))
	}
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "AES-CBC", "length": 100}}), "OperationError", "requested 100.")
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "AES-CBC"}}), "TypeError", `"length"`)
	_, err := tryImport("raw", map[string]any{"name": "AES-GCM"}, make([]byte, 15), false, "encrypt")
	wantErr(t, err.(*Error), "DataError", "provided 120.")
	j := exportJWK(t, k)
	if j["alg"] != "A256GCM" || j["kty"] != "oct" {
		t.Fatalf("jwk %v", j)
	}
	_, err = tryImport("jwk", map[string]any{"name": "AES-CBC"}, j, false)
	wantErr(t, err.(*Error), "DataError", `expected "A256CBC"`)
	j["key_ops"] = []string{"encrypt"}
	_, err = tryImport("jwk", map[string]any{"name": "AES-GCM"}, j, false, "decrypt")
	wantErr(t, err.(*Error), "DataError", `"jwk" key missing usage "decrypt"`)
	j["ext"] = false
	_, err = tryImport("jwk", map[string]any{"name": "AES-GCM"}, j, true, "encrypt")
	wantErr(t, err.(*Error), "DataError", "ext")
	wantErr(t, callErr(t, "exportKey", map[string]any{"format": "spki", "key": k}, k.data), "NotSupportedError", `not "spki"`)
}

func TestCryptoAESKW(t *testing.T) {
	// RFC 3394 section 4.1.
	kek := importK(t, "raw", map[string]any{"name": "AES-KW"}, unhex("000102030405060708090A0B0C0D0E0F"), "wrapKey", "unwrapKey")
	plain := unhex("00112233445566778899AABBCCDDEEFF")
	want := "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"
	wrapped := mustCall(t, "wrapKey", map[string]any{"alg": map[string]any{"name": "AES-KW"}, "key": kek}, kek.data, plain).([]byte)
	if hexOf(wrapped) != want {
		t.Fatalf("wrap %x", wrapped)
	}
	got := mustCall(t, "unwrapKey", map[string]any{"key": kek}, kek.data, wrapped).([]byte)
	if !bytes.Equal(got, plain) {
		t.Fatalf("unwrap %x", got)
	}
	wrapped[3] ^= 1
	wantErr(t, callErr(t, "unwrapKey", map[string]any{"key": kek}, kek.data, wrapped), "OperationError", "unwrapping failed")
	wantErr(t, callErr(t, "wrapKey", map[string]any{"key": kek}, kek.data, plain[:12]), "OperationError", "multiple of 64 bits")
	wantErr(t, callErr(t, "encrypt", map[string]any{"key": kek}, kek.data, plain), "NotSupportedError", `The encrypt operation is not implemented for "AES-KW".`)
}

// ---- KDFs ----

func TestCryptoPBKDF2(t *testing.T) {
	k := importK(t, "raw", map[string]any{"name": "PBKDF2"}, []byte("password"), "deriveBits")
	salt := hexOf([]byte("salt"))
	for _, tc := range []struct {
		hash   string
		iter   int
		length int
		want   string
	}{
		{"SHA-1", 1, 160, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{"SHA-1", 2, 160, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"SHA-256", 1, 256, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
		{"SHA-256", 2, 256, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
	} {
		out := mustCall(t, "deriveBits", map[string]any{"key": k, "length": tc.length,
			"alg": map[string]any{"name": "PBKDF2", "hash": tc.hash, "salt": salt, "iterations": tc.iter}}, k.data).([]byte)
		if hexOf(out) != tc.want {
			t.Errorf("PBKDF2-%s/%d = %x", tc.hash, tc.iter, out)
		}
	}
	alg := map[string]any{"name": "PBKDF2", "hash": "SHA-256", "salt": salt, "iterations": 100001}
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 256, "alg": alg}, k.data), "NotSupportedError", "iteration counts above 100000")
	alg["iterations"] = 0
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 256, "alg": alg}, k.data), "OperationError", "positive iteration count")
	alg["iterations"] = 1
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "alg": alg}, k.data), "OperationError", "null length")
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 12, "alg": alg}, k.data), "OperationError", "multiple of eight")
	delete(alg, "salt")
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 256, "alg": alg}, k.data), "TypeError", `"salt"`)
	_, err := tryImport("raw", map[string]any{"name": "PBKDF2"}, []byte("pw"), true, "deriveBits")
	wantErr(t, err.(*Error), "SyntaxError", "PBKDF2 key cannot be extractable.")
	_, err = tryImport("jwk", map[string]any{"name": "PBKDF2"}, map[string]any{"kty": "oct"}, false, "deriveBits")
	wantErr(t, err.(*Error), "NotSupportedError", `must be imported in "raw" format`)
	wantErr(t, callErr(t, "exportKey", map[string]any{"format": "raw", "key": k}, k.data), "NotSupportedError", "PBKDF2")
}

func TestCryptoHKDF(t *testing.T) {
	// RFC 5869 A.1.
	k := importK(t, "raw", map[string]any{"name": "HKDF"}, bytes.Repeat([]byte{0x0b}, 22), "deriveBits")
	alg := map[string]any{"name": "HKDF", "hash": "SHA-256", "salt": "000102030405060708090a0b0c", "info": "f0f1f2f3f4f5f6f7f8f9"}
	out := mustCall(t, "deriveBits", map[string]any{"key": k, "length": 42 * 8, "alg": alg}, k.data).([]byte)
	if hexOf(out) != "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" {
		t.Fatalf("HKDF %x", out)
	}
	delete(alg, "info")
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 256, "alg": alg}, k.data), "TypeError", `"info"`)
	alg["info"] = ""
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 255*32*8 + 8, "alg": alg}, k.data), "OperationError", "HKDF deriveBits failed.")
}

// ---- ECDSA / ECDH ----

// The P-256 key and ES256 JWS of RFC 7515 appendix A.3.
var es256JWK = map[string]any{
	"kty": "EC", "crv": "P-256",
	"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
	"y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
	"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
}

const jwsPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

func publicJWK(j map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range j {
		switch k {
		case "d", "p", "q", "dp", "dq", "qi":
		default:
			out[k] = v
		}
	}
	return out
}

func TestCryptoECDSAJWK(t *testing.T) {
	ec := map[string]any{"name": "ECDSA", "namedCurve": "P-256"}
	pub := importK(t, "jwk", ec, publicJWK(es256JWK), "verify")
	if pub.Type != "public" || pub.Algorithm["namedCurve"] != "P-256" {
		t.Fatalf("public key %+v", pub)
	}
	input := []byte("eyJhbGciOiJFUzI1NiJ9." + jwsPayload)
	sig := unb64url("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
	sha := map[string]any{"name": "ECDSA", "hash": "SHA-256"}
	if !verifyK(t, sha, pub, sig, input) {
		t.Fatal("RFC 7515 A.3 signature did not verify")
	}
	sig[10] ^= 1
	if verifyK(t, sha, pub, sig, input) {
		t.Fatal("tampered signature verified")
	}
	if verifyK(t, sha, pub, sig[:63], input) {
		t.Fatal("short signature verified")
	}

	priv := importK(t, "jwk", ec, es256JWK, "sign")
	if priv.Type != "private" {
		t.Fatalf("type %s", priv.Type)
	}
	s := signK(t, sha, priv, []byte("hello"))
	if len(s) != 64 || !verifyK(t, sha, pub, s, []byte("hello")) {
		t.Fatalf("round trip failed (%d bytes)", len(s))
	}
	wantErr(t, callErr(t, "sign", map[string]any{"alg": map[string]any{"name": "ECDSA"}, "key": priv}, priv.data, nil), "TypeError", `Missing "hash"`)
	wantErr(t, callErr(t, "sign", map[string]any{"alg": sha, "key": pub}, pub.data, nil), "InvalidAccessError", "requires a private key")

	// Export: the JWK comes back as imported; raw and spki round-trip.
	j := exportJWK(t, priv)
	for _, m := range []string{"x", "y", "d", "crv", "kty"} {
		if j[m] != es256JWK[m] {
			t.Fatalf("exported %s = %v", m, j[m])
		}
	}
	raw := mustCall(t, "exportKey", map[string]any{"format": "raw", "key": pub}, pub.data).([]byte)
	if len(raw) != 65 || raw[0] != 4 {
		t.Fatalf("raw %x", raw)
	}
	fromRaw := importK(t, "raw", ec, raw, "verify")
	if !verifyK(t, sha, fromRaw, s, []byte("hello")) {
		t.Fatal("raw-imported key did not verify")
	}
	wantErr(t, callErr(t, "exportKey", map[string]any{"format": "raw", "key": priv}, priv.data), "InvalidAccessError", "only allowed for public keys")
	wantErr(t, callErr(t, "exportKey", map[string]any{"format": "spki", "key": priv}, priv.data), "InvalidAccessError", `requires public key (not "private")`)
	spki := mustCall(t, "exportKey", map[string]any{"format": "spki", "key": pub}, pub.data).([]byte)
	if !bytes.Equal(importK(t, "spki", ec, spki, "verify").data, spki) {
		t.Fatal("spki round trip")
	}

	// Mismatches.
	_, err := tryImport("jwk", map[string]any{"name": "ECDSA", "namedCurve": "P-384"}, es256JWK, false, "sign")
	wantErr(t, err.(*Error), "DataError", `"crv"`)
	_, err = tryImport("spki", map[string]any{"name": "ECDSA", "namedCurve": "P-384"}, spki, false, "verify")
	wantErr(t, err.(*Error), "DataError", "does not match the curve")
	bad := publicJWK(es256JWK)
	bad["alg"] = "ES384"
	_, err = tryImport("jwk", ec, bad, false, "verify")
	wantErr(t, err.(*Error), "DataError", `"alg" ("ES384")`)
	bad["alg"] = "ES256"
	bad["y"] = "y_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
	_, err = tryImport("jwk", ec, bad, false, "verify")
	wantErr(t, err.(*Error), "OperationError", "coordinates")
	_, err = tryImport("raw", map[string]any{"name": "ECDSA", "namedCurve": "P-192"}, raw, false, "verify")
	wantErr(t, err.(*Error), "NotSupportedError", `EC curve "P-192"`)
	_, err = tryImport("raw", map[string]any{"name": "ECDSA"}, raw, false, "verify")
	wantErr(t, err.(*Error), "TypeError", "namedCurve")
	_, err = tryImport("pkcs8", ec, []byte("nope"), false, "sign")
	wantErr(t, err.(*Error), "DataError", "Invalid PKCS8 input.")
}

func TestCryptoECDSAP384Vector(t *testing.T) {
	pub := importK(t, "jwk", map[string]any{"name": "ECDSA", "namedCurve": "P-384"}, map[string]any{
		"kty": "EC", "crv": "P-384",
		"x": "YHVZ4gc1RDoqxKm4NzaN_Y1r7R7h3RM3JMteC478apSKUiLVb4UNytqWaLoE6ygH",
		"y": "CRKSqP-aYTIsqJfg_wZEEYUayUR5JhZaS2m4NLk2t1DfXZgfApAJ2lBO0vWKnUMp",
	}, "verify")
	token := "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6IjE5MzFmZTQ0YmFhMWNhZTkyZWUzNzYzOTQ0MDU1OGMwODdlMTRlNjk5ZWU5NjVhM2Q1OGU1MmU2NGY4MDE0NWIifQ.eyJpc3MiOiJicmt0LWNsaS0xLjAuN3ByZTEiLCJpYXQiOjE0ODQ2OTU1MjAsImp0aSI6IjgxYjczY2Y3In0.DdFi0KmPHSv4PfIMGcWGMSRLmZsfRPQ3muLFW6Ly2HpiLFFQWZ0VEanyrFV263wjlp3udfedgw_vrBLz3XC8CkbvCo_xeHMzaTr_yfhjoheSj8gWRLwB-22rOnUX_M0A"
	i := strings.LastIndexByte(token, '.')
	if !verifyK(t, map[string]any{"hash": "SHA-384"}, pub, unb64url(token[i+1:]), []byte(token[:i])) {
		t.Fatal("ES384 token did not verify")
	}
}

func TestCryptoECDSAGenerate(t *testing.T) {
	for _, curve := range []string{"P-256", "P-384", "P-521"} {
		priv, pub := generate(t, map[string]any{"name": "ECDSA", "namedCurve": curve})
		sha := map[string]any{"hash": "SHA-512"}
		s := signK(t, sha, priv, []byte("x"))
		if len(s) != 2*curveByName(curve).size || !verifyK(t, sha, pub, s, []byte("x")) || verifyK(t, sha, pub, s, []byte("y")) {
			t.Fatalf("%s round trip", curve)
		}
	}
}

func TestCryptoECDH(t *testing.T) {
	for _, curve := range []string{"P-256", "P-521"} {
		alg := map[string]any{"name": "ECDH", "namedCurve": curve}
		aPriv, aPub := generate(t, alg)
		bPriv, bPub := generate(t, alg)
		ab := mustCall(t, "deriveBits", map[string]any{"key": aPriv, "public": bPub}, aPriv.data, bPub.data).([]byte)
		ba := mustCall(t, "deriveBits", map[string]any{"key": bPriv, "public": aPub}, bPriv.data, aPub.data).([]byte)
		if !bytes.Equal(ab, ba) || len(ab) != curveByName(curve).size {
			t.Fatalf("%s: %x != %x", curve, ab, ba)
		}
		short := mustCall(t, "deriveBits", map[string]any{"key": aPriv, "public": bPub, "length": 12}, aPriv.data, bPub.data).([]byte)
		if len(short) != 2 || short[0] != ab[0] || short[1] != ab[1]&0xf0 {
			t.Fatalf("12 bits: %x of %x", short, ab)
		}
		wantErr(t, callErr(t, "deriveBits", map[string]any{"key": aPriv, "public": bPub, "length": len(ab)*8 + 8}, aPriv.data, bPub.data), "OperationError", "too long")
		wantErr(t, callErr(t, "deriveBits", map[string]any{"key": aPub, "public": bPub}, aPub.data, bPub.data), "InvalidAccessError", "only valid for a private key")
		wantErr(t, callErr(t, "deriveBits", map[string]any{"key": aPriv, "public": bPriv}, aPriv.data, bPriv.data), "InvalidAccessError", `has type "private"`)
		wantErr(t, callErr(t, "deriveBits", map[string]any{"key": aPriv}, aPriv.data), "TypeError", `"public"`)
	}
	p256, _ := generate(t, map[string]any{"name": "ECDH", "namedCurve": "P-256"})
	_, p384 := generate(t, map[string]any{"name": "ECDH", "namedCurve": "P-384"})
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": p256, "public": p384}, p256.data, p384.data), "InvalidAccessError", "curve")
	_, x := generate(t, map[string]any{"name": "X25519"})
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": p256, "public": x}, p256.data, x.data), "InvalidAccessError", "peer X25519")
}

func TestCryptoX25519Vector(t *testing.T) {
	// RFC 7748 section 6.1.
	x := map[string]any{"name": "X25519"}
	alicePriv := importK(t, "jwk", x, map[string]any{"kty": "OKP", "crv": "X25519",
		"x": b64(unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")),
		"d": b64(unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))}, "deriveBits")
	bobPub := importK(t, "raw", x, unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
	out := mustCall(t, "deriveBits", map[string]any{"key": alicePriv, "public": bobPub}, alicePriv.data, bobPub.data).([]byte)
	if hexOf(out) != "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" {
		t.Fatalf("X25519 %x", out)
	}
	zero := importK(t, "raw", x, make([]byte, 32))
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": alicePriv, "public": zero}, alicePriv.data, zero.data), "OperationError", "small order")
	j := exportJWK(t, alicePriv)
	if j["crv"] != "X25519" || j["d"] == nil || j["alg"] != nil {
		t.Fatalf("jwk %v", j)
	}
}

// ---- Ed25519 ----

func TestCryptoEd25519(t *testing.T) {
	// RFC 8032 section 7.1, test 1.
	seed := unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	pubRaw := unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	want := "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
	for _, name := range []string{"Ed25519", "NODE-ED25519"} {
		alg := map[string]any{"name": name, "namedCurve": "NODE-ED25519"}
		priv := importK(t, "jwk", alg, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pubRaw), "d": b64(seed)}, "sign")
		pub := importK(t, "raw", alg, pubRaw, "verify")
		sig := signK(t, nil, priv, nil)
		if hexOf(sig) != want {
			t.Fatalf("%s sig %x", name, sig)
		}
		if !verifyK(t, nil, pub, sig, nil) || verifyK(t, nil, pub, sig, []byte("x")) {
			t.Fatalf("%s verify", name)
		}
		wantErr(t, callErr(t, "verify", map[string]any{"key": pub}, pub.data, sig[:10], nil), "OperationError", "signature length 10")
		j := exportJWK(t, priv)
		if j["x"] != b64(pubRaw) || j["d"] != b64(seed) || j["crv"] != "Ed25519" {
			t.Fatalf("jwk %v", j)
		}
		if (j["alg"] == "EdDSA") != (name == "Ed25519") {
			t.Fatalf("%s alg %v", name, j["alg"])
		}
		if name == "NODE-ED25519" && priv.Algorithm["namedCurve"] != "NODE-ED25519" {
			t.Fatalf("algorithm %v", priv.Algorithm)
		}
	}
	_, err := tryImport("raw", map[string]any{"name": "NODE-ED25519", "namedCurve": "X"}, pubRaw, false, "verify")
	wantErr(t, err.(*Error), "NotSupportedError", `EDDSA curve "X"`)
	_, err = tryImport("raw", map[string]any{"name": "Ed25519"}, pubRaw[:31], false, "verify")
	wantErr(t, err.(*Error), "DataError", "exactly 32-bytes (provided 31)")
	_, err = tryImport("jwk", map[string]any{"name": "Ed25519"}, map[string]any{"kty": "OKP", "crv": "X25519", "x": b64(pubRaw)}, false, "verify")
	wantErr(t, err.(*Error), "NotSupportedError", "Only Ed25519")
	priv, pub := generate(t, map[string]any{"name": "Ed25519"})
	if !verifyK(t, nil, pub, signK(t, nil, priv, []byte("m")), []byte("m")) {
		t.Fatal("generated Ed25519 round trip")
	}
	// A P-256 SPKI is not an Ed25519 key.
	_, ecPub := generate(t, map[string]any{"name": "ECDSA", "namedCurve": "P-256"})
	_, err = tryImport("spki", map[string]any{"name": "Ed25519"}, ecPub.data, false, "verify")
	wantErr(t, err.(*Error), "DataError", "not an Ed25519 key")
}

// ---- RSA ----

// The RSA key of RFC 7515 appendix A.2.
var rs256JWK = map[string]any{
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

const rs256Sig = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

func TestCryptoRSAPKCS1JWK(t *testing.T) {
	alg := map[string]any{"name": "RSASSA-PKCS1-v1_5", "hash": "SHA-256"}
	priv := importK(t, "jwk", alg, rs256JWK, "sign")
	pub := importK(t, "jwk", alg, publicJWK(rs256JWK), "verify")
	if priv.Algorithm["modulusLength"] != float64(2048) || priv.Algorithm["publicExponent"] != "010001" || priv.Algorithm["hash"] != "SHA-256" {
		t.Fatalf("algorithm %v", priv.Algorithm)
	}
	input := []byte("eyJhbGciOiJSUzI1NiJ9." + jwsPayload)
	// PKCS #1 v1.5 signatures are deterministic: this must be the RFC's.
	sig := signK(t, nil, priv, input)
	if b64(sig) != rs256Sig {
		t.Fatalf("RS256 signature %s", b64(sig))
	}
	if !verifyK(t, nil, pub, sig, input) {
		t.Fatal("verify")
	}
	sig[100] ^= 1
	if verifyK(t, nil, pub, sig, input) {
		t.Fatal("tampered signature verified")
	}
	if verifyK(t, nil, pub, sig[:200], input) {
		t.Fatal("short signature verified")
	}

	j := exportJWK(t, priv)
	for _, m := range []string{"n", "e", "d", "p", "q", "dp", "dq", "qi"} {
		if j[m] != rs256JWK[m] {
			t.Errorf("exported %s differs", m)
		}
	}
	if j["alg"] != "RS256" {
		t.Errorf("alg %v", j["alg"])
	}
	wantErr(t, callErr(t, "exportKey", map[string]any{"format": "raw", "key": pub}, pub.data), "InvalidAccessError", `in "raw" format`)
	wantErr(t, callErr(t, "sign", map[string]any{"key": pub}, pub.data, input), "InvalidAccessError", "requires a private key")
	wantErr(t, callErr(t, "verify", map[string]any{"key": priv}, priv.data, sig, input), "InvalidAccessError", "requires a public key")

	withAlg := publicJWK(rs256JWK)
	withAlg["alg"] = "RS384"
	_, err := tryImport("jwk", alg, withAlg, false, "verify")
	wantErr(t, err.(*Error), "DataError", `"alg" ("RS384")`)
	withAlg["alg"] = "PS256"
	_, err = tryImport("jwk", alg, withAlg, false, "verify")
	wantErr(t, err.(*Error), "NotSupportedError", `"PS256"`)
	withAlg["alg"] = "RS256"
	withAlg["use"] = "enc"
	_, err = tryImport("jwk", alg, withAlg, false, "verify")
	wantErr(t, err.(*Error), "DataError", `"use"`)
	delete(withAlg, "use")
	withAlg["key_ops"] = []string{"sign"}
	_, err = tryImport("jwk", alg, withAlg, false, "verify")
	wantErr(t, err.(*Error), "DataError", "key_ops")
	withAlg["key_ops"] = []string{"verify", "verify"}
	_, err = tryImport("jwk", alg, withAlg, false, "verify")
	wantErr(t, err.(*Error), "DataError", "duplicates")
	noPrimes := map[string]any{"kty": "RSA", "n": rs256JWK["n"], "e": "AQAB", "d": rs256JWK["d"]}
	_, err = tryImport("jwk", alg, noPrimes, false, "sign")
	wantErr(t, err.(*Error), "NotSupportedError", "prime factors")
	noPrimes["p"] = rs256JWK["p"]
	_, err = tryImport("jwk", alg, noPrimes, false, "sign")
	wantErr(t, err.(*Error), "DataError", "must all be present")
	_, err = tryImport("jwk", alg, es256JWK, false, "sign")
	wantErr(t, err.(*Error), "DataError", `("EC") equal to "RSA"`)
	_, err = tryImport("jwk", map[string]any{"name": "RSA-PSS"}, rs256JWK, false, "sign")
	wantErr(t, err.(*Error), "TypeError", `"hash"`)

	// spki/pkcs8 round trips, and the key type must fit the algorithm.
	spki := mustCall(t, "exportKey", map[string]any{"format": "spki", "key": pub}, pub.data).([]byte)
	pkcs8 := mustCall(t, "exportKey", map[string]any{"format": "pkcs8", "key": priv}, priv.data).([]byte)
	pub2 := importK(t, "spki", alg, spki, "verify")
	priv2 := importK(t, "pkcs8", alg, pkcs8, "sign")
	if !verifyK(t, nil, pub2, signK(t, nil, priv2, []byte("m")), []byte("m")) {
		t.Fatal("DER round trip")
	}
	_, ecPub := generate(t, map[string]any{"name": "ECDSA", "namedCurve": "P-256"})
	_, err = tryImport("spki", alg, ecPub.data, false, "verify")
	wantErr(t, err.(*Error), "DataError", "not an RSA key")
	_, err = tryImport("raw", alg, spki, false, "verify")
	wantErr(t, err.(*Error), "NotSupportedError", `format "raw"`)
}

func TestCryptoRSAPSSAndOAEP(t *testing.T) {
	pss := map[string]any{"name": "RSA-PSS", "hash": "SHA-384"}
	priv := importK(t, "jwk", pss, rs256JWK, "sign")
	pub := importK(t, "jwk", pss, publicJWK(rs256JWK), "verify")
	for _, salt := range []int{32, 48, 0} {
		params := map[string]any{"name": "RSA-PSS", "saltLength": salt}
		if salt == 0 {
			wantErr(t, callErr(t, "sign", map[string]any{"alg": params, "key": priv}, priv.data, []byte("m")), "NotSupportedError", "saltLength of 0")
			continue
		}
		sig := signK(t, params, priv, []byte("m"))
		if !verifyK(t, params, pub, sig, []byte("m")) || verifyK(t, params, pub, sig, []byte("n")) {
			t.Fatalf("PSS salt %d", salt)
		}
	}
	wantErr(t, callErr(t, "sign", map[string]any{"alg": map[string]any{}, "key": priv}, priv.data, nil), "TypeError", "requires a salt")
	wantErr(t, callErr(t, "sign", map[string]any{"alg": map[string]any{"saltLength": -1}, "key": priv}, priv.data, nil), "DataError", "non-negative")
	wantErr(t, callErr(t, "sign", map[string]any{"alg": map[string]any{"saltLength": 300}, "key": priv}, priv.data, nil), "OperationError", "salt length")
	if j := exportJWK(t, priv); j["alg"] != "PS384" {
		t.Fatalf("alg %v", j["alg"])
	}

	oaep := map[string]any{"name": "RSA-OAEP", "hash": "SHA-256"}
	oPub := importK(t, "jwk", oaep, publicJWK(rs256JWK), "encrypt")
	oPriv := importK(t, "jwk", oaep, rs256JWK, "decrypt")
	label := map[string]any{"label": hexOf([]byte("L"))}
	ct := mustCall(t, "encrypt", map[string]any{"alg": label, "key": oPub}, oPub.data, []byte("secret")).([]byte)
	pt := mustCall(t, "decrypt", map[string]any{"alg": label, "key": oPriv}, oPriv.data, ct).([]byte)
	if string(pt) != "secret" {
		t.Fatalf("OAEP %q", pt)
	}
	wantErr(t, callErr(t, "decrypt", map[string]any{"alg": map[string]any{}, "key": oPriv}, oPriv.data, ct), "OperationError", "RSA-OAEP")
	wantErr(t, callErr(t, "encrypt", map[string]any{"key": oPriv}, oPriv.data, ct), "InvalidAccessError", "public keys")
	if j := exportJWK(t, oPub); j["alg"] != "RSA-OAEP-256" || j["d"] != nil {
		t.Fatalf("jwk %v", j)
	}
	// RSA-OAEP wraps through encrypt.
	w := mustCall(t, "wrapKey", map[string]any{"key": oPub}, oPub.data, []byte("k")).([]byte)
	if u := mustCall(t, "unwrapKey", map[string]any{"key": oPriv}, oPriv.data, w).([]byte); string(u) != "k" {
		t.Fatal("OAEP wrap")
	}
}

func TestCryptoRSAGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA key generation is slow")
	}
	e := hexOf([]byte{1, 0, 1})
	priv, pub := generate(t, map[string]any{"name": "RSASSA-PKCS1-v1_5", "hash": "SHA-256", "modulusLength": 1024, "publicExponent": e})
	if priv.Algorithm["modulusLength"] != float64(1024) || pub.Algorithm["publicExponent"] != e {
		t.Fatalf("algorithm %v", priv.Algorithm)
	}
	if !verifyK(t, nil, pub, signK(t, nil, priv, []byte("m")), []byte("m")) {
		t.Fatal("generated RSA round trip")
	}
	gen := func(bits int, exp []byte) *Error {
		return callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "RSA-PSS", "hash": "SHA-256", "modulusLength": bits, "publicExponent": hexOf(exp)}})
	}
	wantErr(t, gen(1001, []byte{1, 0, 1}), "OperationError", "multiple of 8")
	wantErr(t, gen(1000, []byte{1, 0, 1}), "OperationError", "multiple of 128")
	wantErr(t, gen(1024, []byte{5}), "OperationError", "either 3 or 65537, but got 5.")
	wantErr(t, gen(1024, []byte{1, 0, 0, 0, 1}), "OperationError", "larger than 2^32")
	wantErr(t, gen(512, []byte{1, 0, 1}), "NotSupportedError", "smaller than 1024")
	wantErr(t, gen(1024, []byte{3}), "NotSupportedError", "publicExponent of 3")
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "RSA-PSS", "hash": "SHA-256", "modulusLength": 1024}}), "TypeError", "publicExponent")
}

// ---- dispatch ----

func TestCryptoDispatchErrors(t *testing.T) {
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "PBKDF2"}}), "NotSupportedError", `Unrecognized key generation algorithm "PBKDF2" requested.`)
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "FOO"}}), "NotSupportedError", `"FOO"`)
	_, err := tryImport("raw", map[string]any{"name": "FOO"}, []byte{1}, false)
	wantErr(t, err.(*Error), "NotSupportedError", `Unrecognized key import algorithm "FOO" requested.`)
	_, err = tryImport("pem", map[string]any{"name": "HMAC", "hash": "SHA-256"}, []byte{1}, false)
	wantErr(t, err.(*Error), "NotSupportedError", `Unrecognized key import format "pem".`)
	hmacKey := key{Type: "secret", Algorithm: map[string]any{"name": "HMAC", "hash": "SHA-256"}, data: []byte("k")}
	wantErr(t, callErr(t, "encrypt", map[string]any{"key": hmacKey}, hmacKey.data, nil), "NotSupportedError", `encrypt operation is not implemented for "HMAC"`)
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": hmacKey}, hmacKey.data), "NotSupportedError", "deriveBits operations are not implemented")
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": hmacKey, "length": -1}, hmacKey.data), "TypeError", "unsigned long")
	if e := (&Error{"DataError", "m"}).Error(); e != "DataError: m" {
		t.Fatal(e)
	}
}

func TestCryptoKeyFormats(t *testing.T) {
	// A compressed P-256 point imports as the same key.
	ec := map[string]any{"name": "ECDH", "namedCurve": "P-256"}
	_, pub := generate(t, ec)
	raw := mustCall(t, "exportKey", map[string]any{"format": "raw", "key": pub}, pub.data).([]byte)
	compressed := append([]byte{2 + raw[64]&1}, raw[1:33]...)
	back := importK(t, "raw", ec, compressed)
	if got := mustCall(t, "exportKey", map[string]any{"format": "raw", "key": back}, back.data).([]byte); !bytes.Equal(got, raw) {
		t.Fatalf("compressed import: %x", got)
	}
	_, err := tryImport("raw", ec, raw[:40], false)
	wantErr(t, err.(*Error), "DataError", "Failed to import raw EC key data")
	_, err = tryImport("raw", ec, compressed, false, "deriveBits")
	if err != nil {
		// Usage validation is the JS side's job; Go accepts what it is given.
		t.Fatalf("raw ECDH import with usages: %v", err)
	}

	// X25519 and Ed25519 keys move through every format.
	for _, name := range []string{"X25519", "Ed25519"} {
		priv, pub := generate(t, map[string]any{"name": name})
		pkcs8 := mustCall(t, "exportKey", map[string]any{"format": "pkcs8", "key": priv}, priv.data).([]byte)
		spki := mustCall(t, "exportKey", map[string]any{"format": "spki", "key": pub}, pub.data).([]byte)
		raw := mustCall(t, "exportKey", map[string]any{"format": "raw", "key": pub}, pub.data).([]byte)
		if len(raw) != 32 {
			t.Fatalf("%s raw %x", name, raw)
		}
		alg := map[string]any{"name": name}
		if !bytes.Equal(importK(t, "pkcs8", alg, pkcs8).data, priv.data) || !bytes.Equal(importK(t, "spki", alg, spki).data, pub.data) {
			t.Fatalf("%s DER round trip", name)
		}
		pj := exportJWK(t, pub)
		if pj["x"] != b64(raw) || pj["d"] != nil || pj["kty"] != "OKP" {
			t.Fatalf("%s public jwk %v", name, pj)
		}
		if !bytes.Equal(importK(t, "jwk", alg, exportJWK(t, priv)).data, priv.data) {
			t.Fatalf("%s private jwk round trip", name)
		}
		wantErr(t, callErr(t, "exportKey", map[string]any{"format": "raw", "key": priv}, priv.data), "InvalidAccessError", "only allowed for public keys")
		wantErr(t, callErr(t, "exportKey", map[string]any{"format": "pem", "key": pub}, pub.data), "InvalidAccessError", `in "pem" format`)
	}
	edPriv, edPub := generate(t, map[string]any{"name": "Ed25519"})
	wantErr(t, callErr(t, "sign", map[string]any{"key": edPub}, edPub.data, nil), "InvalidAccessError", "private key")
	wantErr(t, callErr(t, "verify", map[string]any{"key": edPriv}, edPriv.data, make([]byte, 64), nil), "InvalidAccessError", "public key")
	_, err = tryImport("jwk", map[string]any{"name": "Ed25519"}, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, false)
	wantErr(t, err.(*Error), "DataError", "Invalid length 3 for public key")
	_, err = tryImport("jwk", map[string]any{"name": "Ed25519"}, map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "ES256", "x": b64(make([]byte, 32))}, false)
	wantErr(t, err.(*Error), "DataError", `"alg" ("ES256")`)
	_, err = tryImport("jwk", map[string]any{"name": "X25519"}, map[string]any{"kty": "EC"}, false)
	wantErr(t, err.(*Error), "DataError", `equal to "OKP"`)

	// MD5 HMAC keys have no JWK "alg".
	md5Key := importK(t, "raw", map[string]any{"name": "HMAC", "hash": "MD5"}, []byte("k"), "sign")
	wantErr(t, callErr(t, "exportKey", map[string]any{"format": "jwk", "key": md5Key}, md5Key.data), "NotSupportedError", `"MD5"`)
	if hexOf(signK(t, nil, md5Key, []byte("m"))) == "" {
		t.Fatal("HMAC-MD5")
	}
}

func TestCryptoSizeLimits(t *testing.T) {
	wantErr(t, callErr(t, "generateKey", map[string]any{"alg": map[string]any{"name": "HMAC", "hash": "SHA-256", "length": 1 << 40}}), "OperationError", "exceeds the maximum")
	k := importK(t, "raw", map[string]any{"name": "PBKDF2"}, []byte("pw"), "deriveBits")
	alg := map[string]any{"name": "PBKDF2", "hash": "SHA-256", "salt": "", "iterations": 1}
	wantErr(t, callErr(t, "deriveBits", map[string]any{"key": k, "length": 1 << 40, "alg": alg}, k.data), "OperationError", "exceeds the maximum")
}
