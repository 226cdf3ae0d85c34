// Package webcrypto performs the operations behind the Web Crypto API
// (crypto.subtle) for Isola's JavaScript prelude, using only the Go standard
// library.
//
// The package keeps no state. Key material travels with every call in one
// fixed encoding, which the JS side stores inside its CryptoKey objects:
//
//   - secret keys (AES, HMAC, PBKDF2, HKDF): the raw key bytes;
//   - private keys: PKCS #8 DER;
//   - public keys: SPKI DER.
//
// Binary algorithm parameters (iv, salt, info, counter, label,
// additionalData, publicExponent) and key data inside JSON are hex strings,
// because the prelude has no base64 of its own and hex is trivial both ways.
package webcrypto

import (
	"crypto"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Error is a failure the JS side raises: a DOMException named Name, or a
// plain TypeError when Name is "TypeError".
type Error struct{ Name, Message string }

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// The constructors return error rather than *Error so that a nil result can
// never become a non-nil interface on the way out.
func newError(name, format string, args ...any) error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...)}
}
func typeError(format string, args ...any) error { return newError("TypeError", format, args...) }
func dataError(format string, args ...any) error { return newError("DataError", format, args...) }
func opError(format string, args ...any) error   { return newError("OperationError", format, args...) }
func syntaxError(format string, args ...any) error {
	return newError("SyntaxError", format, args...)
}
func notSupported(format string, args ...any) error {
	return newError("NotSupportedError", format, args...)
}
func invalidAccess(format string, args ...any) error {
	return newError("InvalidAccessError", format, args...)
}

// hexBytes is binary data carried in JSON as a lowercase hex string.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = d
	return nil
}

// algorithm is a normalized algorithm dictionary as the JS side passes it:
// the union of the members of every Web Crypto parameter dictionary. Pointer
// members distinguish "missing" from zero, which several errors depend on.
type algorithm struct {
	Name           string    `json:"name"`
	Hash           string    `json:"hash"`
	Length         *int      `json:"length"`
	NamedCurve     *string   `json:"namedCurve"`
	ModulusLength  *int      `json:"modulusLength"`
	PublicExponent *hexBytes `json:"publicExponent"`
	SaltLength     *int      `json:"saltLength"`
	IV             *hexBytes `json:"iv"`
	AdditionalData *hexBytes `json:"additionalData"`
	TagLength      *int      `json:"tagLength"`
	Counter        *hexBytes `json:"counter"`
	Label          *hexBytes `json:"label"`
	Salt           *hexBytes `json:"salt"`
	Info           *hexBytes `json:"info"`
	Iterations     *int      `json:"iterations"`
}

// keyAlgorithm is a CryptoKey's [[algorithm]] slot in the form the JS side
// stores and hands back. Hash is the canonical hash name; the JS side turns it
// into the {name} dictionary the platform exposes.
type keyAlgorithm struct {
	Name           string   `json:"name"`
	Hash           string   `json:"hash,omitempty"`
	Length         int      `json:"length,omitempty"`
	NamedCurve     string   `json:"namedCurve,omitempty"`
	ModulusLength  int      `json:"modulusLength,omitempty"`
	PublicExponent hexBytes `json:"publicExponent,omitempty"`
}

// keyInfo describes the CryptoKey whose material comes with a call.
type keyInfo struct {
	Type      string       `json:"type"` // "secret", "public" or "private"
	Algorithm keyAlgorithm `json:"algorithm"`
	Usages    []string     `json:"usages"`
}

type request struct {
	Name        string    `json:"name"` // digest's hash
	Format      string    `json:"format"`
	Alg         algorithm `json:"alg"`
	Key         keyInfo   `json:"key"`
	JWK         *jwk      `json:"jwk"`
	Extractable bool      `json:"extractable"`
	Usages      []string  `json:"usages"`
	Length      *int      `json:"length"` // deriveBits
	Public      *keyInfo  `json:"public"` // ECDH/X25519 peer
}

