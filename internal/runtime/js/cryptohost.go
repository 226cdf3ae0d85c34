package js

import (
	"errors"
	"fmt"

	"github.com/isola-run/isola/internal/jsvm"
	"github.com/isola-run/isola/internal/webcrypto"
	"modernc.org/quickjs"
)

// CryptoHost is the host function behind 70_crypto.js (host.crypto): it
// passes one operation to internal/webcrypto and answers
// [ArrayBuffer | boolean | JSON string, null] or [null, "Name: message"].
func CryptoHost(vm *quickjs.VM) func(op, params string, args ...quickjs.Value) []any {
	return func(op, params string, args ...quickjs.Value) []any {
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
}
