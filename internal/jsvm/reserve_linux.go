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

const madvPopulateWrite = 23 // MADV_POPULATE_WRITE, Linux 5.14

var populateWorks = true

// populate backs [p, p+n) with memory in one call. A page first touched
// by a write costs a fault each (~13 µs on the machines measured); populated
// together they cost ~0.7 µs each. Kernels without the call fault as before.
func populate(p, n uintptr) {
	if !populateWorks {
		return
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, p, n, madvPopulateWrite); e != 0 {
		populateWorks = false
	}
}
