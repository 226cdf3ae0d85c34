package runtime

import "errors"

// TEMPORARY until internal/webcrypto lands.
func cryptoCall(op string, params []byte, bufs [][]byte) (any, error) {
	return nil, errors.New("NotSupportedError: crypto.subtle is not available")
}
