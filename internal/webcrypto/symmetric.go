package webcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
)

// maxPBKDF2Iterations is Cloudflare's production limit. It also keeps one
// call from stalling the isolate, since the derivation runs on its thread.
const maxPBKDF2Iterations = 100000

// maxSecretBits bounds the secrets generateKey and PBKDF2 allocate. The sizes
// come from worker code, and no real key comes near a mebibyte.
const maxSecretBits = 8 << 20

func checkSecretBits(bits int) error {
	if bits > maxSecretBits {
		return opError("Requested key length of %d bits exceeds the maximum of %d bits.", bits, maxSecretBits)
	}
	return nil
}

// ---- AES ----

func generateAES(alg *algorithm) (*generated, error) {
	if alg.Length == nil {
		return nil, typeError("Missing field \"length\" in \"algorithm\".")
	}
	switch *alg.Length {
	case 128, 192, 256:
	default:
		return nil, opError("Generated AES key length must be 128, 192, or 256 bits but requested %d.", *alg.Length)
	}
	key := make([]byte, *alg.Length/8)
	rand.Read(key)
	return &generated{Algorithm: keyAlgorithm{Name: alg.Name, Length: *alg.Length}, Secret: key}, nil
}

func importAES(req *request, data []byte) (*imported, error) {
	name := req.Alg.Name
	mode := strings.TrimPrefix(name, "AES-")
	var key []byte
	switch req.Format {
	case "raw":
		key = data
	case "jwk":
		j := req.JWK
		if j.Kty != "oct" {
			return nil, dataError("Symmetric \"jwk\" key import requires a JSON Web Key with Key Type parameter \"kty\" equal to \"oct\" (encountered %q).", j.Kty)
		}
		var err error
		if key, err = requireB64(j.K, "Symmetric \"jwk\" key import requires a base64Url encoding of the key."); err != nil {
			return nil, err
		}
		if n := len(key) * 8; n == 128 || n == 192 || n == 256 {
			if want := "A" + strconv.Itoa(n) + mode; j.Alg != nil && *j.Alg != want {
				return nil, dataError("Symmetric \"jwk\" key contains invalid \"alg\" value %q, expected %q.", *j.Alg, want)
			}
		}
		if len(req.Usages) > 0 && j.Use != nil && *j.Use != "enc" {
			return nil, dataError("Symmetric \"jwk\" key must have a \"use\" of \"enc\", not %q.", *j.Use)
		}
		if j.KeyOps != nil {
			ops := slices.Clone(j.KeyOps)
			slices.Sort(ops)
			for i := 1; i < len(ops); i++ {
				if ops[i] == ops[i-1] {
					return nil, dataError("Symmetric \"jwk\" key contains duplicate value %q, in \"key_op\".", ops[i])
				}
			}
			for _, u := range req.Usages {
				if !slices.Contains(ops, u) {
					return nil, dataError("\"jwk\" key missing usage %q, in \"key_ops\".", u)
				}
			}
		}
		if j.Ext != nil && !*j.Ext && req.Extractable {
			return nil, dataError("\"jwk\" key has value \"false\", for \"ext\" that is incompatible with import extractability value \"true\".")
		}
	default:
		return nil, notSupported("Unrecognized key import format %q.", req.Format)
	}
	switch n := len(key) * 8; n {
	case 128, 192, 256:
	default:
		return nil, dataError("Imported AES key length must be 128, 192, or 256 bits but provided %d.", n)
	}
	return &imported{Type: "secret", Algorithm: keyAlgorithm{Name: name, Length: len(key) * 8}, Data: key}, nil
}

func exportAES(format string, key *keyInfo, data []byte) (any, error) {
	name := key.Algorithm.Name
	switch format {
	case "raw":
		return data, nil
	case "jwk":
		return &jwkOut{Kty: "oct", K: b64(data), Alg: "A" + strconv.Itoa(len(data)*8) + strings.TrimPrefix(name, "AES-")}, nil
	}
	return nil, notSupported("%s key only supports exporting \"raw\" & \"jwk\", not %q.", name, format)
}

func newAES(key []byte) (cipher.Block, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, dataError("Invalid AES key: %v", err)
	}
	return b, nil
}

func decryptFailed(name string, in, out int) error {
	return opError("Decryption failed. This could be due to a ciphertext authentication failure, "+
		"bad padding, incorrect CryptoKey, or another algorithm-specific reason. Input length was %d, "+
		"output length expected to be %d for %s", in, out, name)
}

func cryptAES(name string, alg *algorithm, key, data []byte, enc bool) ([]byte, error) {
	block, err := newAES(key)
	if err != nil {
		return nil, err
	}
	switch name {
	case "AES-GCM":
		return cryptGCM(block, alg, data, enc)
	case "AES-CBC":
		return cryptCBC(block, alg, data, enc)
	default:
		return cryptCTR(block, alg, data)
	}
}