// Call performs one Web Crypto operation. params is JSON chosen by the JS
// side. bufs are the BufferSource arguments (key material, data, signature...).
// The result is []byte (becomes an ArrayBuffer), bool, string (JSON text the JS
// side parses), or nil. Errors are *Error so the JS side can raise the right
// DOMException.
//
// Operations and their buffers:
//
//	digest      {name}                               data
//	generateKey {alg}                                -> JSON {algorithm, secret | private+public}
//	importKey   {format, alg, jwk, extractable, usages} data -> JSON {type, algorithm, data}
//	exportKey   {format, key}                        key  -> bytes, or JWK JSON
//	sign        {alg, key}                           key, data
//	verify      {alg, key}                           key, signature, data -> bool
//	encrypt, decrypt, wrapKey, unwrapKey {alg, key}  key, data
//	deriveBits  {alg, key, length, public}           key, peer public key
func Call(op string, params []byte, bufs [][]byte) (result any, err error) {
	defer func() {
		// A bug here must surface as a rejected promise, not take the
		// isolate's host down.
		if p := recover(); p != nil {
			result, err = nil, opError("internal error in %s: %v", op, p)
		}
	}()
	var req request
	if len(params) > 0 {
		if err := json.Unmarshal(params, &req); err != nil {
			return nil, typeError("Invalid parameters for %s: %v", op, err)
		}
	}
	buf := func(i int) []byte {
		if i < len(bufs) && bufs[i] != nil {
			return bufs[i]
		}
		return []byte{}
	}
	switch op {
	case "digest":
		return wrap(digest(req.Name, buf(0)))
	case "generateKey":
		return wrap(generateKey(&req.Alg))
	case "importKey":
		return wrap(importKey(&req, buf(0)))
	case "exportKey":
		return wrap(exportKey(req.Format, &req.Key, buf(0)))
	case "sign":
		return wrap(sign(&req.Alg, &req.Key, buf(0), buf(1)))
	case "verify":
		return wrap(verify(&req.Alg, &req.Key, buf(0), buf(1), buf(2)))
	case "encrypt":
		return wrap(encrypt(&req.Alg, &req.Key, buf(0), buf(1)))
	case "decrypt":
		return wrap(decrypt(&req.Alg, &req.Key, buf(0), buf(1)))
	case "wrapKey":
		return wrap(wrapKey(&req.Alg, &req.Key, buf(0), buf(1)))
	case "unwrapKey":
		return wrap(unwrapKey(&req.Alg, &req.Key, buf(0), buf(1)))
	case "deriveBits":
		var peer []byte
		if req.Public != nil {
			peer = buf(1)
		}
		return wrap(deriveBits(&req.Alg, &req.Key, buf(0), req.Length, req.Public, peer))
	}
	return nil, notSupported("Unrecognized Web Crypto operation %q.", op)
}

func wrap[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func jsonResult(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", opError("%v", err)
	}
	return string(b), nil
}

// ---- hashes ----

type hashInfo struct {
	name string
	hash crypto.Hash
}

// MD5 is not part of Web Crypto, but workerd allows it because people use it
// anyway and a native implementation beats a pure-JS one.
var hashes = []hashInfo{
	{"SHA-1", crypto.SHA1},
	{"SHA-256", crypto.SHA256},
	{"SHA-384", crypto.SHA384},
	{"SHA-512", crypto.SHA512},
	{"MD5", crypto.MD5},
}

// The hash packages register themselves with crypto.Hash only when linked.
var _ = []any{md5.New, sha1.New, sha256.New, sha512.New}

// lookupHash resolves a hash name case-insensitively to its canonical name.
func lookupHash(name string) (hashInfo, error) {
	for _, h := range hashes {
		if strings.EqualFold(h.name, name) {
			return h, nil
		}
	}
	return hashInfo{}, notSupported("Unrecognized or unimplemented digest algorithm requested.")
}

// requireHash is lookupHash for an algorithm member that must be present.
func requireHash(name, dict string) (hashInfo, error) {
	if name == "" {
		return hashInfo{}, typeError("Missing field \"hash\" in %q.", dict)
	}
	return lookupHash(name)
}

func digest(name string, data []byte) ([]byte, error) {
	h, err := lookupHash(name)
	if err != nil {
		return nil, err
	}
	w := h.hash.New()
	w.Write(data)
	return w.Sum(nil), nil
}

// ---- dispatch by algorithm ----

