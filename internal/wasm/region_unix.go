//go:build linux || darwin || freebsd

package wasm

import "syscall"

// mapRegion maps size bytes of zeroed address space that take memory only
// where touched.
func mapRegion(size uint64) ([]byte, func()) {
	if size == 0 {
		return []byte{}, func() {}
	}
	b, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, func() {}
	}
	return b, func() { syscall.Munmap(b) }
}