func cryptGCM(block cipher.Block, alg *algorithm, data []byte, enc bool) ([]byte, error) {
	if alg.IV == nil {
		return nil, typeError("Missing field \"iv\" in \"algorithm\".")
	}
	iv := []byte(*alg.IV)
	if len(iv) == 0 {
		return nil, opError("AES-GCM IV must not be empty.")
	}
	tagBits := 128
	if alg.TagLength != nil {
		tagBits = *alg.TagLength
	}
	switch tagBits {
	case 32, 64, 96, 104, 112, 120, 128:
	default:
		return nil, opError("Invalid AES-GCM tag length %d.", tagBits)
	}
	var aad []byte
	if alg.AdditionalData != nil {
		aad = *alg.AdditionalData
	}
	// The standard library only truncates tags down to 96 bits and only with
	// 96-bit nonces, so always use full tags and truncate by hand.
	g, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, opError("%v", err)
	}
	tag := tagBits / 8
	if enc {
		if uint64(len(data)) > 1<<39-256 {
			return nil, opError("AES-GCM can only encrypt up to 2^39 - 256 bytes of plaintext at a time, but requested %d bytes.", len(data))
		}
		out := g.Seal(nil, iv, data, aad)
		return out[:len(data)+tag], nil
	}
	if len(data) < tag {
		return nil, opError("Ciphertext length of %d bits must be greater than or equal to the size of the AES-GCM tag length of %d bits.", len(data)*8, tagBits)
	}
	ct := data[:len(data)-tag]
	if tag == 16 {
		pt, err := g.Open(nil, iv, data, aad)
		if err != nil {
			return nil, decryptFailed("AES-GCM", len(ct), len(ct))
		}
		return pt, nil
	}
	// GCM's keystream does not depend on the data, so sealing the ciphertext
	// yields the plaintext, and sealing that yields the full tag to compare.
	pt := g.Seal(nil, iv, ct, nil)[:len(ct)]
	full := g.Seal(nil, iv, pt, aad)
	if subtle.ConstantTimeCompare(full[len(ct):len(ct)+tag], data[len(ct):]) != 1 {
		return nil, decryptFailed("AES-GCM", len(ct), len(ct))
	}
	return pt, nil
}

func cryptCBC(block cipher.Block, alg *algorithm, data []byte, enc bool) ([]byte, error) {
	if alg.IV == nil {
		return nil, typeError("Missing field \"iv\" in \"algorithm\".")
	}
	iv := []byte(*alg.IV)
	if len(iv) != aes.BlockSize {
		return nil, opError("AES-CBC IV must be 16 bytes long (provided %d bytes).", len(iv))
	}
	if enc {
		pad := aes.BlockSize - len(data)%aes.BlockSize
		out := make([]byte, len(data)+pad)
		copy(out, data)
		for i := len(data); i < len(out); i++ {
			out[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
		return out, nil
	}
	expected := max(len(data)-aes.BlockSize, 0)
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, decryptFailed("AES-CBC", len(data), expected)
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	// Check the padding without branching on secret bytes, so a bad-padding
	// answer leaks no more than its existence.
	pad := int(out[len(out)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, pad)
		match := subtle.ConstantTimeByteEq(out[len(out)-i], byte(pad))
		good &= subtle.ConstantTimeSelect(inPad, match, 1)
	}
	if good != 1 {
		return nil, decryptFailed("AES-CBC", len(data), expected)
	}
	return out[:len(out)-pad], nil
}

// cryptCTR implements AES-CTR as Web Crypto defines it: only the rightmost
// length bits of the counter block count, wrapping around without carrying
// into the rest, which crypto/cipher's CTR (a full 128-bit counter) does not do.
func cryptCTR(block cipher.Block, alg *algorithm, data []byte) ([]byte, error) {
	if alg.Counter == nil {
		return nil, typeError("Missing \"counter\" member in \"algorithm\".")
	}
	counter := []byte(*alg.Counter)
	if len(counter) != aes.BlockSize {
		return nil, opError("Counter must have length of 16 bytes (provided %d).", len(counter))
	}
	if alg.Length == nil {
		return nil, typeError("Missing \"length\" member in \"algorithm\".")
	}
	bits := *alg.Length
	if bits <= 0 || bits > 128 {
		return nil, opError("Invalid counter of %d bits length provided.", bits)
	}
	blocks := uint64((len(data) + aes.BlockSize - 1) / aes.BlockSize)
	if bits < 64 && blocks > 1<<bits {
		return nil, opError("Counter block values will repeat.")
	}
	ctr := slices.Clone(counter)
	out := make([]byte, len(data))
	ks := make([]byte, aes.BlockSize)
	for off := 0; off < len(data); off += aes.BlockSize {
		block.Encrypt(ks, ctr)
		subtle.XORBytes(out[off:], data[off:], ks)
		incrementCounter(ctr, bits)
	}
	return out, nil
}

func incrementCounter(ctr []byte, bits int) {
	for i := len(ctr) - 1; i >= 0 && bits > 0; i-- {
		w := min(bits, 8)
		mask := byte(1<<w - 1)
		v := ctr[i]&mask + 1
		ctr[i] = ctr[i]&^mask | v&mask
		if v&mask != 0 {
			return
		}
		bits -= w
	}
}

// ---- AES-KW (RFC 3394) ----

var kwIV = []byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}

func aesKeyWrap(key, plain []byte) ([]byte, error) {
	if len(plain)%8 != 0 {
		return nil, opError("Unwrapped key bit length must be a multiple of 64 bits but unwrapped key has a length of %d bits.", len(plain)*8)
	}
	if len(plain) < 16 {
		return nil, opError("Unwrapped key has length %d bytes but it should be greater than or equal to 16.", len(plain))
	}
	block, err := newAES(key)
	if err != nil {
		return nil, err
	}
	n := len(plain) / 8
	out := make([]byte, 8+len(plain))
	copy(out, kwIV)
	copy(out[8:], plain)
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], out[:8])
			copy(b[8:], out[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:8*i+8], b[8:])
		}
	}
	return out, nil
}

