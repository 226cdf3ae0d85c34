package jsvm

import (
	"sync"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/quickjs"
)

// The engine's C locals and each JavaScript frame live on its TLS's stack,
// one libc block per call depth, about 2 KiB each. libc keeps every block
// the stack ever grew to until the TLS closes: an idle isolate holds ~30 KiB
// from its start-up and first request, and one that once recursed a thousand
// calls deep keeps ~2 MiB. TrimStack gives back the blocks above the current
// depth; the isolate calls it when it has been idle a while.
//
// A trimmed stack at rest is not freed but kept as a spare (up to
// spareStackCount of them) for the next VM that starts or wakes without
// one (ReadyStack): growing a stack anew takes one malloc per call depth,
// each under libc's one process-wide lock, and a cold start that did so
// spent ~30 µs there, 3.5% of its CPU, with loads running side by side.

// tlsMirror mirrors libc.TLS (modernc.org/libc v1.79.0, libc_musl.go) up to
// its stack.
type tlsMirror struct {
	allocaStack         []int
	allocas             []uintptr
	jumpBuffers         []uintptr
	pendingSignals      chan struct{}
	pthread             uintptr
	pthreadCleanupItems []struct{ routine, arg uintptr }
	pthreadKeyValues    map[uint32]uintptr
	sigFlags            map[int32]int32
	sigHandlers         map[int32]uintptr
	sp                  int
	stack               []tlsStackSlot
}

type tlsStackSlot struct {
	p  uintptr
	sz libc.Tsize_t
}

func tlsOf(tls *libc.TLS) *tlsMirror { return (*tlsMirror)(unsafe.Pointer(tls)) }

// stackLayoutOK checks the mirror against a TLS: its depth as libc reports
// it, and every cached block's size as the allocator reports it.
func stackLayoutOK(tls *libc.TLS) bool {
	m := tlsOf(tls)
	if m.sp != tls.StackSlots() || m.sp > len(m.stack) || len(m.stack) > cap(m.stack) {
		return false
	}
	for _, s := range m.stack {
		if s.p == 0 || libc.Xmalloc_usable_size(tls, s.p) != s.sz {
			return false
		}
	}
	return true
}

var stackTrimOK = func() bool {
	tls := libc.NewTLS()
	defer tls.Close()
	p := tls.Alloc(100)
	q := tls.Alloc(3000)
	m := tlsOf(tls)
	ok := stackLayoutOK(tls) && len(m.stack) == 2 && m.stack[0].p == p && m.stack[1].p == q
	tls.Free(3000)
	tls.Free(100)
	return ok && m.sp == 0
}()

// StackHeld reports the bytes of stack blocks vm's TLS keeps above its
// current depth.
func StackHeld(vm *quickjs.VM) int {
	if !stackTrimOK {
		return 0
	}
	m := tlsOf(mirror(vm).runtime.tls)
	n := 0
	for _, s := range m.stack[m.sp:] {
		n += int(s.sz)
	}
	return n
}

// TrimStack gives back the stack blocks vm's TLS keeps above its current
// depth: as a spare stack when vm is at rest, else to libc. It must run on
// the goroutine that runs vm, between calls into the engine or from Go code
// the engine called.
func TrimStack(vm *quickjs.VM) {
	if !stackTrimOK {
		return
	}
	tls := mirror(vm).runtime.tls
	m := tlsOf(tls)
	if m.sp == 0 && len(m.stack) > 0 && keepSpare(m.stack) {
		m.stack = nil
		return
	}
	for _, s := range m.stack[m.sp:] {
		libc.Xfree(tls, s.p)
	}
	clear(m.stack[m.sp:])
	m.stack = m.stack[:m.sp]
	if m.sp == 0 {
		m.stack = nil // libc grows it again when needed
	}
}

// ReadyStack gives vm's TLS a spare stack if it has none: a VM about to run
// after TrimStack, or one just made. Same goroutine rule as TrimStack.
func ReadyStack(vm *quickjs.VM) { readyStack(mirror(vm).runtime.tls) }

func readyStack(tls *libc.TLS) {
	if !stackTrimOK {
		return
	}
	m := tlsOf(tls)
	if m.sp != 0 || len(m.stack) != 0 {
		return
	}
	spareStacks.Lock()
	if n := len(spareStacks.free); n > 0 {
		m.stack = spareStacks.free[n-1]
		spareStacks.free[n-1] = nil
		spareStacks.free = spareStacks.free[:n-1]
	}
	spareStacks.Unlock()
}

// spareStacks holds the stacks of trimmed TLSes at rest. A stack deeper
// than spareStackBytes (a VM that once recursed deep) is not kept: spares
// are for the ordinary depth every request reaches.
var spareStacks struct {
	sync.Mutex
	free [][]tlsStackSlot
}

const (
	spareStackCount = 16
	spareStackBytes = 64 << 10
)

// keepSpare takes stack as a spare and reports whether it did.
func keepSpare(stack []tlsStackSlot) bool {
	n := 0
	for _, s := range stack {
		n += int(s.sz)
	}
	if n > spareStackBytes {
		return false
	}
	spareStacks.Lock()
	defer spareStacks.Unlock()
	if len(spareStacks.free) >= spareStackCount {
		return false
	}
	spareStacks.free = append(spareStacks.free, stack)
	return true
}

// tlsAtRest reports whether tls holds nothing of a call: what a TLS must be
// to serve another VM.
func tlsAtRest(tls *libc.TLS) bool {
	m := tlsOf(tls)
	return m.sp == 0 && len(m.allocaStack) == 0 && len(m.allocas) == 0 && len(m.jumpBuffers) == 0 &&
		len(m.pthreadCleanupItems) == 0 && len(m.pthreadKeyValues) == 0
}
