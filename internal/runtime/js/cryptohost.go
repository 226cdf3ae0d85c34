package js

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/isola-run/isola/internal/jsvm"
	"github.com/isola-run/isola/internal/webcrypto"
	"modernc.org/quickjs"
)

// CryptoHost is the host function behind 70_crypto.js (host.crypto): it
// passes one operation to internal/webcrypto and answers
// [ArrayBuffer | boolean | JSON string, null] or [null, "Name: message"].
func CryptoHost(vm *quickjs.VM, op, params string, args ...quickjs.Value) []any {
	if op == "randomUUID" {
		// Formatting 16 bytes as hex in JavaScript costs QuickJS ~20 µs.
		return []any{randomUUID(), nil}
	}
	bufs := make([][]byte, len(args))
	for i, a := range args {
		b, ok := jsvm.ArrayBufferBytes(a)
		if !ok {
			return []any{nil, fmt.Sprintf("TypeError: crypto argument %d is not an ArrayBuffer", i+2)}
		}
		bufs[i] = b
	}
	res, err := webcrypto.Call(op, []byte(params), bufs)
	if err != nil {
		var e *webcrypto.Error
		if !errors.As(err, &e) {
			return []any{nil, "OperationError: " + err.Error()}
		}
		return []any{nil, e.Error()}
	}
	if b, ok := res.([]byte); ok {
		return []any{jsvm.NewArrayBuffer(vm, b), nil}
	}
	return []any{res, nil}
}

// randomUUID is a version 4 UUID, as crypto.randomUUID() gives.
func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