func aesKeyUnwrap(key, wrapped []byte) ([]byte, error) {
	if len(wrapped)%8 != 0 {
		return nil, opError("Provided a wrapped key to unwrap that is %d bits which isn't a multiple of 64 bits.", len(wrapped)*8)
	}
	if len(wrapped) < 24 {
		return nil, opError("Provided a wrapped key to unwrap this is %d bits that is less than the minimal length of 192 bits.", len(wrapped)*8)
	}
	block, err := newAES(key)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	a := binary.BigEndian.Uint64(wrapped[:8])
	r := slices.Clone(wrapped[8:])
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			binary.BigEndian.PutUint64(b[:8], a^uint64(n*j+i))
			copy(b[8:], r[8*(i-1):8*i])
			block.Decrypt(b[:], b[:])
			a = binary.BigEndian.Uint64(b[:8])
			copy(r[8*(i-1):8*i], b[8:])
		}
	}
	var got [8]byte
	binary.BigEndian.PutUint64(got[:], a)
	if subtle.ConstantTimeCompare(got[:], kwIV) != 1 {
		return nil, opError("AES-KW key unwrapping failed.")
	}
	return r, nil
}

// ---- HMAC ----

func hmacBlockBits(h hashInfo) int { return h.hash.New().BlockSize() * 8 }

func generateHMAC(alg *algorithm) (*generated, error) {
	h, err := requireHash(alg.Hash, "algorithm")
	if err != nil {
		return nil, err
	}
	length := hmacBlockBits(h)
	if alg.Length != nil {
		length = *alg.Length
	}
	if length <= 0 {
		return nil, opError("HMAC key length must be a non-zero unsigned long integer (requested %d).", length)
	}
	if err := checkSecretBits(length); err != nil {
		return nil, err
	}
	key := make([]byte, (length+7)/8)
	rand.Read(key)
	zeroTrailingBits(key, length)
	return &generated{Algorithm: keyAlgorithm{Name: "HMAC", Hash: h.name, Length: length}, Secret: key}, nil
}

// zeroTrailingBits clears the bits past length in the last byte, matching
// Chrome's (and workerd's) big-endian reading of odd-length HMAC keys.
func zeroTrailingBits(key []byte, length int) {
	if r := length % 8; r != 0 && len(key) > 0 {
		key[len(key)-1] &= byte(0xff << (8 - r))
	}
}

func importHMAC(req *request, data []byte) (*imported, error) {
	h, err := requireHash(req.Alg.Hash, "algorithm")
	if err != nil {
		return nil, err
	}
	var key []byte
	switch req.Format {
	case "raw":
		key = data
	case "jwk":
		j := req.JWK
		if j.Kty != "oct" {
			return nil, dataError("HMAC \"jwk\" key import requires a JSON Web Key with Key Type parameter (\"kty\") equal to \"oct\" (encountered %q).", j.Kty)
		}
		if key, err = requireB64(j.K, "HMAC \"jwk\" key import requires a base64Url encoding of the key"); err != nil {
			return nil, err
		}
		if j.Alg != nil {
			if !strings.HasPrefix(h.name, "SHA-") {
				return nil, notSupported("Unrecognized or unimplemented hash algorithm requested%s", *j.Alg)
			}
			if want := "HS" + strings.TrimPrefix(h.name, "SHA-"); *j.Alg != want {
				return nil, dataError("HMAC \"jwk\" key import specifies \"alg\" that is incompatible with the hash name (encountered %q, expected %q).", *j.Alg, want)
			}
		}
	default:
		return nil, notSupported("Unrecognized key import format %q.", req.Format)
	}
	size := len(key) * 8
	length := size
	if req.Alg.Length != nil {
		length = *req.Alg.Length
	}
	if length == 0 || length > size || length <= size-8 {
		return nil, dataError("Imported HMAC key length (%d) must be a non-zero value up to 7 bits less than, and no greater than, the bit length of the raw key data (%d).", length, size)
	}
	key = slices.Clone(key)
	zeroTrailingBits(key, length)
	return &imported{Type: "secret", Algorithm: keyAlgorithm{Name: "HMAC", Hash: h.name, Length: length}, Data: key}, nil
}

