package jsvm

import (
	"sync"
	"unsafe" // and go:linkname

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// The engine gets its memory through the malloc functions of its runtime,
// and every runtime the wrapper makes uses the engine's default set. Isola
// replaces that set, once, before any runtime exists, with functions that
// keep the defaults' accounting and limit, take blocks of up to 32 KiB from
// the pages of pages.go and larger ones from libc, and remember which blocks
// each runtime holds. That is what lets Close end a runtime without the
// engine's final collection: the blocks are handed back in one pass,
// whatever objects they held. RATIONALE.md ("An isolate closes without the
// engine's final sweep") has the figures.
//
//go:linkname engineMallocFuncs modernc.org/libquickjs._def_malloc_funcs
var engineMallocFuncs lib.TJSMallocFunctions

// engineHeap is the set of blocks one runtime holds. Only the
// goroutine running the runtime touches it, as only that goroutine runs the
// engine for that runtime.
type engineHeap struct {
	id      uintptr
	runtime uintptr // the first block: the JSRuntime itself
	blocks  *blockSet
	// discarding is set by Close: the runtime's objects are being dropped
	// wholesale, so single frees are left for the final release.
	discarding bool
	// rec is set on a runtime built as a snapshot's template (snapshot.go).
	rec *recording
	// refused is set when the memory limit refused an allocation
	// (AllocationRefused reads and clears it).
	refused bool
}

// heaps maps a runtime's heap id (kept in the engine's malloc state as its
// opaque value) to its heap.
var heaps slotTable[engineHeap]

func newHeap() *engineHeap {
	h := &engineHeap{blocks: &blockSet{}}
	if recordNext.Load() != nil {
		h.rec = claimRecording()
	}
	id, ok := heaps.add(h)
	if !ok {
		return nil
	}
	h.id = id
	return h
}

// heapOf returns the heap whose id the malloc state s carries, making one
// when s has none yet: the engine's first allocation for a new runtime is
// the runtime itself, made with a malloc state that is then copied into it.
func heapOf(s uintptr) *engineHeap {
	st := (*lib.TJSMallocState)(unsafe.Add(nil, s))
	if st.Fopaque == 0 {
		h := newHeap()
		if h == nil {
			return nil
		}
		st.Fopaque = h.id
		return h
	}
	return heaps.get(st.Fopaque)
}

func (h *engineHeap) release(tls *libc.TLS) {
	pages.mu.Lock()
	h.blocks.each(func(p uintptr) {
		if owns(p) {
			pageFreeLocked(p)
		}
	})
	if h.rec != nil {
		for _, sp := range h.rec.freed {
			if owns(sp.start) {
				pageFreeLocked(sp.start)
			}
		}
	}
	pages.mu.Unlock()
	h.blocks.each(func(p uintptr) {
		if !owns(p) {
			libc.Xfree(tls, p)
		}
	})
	if h.rec != nil {
		for _, sp := range h.rec.freed {
			if !owns(sp.start) {
				libc.Xfree(tls, sp.start)
			}
		}
	}
	h.blocks = nil
	heaps.remove(h.id)
}

// usable is what a block counts for in the engine's accounting, as its
// default functions count it.
func usable(tls *libc.TLS, p uintptr) uint64 {
	return blockSize(tls, p) + lib.MMALLOC_OVERHEAD
}

func blockSize(tls *libc.TLS, p uintptr) uint64 {
	if owns(p) {
		return pageUsable(p)
	}
	return uint64(libc.Xmalloc_usable_size(tls, p))
}

func allocBlock(tls *libc.TLS, size uint64) uintptr {
	if p := pageAlloc(size); p != 0 {
		return p
	}
	return libc.Xmalloc(tls, libc.Tsize_t(size))
}

func freeBlock(tls *libc.TLS, p uintptr) {
	if owns(p) {
		pageFree(p)
		return
	}
	libc.Xfree(tls, p)
}

func heapMalloc(tls *libc.TLS, s uintptr, size uint64) uintptr {
	st := (*lib.TJSMallocState)(unsafe.Add(nil, s))
	h := heapOf(s)
	if h == nil {
		return 0
	}
	if st.Fmalloc_size+size > st.Fmalloc_limit {
		h.refused = true
		return 0
	}
	p := allocBlock(tls, size)
	if p == 0 {
		return 0
	}
	if h.runtime == 0 {
		h.runtime = p
	}
	if h.rec != nil {
		h.rec.allocated(tls, p)
	}
	h.blocks.add(p)
	st.Fmalloc_count++
	st.Fmalloc_size += usable(tls, p)
	return p
}

func heapFree(tls *libc.TLS, s uintptr, p uintptr) {
	if p == 0 {
		return
	}
	h := heapOf(s)
	if p == h.runtime {
		// The engine frees the runtime last: whatever the runtime still
		// holds goes with it.
		h.release(tls)
		return
	}
	if h.discarding {
		return
	}
	st := (*lib.TJSMallocState)(unsafe.Add(nil, s))
	st.Fmalloc_count--
	st.Fmalloc_size -= usable(tls, p)
	h.blocks.remove(p)
	if h.rec != nil {
		h.rec.released(tls, p)
		return
	}
	freeBlock(tls, p)
}

func heapRealloc(tls *libc.TLS, s uintptr, p uintptr, size uint64) uintptr {
	if p == 0 {
		if size == 0 {
			return 0
		}
		return heapMalloc(tls, s, size)
	}
	if size == 0 {
		heapFree(tls, s, p)
		return 0
	}
	h := heapOf(s)
	if h != nil && h.rec != nil {
		// A template's blocks always move, so that every block it ever
		// held keeps its own addresses (snapshot.go).
		q := heapMalloc(tls, s, size)
		if q != 0 {
			copy(unsafe.Slice((*byte)(unsafe.Add(nil, q)), size), unsafe.Slice((*byte)(unsafe.Add(nil, p)), min(size, blockSize(tls, p))))
			heapFree(tls, s, p)
		}
		return q
	}
	st := (*lib.TJSMallocState)(unsafe.Add(nil, s))
	old := usable(tls, p)
	if st.Fmalloc_size+size-old+lib.MMALLOC_OVERHEAD > st.Fmalloc_limit && size > old {
		if h != nil {
			h.refused = true
		}
		return 0
	}
	var q uintptr
	switch {
	case !owns(p):
		q = libc.Xrealloc(tls, p, libc.Tsize_t(size))
	case size <= old-lib.MMALLOC_OVERHEAD:
		q = p
	default:
		q = allocBlock(tls, size)
		if q != 0 {
			copy(unsafe.Slice((*byte)(unsafe.Add(nil, q)), size), unsafe.Slice((*byte)(unsafe.Add(nil, p)), old-lib.MMALLOC_OVERHEAD))
			freeBlock(tls, p)
		}
	}
	if q == 0 {
		return 0
	}
	if q != p {
		h.blocks.remove(p)
		h.blocks.add(q)
	}
	st.Fmalloc_size += usable(tls, q) - old
	return q
}

func heapUsableSize(tls *libc.TLS, p uintptr) uint64 {
	return blockSize(tls, p)
}

// cFunc returns the value the engine calls through for f: ccgo code calls a
// C function pointer by reading it as a Go func value.
func cFunc[F any](f F) uintptr { return *(*uintptr)(unsafe.Pointer(&f)) }

func init() {
	engineMallocFuncs = lib.TJSMallocFunctions{
		Fjs_malloc:             cFunc(heapMalloc),
		Fjs_free:               cFunc(heapFree),
		Fjs_realloc:            cFunc(heapRealloc),
		Fjs_malloc_usable_size: cFunc(heapUsableSize),
	}
}

// Close closes vm (and drops its host functions) without the engine's final
// collection. Closing a runtime normally walks every object twice and frees
// each block on its own (a fifth of a small worker's start-up time); here
// the engine is told it holds no objects, atoms or classes, and the blocks go
// back in one pass when the engine frees the runtime itself. No finalizer
// runs: Isola gives the engine none that own anything outside the runtime's
// blocks. Values Go still holds may be passed as held: they go with the
// runtime, without freeing each (freeing the last reference to a function
// can free much of what it closes over, one object at a time).
func Close(vm *quickjs.VM, held ...quickjs.Value) error {
	releaseHost(vm)
	m := mirror(vm)
	slow := func() error {
		for _, v := range held {
			v.Free()
		}
		return vm.Close()
	}
	if m.runtime == nil || m.runtime.cRuntime == 0 {
		return slow()
	}
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	if rt.Fmalloc_ctx.Fmf.Fjs_malloc != engineMallocFuncs.Fjs_malloc || rt.Fmalloc_ctx.Fmalloc_state.Fopaque == 0 {
		return slow()
	}
	h := heapOf(uintptr(unsafe.Pointer(&rt.Fmalloc_ctx.Fmalloc_state)))
	if h == nil {
		return slow()
	}
	if len(m.goFuncs) == 0 && !m.abandoned && m.depth == 0 {
		return closeFast(vm, m, h)
	}
	h.discarding = true
	for _, l := range []*lib.Tlist_head{&rt.Fgc_obj_list, &rt.Fgc_zero_ref_count_list, &rt.Ftmp_obj_list, &rt.Fweakref_list, &rt.Fjob_list} {
		emptyList(l)
	}
	rt.Fclass_count = 0
	rt.Fatom_size = 0
	err := vm.Close()
	if h.blocks != nil {
		// The wrapper leaves the engine alone when a Go panic went up
		// through it (its objects may be half-updated); their blocks can
		// still go back.
		h.release(nil)
	}
	return err
}

func emptyList(l *lib.Tlist_head) {
	p := uintptr(unsafe.Pointer(l))
	l.Fprev, l.Fnext = p, p
}

// closeFast is the wrapper's Close without the engine's: nothing in the
// runtime needs the engine to take it apart (no wrapper callbacks, no
// finalizers), so its blocks go back at once and its TLS, with the stack
// blocks it grew, goes to the next VM.
func closeFast(vm *quickjs.VM, m *vmMirror, h *engineHeap) error {
	vm.SetModuleLoader(nil, nil) // drops the wrapper's process-wide entry
	intr := (*interrupterMirror)(m.intr)
	intr.mu.Lock()
	intr.data = 0
	intr.mu.Unlock()
	tls := m.runtime.tls
	libc.Xfree(tls, m.interruptData)
	libc.Xfree(tls, m.toStringArgv)
	h.release(tls)
	*m.runtime = runtimeMirror{}
	*m = vmMirror{intr: m.intr}
	putTLS(tls)
	return nil
}

// tlsPool holds TLSes of closed VMs for new ones: a fresh TLS grows its
// stack one libc block per call depth as the engine first goes deeper.
var tlsPool struct {
	sync.Mutex
	free []*libc.TLS
}

const tlsPoolSize = 16

func getTLS() *libc.TLS {
	tlsPool.Lock()
	if n := len(tlsPool.free); n > 0 {
		tls := tlsPool.free[n-1]
		tlsPool.free = tlsPool.free[:n-1]
		tlsPool.Unlock()
		return tls
	}
	tlsPool.Unlock()
	return libc.NewTLS()
}

func putTLS(tls *libc.TLS) {
	if !stackTrimOK || !tlsAtRest(tls) {
		tls.Close()
		return
	}
	tlsPool.Lock()
	if len(tlsPool.free) < tlsPoolSize {
		tlsPool.free = append(tlsPool.free, tls)
		tls = nil
	}
	tlsPool.Unlock()
	if tls != nil {
		tls.Close()
	}
}

// AllocationRefused reports whether vm's memory limit has refused an
// allocation since the last call, and forgets it. When the engine runs out
// of memory so completely that it cannot make its out-of-memory error, it
// throws null instead; by the time anyone sees the null, unwinding may have
// freed what filled the heap, so the heap's size no longer tells.
func AllocationRefused(vm *quickjs.VM) bool {
	m := mirror(vm)
	if m.runtime == nil || m.runtime.cRuntime == 0 {
		return false
	}
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	if rt.Fmalloc_ctx.Fmf.Fjs_malloc != engineMallocFuncs.Fjs_malloc {
		return false
	}
	h := heaps.get(rt.Fmalloc_ctx.Fmalloc_state.Fopaque)
	if h == nil || !h.refused {
		return false
	}
	h.refused = false
	return true
}
