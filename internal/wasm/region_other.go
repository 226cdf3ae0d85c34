//go:build !(linux || darwin || freebsd)

package wasm

// mapRegion allocates size zeroed bytes from Go's heap, which does not
// move them.
func mapRegion(size uint64) ([]byte, func()) {
	return make([]byte, size), func() {}
}