func exportHMAC(format string, key *keyInfo, data []byte) (any, error) {
	switch format {
	case "raw":
		return data, nil
	case "jwk":
		hash := key.Algorithm.Hash
		if !strings.HasPrefix(hash, "SHA-") {
			return nil, notSupported("Unimplemented JWK key export format for key algorithm %q.", hash)
		}
		return &jwkOut{Kty: "oct", K: b64(data), Alg: "HS" + strings.TrimPrefix(hash, "SHA-")}, nil
	}
	return nil, notSupported("Unimplemented key export format %q.", format)
}

func computeHMAC(key *keyInfo, keyData, data []byte) ([]byte, error) {
	h, err := lookupHash(key.Algorithm.Hash)
	if err != nil {
		return nil, err
	}
	m := hmac.New(h.hash.New, keyData)
	m.Write(data)
	return m.Sum(nil), nil
}

func signHMAC(key *keyInfo, keyData, data []byte) ([]byte, error) {
	return computeHMAC(key, keyData, data)
}

func verifyHMAC(key *keyInfo, keyData, sig, data []byte) (bool, error) {
	mac, err := computeHMAC(key, keyData, data)
	if err != nil {
		return false, err
	}
	return hmac.Equal(mac, sig), nil
}

// ---- PBKDF2 and HKDF ----

func importKDF(req *request, data []byte) (*imported, error) {
	name := req.Alg.Name
	if req.Extractable {
		return nil, syntaxError("%s key cannot be extractable.", name)
	}
	if req.Format != "raw" {
		return nil, notSupported("%s key must be imported in \"raw\" format (requested %q).", name, req.Format)
	}
	return &imported{Type: "secret", Algorithm: keyAlgorithm{Name: name}, Data: data}, nil
}

func derivePBKDF2(alg *algorithm, password []byte, length *int) ([]byte, error) {
	h, err := requireHash(alg.Hash, "algorithm")
	if err != nil {
		return nil, err
	}
	if alg.Salt == nil {
		return nil, typeError("Missing field \"salt\" in \"algorithm\".")
	}
	if alg.Iterations == nil {
		return nil, typeError("Missing field \"iterations\" in \"algorithm\".")
	}
	if length == nil {
		return nil, opError("PBKDF2 cannot derive a key with null length.")
	}
	if *length == 0 || *length%8 != 0 {
		return nil, opError("PBKDF2 requires a derived key length that is a non-zero multiple of eight (requested %d).", *length)
	}
	if err := checkSecretBits(*length); err != nil {
		return nil, err
	}
	iter := *alg.Iterations
	if iter <= 0 {
		return nil, opError("PBKDF2 requires a positive iteration count (requested %d).", iter)
	}
	if iter > maxPBKDF2Iterations {
		return nil, notSupported("Pbkdf2 failed: iteration counts above %d are not supported (requested %d).", maxPBKDF2Iterations, iter)
	}
	out, err := pbkdf2.Key(h.hash.New, string(password), *alg.Salt, iter, *length/8)
	if err != nil {
		return nil, opError("PBKDF2 deriveBits failed.")
	}
	return out, nil
}

func deriveHKDF(alg *algorithm, secret []byte, length *int) ([]byte, error) {
	h, err := requireHash(alg.Hash, "algorithm")
	if err != nil {
		return nil, err
	}
	if alg.Salt == nil {
		return nil, typeError("Missing field \"salt\" in \"algorithm\".")
	}
	if alg.Info == nil {
		return nil, typeError("Missing field \"info\" in \"algorithm\".")
	}
	if length == nil {
		return nil, opError("HKDF cannot derive a key with null length.")
	}
	if *length == 0 || *length%8 != 0 {
		return nil, opError("HKDF requires a derived key length that is a non-zero multiple of eight (requested %d).", *length)
	}
	out, err := hkdf.Key(h.hash.New, secret, *alg.Salt, string(*alg.Info), *length/8)
	if err != nil {
		return nil, opError("HKDF deriveBits failed.")
	}
	return out, nil
}
