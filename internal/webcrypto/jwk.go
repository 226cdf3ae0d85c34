package webcrypto

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// jwk is a JSON Web Key as importKey receives it. Pointers tell a missing
// member from an empty one.
type jwk struct {
	Kty    string          `json:"kty"`
	Use    *string         `json:"use"`
	KeyOps []string        `json:"key_ops"`
	Alg    *string         `json:"alg"`
	Ext    *bool           `json:"ext"`
	Crv    *string         `json:"crv"`
	X      *string         `json:"x"`
	Y      *string         `json:"y"`
	D      *string         `json:"d"`
	N      *string         `json:"n"`
	E      *string         `json:"e"`
	P      *string         `json:"p"`
	Q      *string         `json:"q"`
	DP     *string         `json:"dp"`
	DQ     *string         `json:"dq"`
	QI     *string         `json:"qi"`
	Oth    json.RawMessage `json:"oth"`
	K      *string         `json:"k"`
}

// jwkOut is an exported JWK, members in workerd's order.
type jwkOut struct {
	Kty    string   `json:"kty"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg,omitempty"`
	Ext    bool     `json:"ext"`
	Crv    string   `json:"crv,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	D      string   `json:"d,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	P      string   `json:"p,omitempty"`
	Q      string   `json:"q,omitempty"`
	DP     string   `json:"dp,omitempty"`
	DQ     string   `json:"dq,omitempty"`
	QI     string   `json:"qi,omitempty"`
	K      string   `json:"k,omitempty"`
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unb64 decodes a base64url JWK member. Padding is tolerated because some
// producers emit it.
func unb64(s *string) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(*s, "="))
	return b, err == nil
}

// requireB64 decodes a JWK member that must be present, failing with msg.
func requireB64(s *string, msg string) ([]byte, error) {
	b, ok := unb64(s)
	if !ok {
		return nil, dataError("%s", msg)
	}
	return b, nil
}

// checkAsymmetricJWK applies the use/key_ops/ext rules workerd applies to
// every asymmetric JWK import before reading the key itself.
func checkAsymmetricJWK(name string, j *jwk, usages []string, extractable bool) error {
	if j.D != nil && len(j.Oth) > 0 && string(j.Oth) != "null" {
		return notSupported("Multi-prime private keys not supported.")
	}
	expectedUse, op0, op1 := "sig", "sign", "verify"
	switch name {
	case "RSA-OAEP":
		expectedUse, op0, op1 = "enc", "encrypt", "wrapKey"
	case "ECDH", "X25519":
		expectedUse, op0, op1 = "enc", "unused", "unused"
	}
	if len(usages) > 0 && j.Use != nil && *j.Use != expectedUse {
		return dataError("Asymmetric \"jwk\" key import with usages requires a JSON Web Key with "+
			"Public Key Use parameter \"use\" (%q) equal to %q.", *j.Use, expectedUse)
	}
	if j.KeyOps != nil {
		ops := slices.Clone(j.KeyOps)
		slices.Sort(ops)
		if len(slices.Compact(ops)) != len(j.KeyOps) {
			return dataError("A JSON Web Key's Key Operations parameter (\"key_ops\") must not contain duplicates.")
		}
		if j.Use != nil {
			if *j.Use != expectedUse {
				return dataError("Asymmetric \"jwk\" import requires a JSON Web Key with Public Key Use \"use\" (%q) equal to %q.", *j.Use, expectedUse)
			}
			for _, op := range j.KeyOps {
				if name == "ECDH" || name == "X25519" {
					return dataError("A JSON Web Key should have either a Public Key Use parameter (\"use\") or a Key "+
						"Operations parameter (\"key_ops\"); otherwise, the parameters must be consistent "+
						"with each other. For public %s keys, there are no valid usages,"+
						"so keys with a non-empty \"key_ops\" parameter are not allowed.", name)
				}
				if op != op0 && op != op1 {
					return dataError("A JSON Web Key should have either a Public Key Use parameter (\"use\") or a Key "+
						"Operations parameter (\"key_ops\"); otherwise, the parameters must be consistent "+
						"with each other. A Public Key Use for %s would allow a Key "+
						"Operations array with only %q and/or %q values (not %q).", name, op0, op1, op)
				}
			}
		}
		for _, u := range usages {
			if !slices.Contains(j.KeyOps, u) {
				return dataError("All specified key usages must be present in the JSON Web Key's Key Operations parameter (\"key_ops\").")
			}
		}
	}
	if j.Ext != nil && !*j.Ext && extractable {
		return dataError("Cannot create an extractable CryptoKey from an unextractable JSON Web Key.")
	}
	return nil
}
