package jsvm

import (
	"sync"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// Rejections collects promises rejected with no handler. The engine reports
// them while JavaScript runs, when the quickjs API may not be used, so the
// reasons are kept and handed out by Drain once the VM is idle again. A
// handler attached before then takes the promise off the list, so only
// rejections nobody handled by the end of a turn are reported, as workerd
// reports them.
type Rejections struct {
	vm      *quickjs.VM
	id      uintptr
	order   []uint64
	pending map[uint64]lib.TJSValue
}

var (
	rejectionsMu  sync.Mutex
	rejectionsFor = map[uintptr]*Rejections{}
	rejectionsSeq uintptr
)

// TrackRejections starts collecting vm's unhandled rejections. Close it
// before closing the VM.
func TrackRejections(vm *quickjs.VM) *Rejections {
	r := &Rejections{vm: vm, pending: map[uint64]lib.TJSValue{}}
	rejectionsMu.Lock()
	rejectionsSeq++
	r.id = rejectionsSeq
	rejectionsFor[r.id] = r
	rejectionsMu.Unlock()
	m := mirror(vm)
	lib.XJS_SetHostPromiseRejectionTracker(m.runtime.tls, m.runtime.cRuntime, funcPointer(rejectionCallback), r.id)
	return r
}

// Drain passes each unhandled rejection's reason to fn, oldest first, and
// forgets them. Call it on the VM's goroutine, outside JavaScript.
func (r *Rejections) Drain(fn func(reason quickjs.Value)) {
	order := r.order
	r.order = nil
	for _, p := range order {
		v, ok := r.pending[p]
		if !ok {
			continue
		}
		delete(r.pending, p)
		reason := wrap(r.vm, v)
		fn(reason)
		reason.Free()
	}
}

// Close stops tracking and releases what is held.
func (r *Rejections) Close() {
	m := mirror(r.vm)
	lib.XJS_SetHostPromiseRejectionTracker(m.runtime.tls, m.runtime.cRuntime, 0, 0)
	rejectionsMu.Lock()
	delete(rejectionsFor, r.id)
	rejectionsMu.Unlock()
	for p, v := range r.pending {
		lib.XFreeValue(m.runtime.tls, m.cContext, v)
		delete(r.pending, p)
	}
	r.order = nil
}

// rejectionCallback has the shape with which the transpiled engine calls a
// JSHostPromiseRejectionTracker; opaque is the tracker's id.
func rejectionCallback(tls *libc.TLS, ctx uintptr, promise, reason lib.TJSValue, isHandled int32, opaque uintptr) {
	rejectionsMu.Lock()
	r := rejectionsFor[opaque]
	rejectionsMu.Unlock()
	if r == nil {
		return
	}
	p := promise.Fu.Fuint641
	if isHandled != 0 {
		if v, ok := r.pending[p]; ok {
			lib.XFreeValue(tls, ctx, v)
			delete(r.pending, p)
		}
		return
	}
	if _, ok := r.pending[p]; ok {
		return
	}
	r.pending[p] = lib.XDupValue(tls, ctx, reason)
	r.order = append(r.order, p)
}

// funcPointer is how the transpiled engine represents a C function pointer:
// the word of a Go func value that points at its code.
func funcPointer(f any) uintptr {
	type iface [2]uintptr
	return (*iface)(unsafe.Pointer(&f))[1]
}