// canonicalNames are the algorithm names Call accepts, in the spelling keys
// report. Lookups are case-insensitive, as in workerd.
var canonicalNames = []string{
	"AES-CTR", "AES-CBC", "AES-GCM", "AES-KW", "HMAC", "PBKDF2", "HKDF",
	"RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP", "ECDSA", "ECDH",
	"NODE-ED25519", "Ed25519", "X25519",
}

func canonicalName(name string) (string, bool) {
	for _, n := range canonicalNames {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

func isAES(name string) bool { return strings.HasPrefix(name, "AES-") }
func isRSA(name string) bool {
	return name == "RSASSA-PKCS1-v1_5" || name == "RSA-PSS" || name == "RSA-OAEP"
}
func isEC(name string) bool    { return name == "ECDSA" || name == "ECDH" }
func isEdDSA(name string) bool { return name == "Ed25519" || name == "NODE-ED25519" }

func generateKey(alg *algorithm) (string, error) {
	name, ok := canonicalName(alg.Name)
	if !ok || name == "PBKDF2" || name == "HKDF" {
		return "", notSupported("Unrecognized key generation algorithm %q requested.", alg.Name)
	}
	alg.Name = name
	var g *generated
	var err error
	switch {
	case isAES(name):
		g, err = generateAES(alg)
	case name == "HMAC":
		g, err = generateHMAC(alg)
	case isRSA(name):
		g, err = generateRSA(alg)
	case isEC(name):
		g, err = generateEC(alg)
	default:
		g, err = generateOKP(alg)
	}
	if err != nil {
		return "", err
	}
	return jsonResult(g)
}

// generated is generateKey's answer: the key algorithm and either secret
// material or a private/public pair.
type generated struct {
	Algorithm keyAlgorithm `json:"algorithm"`
	Secret    hexBytes     `json:"secret,omitempty"`
	Private   hexBytes     `json:"private,omitempty"`
	Public    hexBytes     `json:"public,omitempty"`
}

// imported is importKey's answer.
type imported struct {
	Type      string       `json:"type"`
	Algorithm keyAlgorithm `json:"algorithm"`
	Data      hexBytes     `json:"data"`
}

func importKey(req *request, data []byte) (string, error) {
	name, ok := canonicalName(req.Alg.Name)
	if !ok {
		return "", notSupported("Unrecognized key import algorithm %q requested.", req.Alg.Name)
	}
	req.Alg.Name = name
	switch req.Format {
	case "raw", "pkcs8", "spki", "jwk":
	default:
		return "", notSupported("Unrecognized key import format %q.", req.Format)
	}
	if req.Format == "jwk" && req.JWK == nil {
		return "", dataError("JSON Web Key import requires a JSON Web Key object.")
	}
	var im *imported
	var err error
	switch {
	case isAES(name):
		im, err = importAES(req, data)
	case name == "HMAC":
		im, err = importHMAC(req, data)
	case name == "PBKDF2" || name == "HKDF":
		im, err = importKDF(req, data)
	case isRSA(name):
		im, err = importRSA(req, data)
	case isEC(name):
		im, err = importEC(req, data)
	default:
		im, err = importOKP(req, data)
	}
	if err != nil {
		return "", err
	}
	return jsonResult(im)
}

// exportKey returns []byte for the binary formats and JWK JSON text for "jwk".
func exportKey(format string, key *keyInfo, data []byte) (any, error) {
	name, ok := canonicalName(key.Algorithm.Name)
	if !ok {
		return nil, notSupported("Unrecognized or unsupported export of %q requested.", key.Algorithm.Name)
	}
	key.Algorithm.Name = name
	var out any
	var err error
	switch {
	case isAES(name):
		out, err = exportAES(format, key, data)
	case name == "HMAC":
		out, err = exportHMAC(format, key, data)
	case name == "PBKDF2" || name == "HKDF":
		return nil, notSupported("Unrecognized or unsupported export of %q requested.", name)
	case isRSA(name):
		out, err = exportRSA(format, key, data)
	case isEC(name):
		out, err = exportEC(format, key, data)
	default:
		out, err = exportOKP(format, key, data)
	}
	if err != nil {
		return nil, err
	}
	if j, ok := out.(*jwkOut); ok {
		j.KeyOps = key.Usages
		if j.KeyOps == nil {
			j.KeyOps = []string{}
		}
		j.Ext = true
		return jsonResult(j)
	}
	return out, nil
}

func keyName(key *keyInfo) string {
	if n, ok := canonicalName(key.Algorithm.Name); ok {
		return n
	}
	return key.Algorithm.Name
}

func sign(alg *algorithm, key *keyInfo, keyData, data []byte) ([]byte, error) {
	switch name := keyName(key); {
	case name == "HMAC":
		return signHMAC(key, keyData, data)
	case name == "RSASSA-PKCS1-v1_5" || name == "RSA-PSS":
		return signRSA(alg, key, keyData, data)
	case name == "ECDSA":
		return signECDSA(alg, key, keyData, data)
	case isEdDSA(name):
		return signEd25519(key, keyData, data)
	default:
		return nil, notSupported("The sign operation is not implemented for %q.", name)
	}
}

func verify(alg *algorithm, key *keyInfo, keyData, sig, data []byte) (bool, error) {
	switch name := keyName(key); {
	case name == "HMAC":
		return verifyHMAC(key, keyData, sig, data)
	case name == "RSASSA-PKCS1-v1_5" || name == "RSA-PSS":
		return verifyRSA(alg, key, keyData, sig, data)
	case name == "ECDSA":
		return verifyECDSA(alg, key, keyData, sig, data)
	case isEdDSA(name):
		return verifyEd25519(key, keyData, sig, data)
	default:
		return false, notSupported("The verify operation is not implemented for %q.", name)
	}
}

func encrypt(alg *algorithm, key *keyInfo, keyData, data []byte) ([]byte, error) {
	switch name := keyName(key); name {
	case "AES-GCM", "AES-CBC", "AES-CTR":
		return cryptAES(name, alg, keyData, data, true)
	case "RSA-OAEP":
		return encryptOAEP(alg, key, keyData, data)
	default:
		return nil, notSupported("The encrypt operation is not implemented for %q.", name)
	}
}

func decrypt(alg *algorithm, key *keyInfo, keyData, data []byte) ([]byte, error) {
	switch name := keyName(key); name {
	case "AES-GCM", "AES-CBC", "AES-CTR":
		return cryptAES(name, alg, keyData, data, false)
	case "RSA-OAEP":
		return decryptOAEP(alg, key, keyData, data)
	default:
		return nil, notSupported("The decrypt operation is not implemented for %q.", name)
	}
}

// wrapKey and unwrapKey are encrypt and decrypt except for AES-KW, which only
// wraps.
func wrapKey(alg *algorithm, key *keyInfo, keyData, data []byte) ([]byte, error) {
	if keyName(key) == "AES-KW" {
		return aesKeyWrap(keyData, data)
	}
	return encrypt(alg, key, keyData, data)
}

func unwrapKey(alg *algorithm, key *keyInfo, keyData, data []byte) ([]byte, error) {
	if keyName(key) == "AES-KW" {
		return aesKeyUnwrap(keyData, data)
	}
	return decrypt(alg, key, keyData, data)
}

func deriveBits(alg *algorithm, key *keyInfo, keyData []byte, length *int, peer *keyInfo, peerData []byte) ([]byte, error) {
	if length != nil && *length < 0 {
		return nil, typeError("deriveBits length must be an unsigned long integer.")
	}
	switch name := keyName(key); name {
	case "PBKDF2":
		return derivePBKDF2(alg, keyData, length)
	case "HKDF":
		return deriveHKDF(alg, keyData, length)
	case "ECDH", "X25519":
		return deriveECDH(name, key, keyData, length, peer, peerData)
	default:
		return nil, notSupported("The deriveKey and deriveBits operations are not implemented for %q.", name)
	}
}

// truncateBits keeps the first bits of secret, zeroing the unrequested low
// bits of the last byte, as ECDH and X25519 deriveBits specify.
func truncateBits(secret []byte, length *int) ([]byte, error) {
	max := len(secret) * 8
	bits := max
	if length != nil {
		bits = *length
	}
	if bits > max {
		return nil, opError("Derived key length (%d bits) is too long (should be at most %d bits).", bits, max)
	}
	out := secret[:(bits+7)/8]
	if r := bits % 8; r != 0 {
		out[len(out)-1] &= byte(0xff << (8 - r))
	}
	return out, nil
}
