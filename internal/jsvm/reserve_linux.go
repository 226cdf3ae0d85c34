package jsvm

import (
	"syscall"
	"unsafe"
)

// reserve maps size bytes of address space that take memory only where they
// are touched.
func reserve(size int) (uintptr, bool) {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return 0, false
	}
	return uintptr(unsafe.Pointer(&b[0])), true
}
