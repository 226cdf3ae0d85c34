// Package objectid makes and checks Durable Object ids.
//
// An id is 32 bytes shown as 64 lowercase hex digits, as in workerd: 16
// bytes that identify the object, then 16 bytes of HMAC-SHA256 over them
// keyed by the namespace. The MAC is what lets idFromString refuse an id
// made by another namespace (or made up), and it makes idFromName stable
// across restarts without storing anything: the same namespace key and name
// always give the same id.
package objectid

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Namespace makes ids for one Durable Object namespace.
type Namespace struct{ key []byte }

// New returns the id factory of the namespace whose unique key is key (for
// Isola: the worker's name and the class name).
func New(key string) Namespace {
	sum := sha256.Sum256([]byte("isola durable object namespace\x00" + key))
	return Namespace{key: sum[:]}
}

func (n Namespace) seal(base []byte) string {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte("id\x00"))
	m.Write(base)
	out := append(base[:16:16], m.Sum(nil)[:16]...)
	return hex.EncodeToString(out)
}

// FromName is idFromName: the same name always gives the same id.
func (n Namespace) FromName(name string) string {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte("name\x00"))
	m.Write([]byte(name))
	base := m.Sum(nil)[:16]
	base[0] &^= 0x80 // ids from names have the top bit clear, unique ones set
	return n.seal(base)
}

// Unique is newUniqueId: 16 random bytes.
func (n Namespace) Unique() string {
	base := make([]byte, 16)
	rand.Read(base)
	base[0] |= 0x80
	return n.seal(base)
}

// Errors of Parse.
var (
	ErrSyntax  = errors.New("not 64 hex digits")
	ErrForeign = errors.New("not made by this namespace")
)

// Parse is idFromString: it accepts the ids this namespace made, in either
// case, and returns them in canonical (lowercase) form.
func (n Namespace) Parse(s string) (string, error) {
	if len(s) != 64 {
		return "", ErrSyntax
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", ErrSyntax
	}
	want := n.seal(append([]byte(nil), b[:16]...))
	if !hmac.Equal([]byte(want), []byte(hex.EncodeToString(b))) {
		return "", ErrForeign
	}
	return want, nil
}
