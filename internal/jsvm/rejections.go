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
	pending map[uint64]rejection

	// With KeepReported, Drain remembers the promises it handed out (the
	// latest maxReported), and one that gets a handler afterwards is handed
	// out again by DrainHandled: the rejectionhandled event.
	KeepReported  bool
	reported      map[uint64]rejection
	reportedOrder []uint64
	handledLater  []rejection
}

// maxReported bounds the promises kept for rejectionhandled: each is held
// until it is handled or pushed out.
const maxReported = 256

// rejection is a promise rejected with no handler, and its reason; both are
// held until Drain hands them out.
type rejection struct{ promise, reason lib.TJSValue }

var (
	rejectionsMu  sync.Mutex
	rejectionsFor = map[uintptr]*Rejections{}
	rejectionsSeq uintptr
)

// TrackRejections starts collecting vm's unhandled rejections. Close it
// before closing the VM.
func TrackRejections(vm *quickjs.VM) *Rejections {
	r := &Rejections{vm: vm, pending: map[uint64]rejection{}}
	rejectionsMu.Lock()
	rejectionsSeq++
	r.id = rejectionsSeq
	rejectionsFor[r.id] = r
	rejectionsMu.Unlock()
	m := mirror(vm)
	lib.XJS_SetHostPromiseRejectionTracker(m.runtime.tls, m.runtime.cRuntime, funcPointer(rejectionCallback), r.id)
	return r
}

// Drain passes each unhandled rejection, its promise and its reason, to fn,
// oldest first, and forgets them. Call it on the VM's goroutine, outside
// JavaScript; fn may run JavaScript, and a rejection that leaves unhandled
// waits for the next Drain.
func (r *Rejections) Drain(fn func(promise, reason quickjs.Value)) {
	order := r.order
	r.order = nil
	for _, p := range order {
		v, ok := r.pending[p]
		if !ok {
			continue
		}
		delete(r.pending, p)
		if r.KeepReported {
			r.keepReported(p, v)
		}
		promise, reason := wrap(r.vm, v.promise), wrap(r.vm, v.reason)
		fn(promise, reason)
		promise.Free()
		reason.Free()
	}
}

// keepReported remembers a reported promise, with a reference of its own:
// held, the promise keeps its address, which is its key.
func (r *Rejections) keepReported(p uint64, v rejection) {
	m := mirror(r.vm)
	if r.reported == nil {
		r.reported = map[uint64]rejection{}
	}
	r.reported[p] = rejection{lib.XDupValue(m.runtime.tls, m.cContext, v.promise), lib.XDupValue(m.runtime.tls, m.cContext, v.reason)}
	r.reportedOrder = append(r.reportedOrder, p)
	if len(r.reportedOrder) > 2*maxReported {
		// Promises handled since left their keys behind.
		kept := r.reportedOrder[:0]
		for _, k := range r.reportedOrder {
			if _, ok := r.reported[k]; ok {
				kept = append(kept, k)
			}
		}
		r.reportedOrder = kept
	}
	for len(r.reported) > maxReported {
		old := r.reportedOrder[0]
		r.reportedOrder = r.reportedOrder[1:]
		if v, ok := r.reported[old]; ok {
			lib.XFreeValue(m.runtime.tls, m.cContext, v.promise)
			lib.XFreeValue(m.runtime.tls, m.cContext, v.reason)
			delete(r.reported, old)
		}
	}
}

// DrainHandled passes each reported rejection whose promise has since got a
// handler to fn, and forgets it. Call it as Drain.
func (r *Rejections) DrainHandled(fn func(promise, reason quickjs.Value)) {
	later := r.handledLater
	r.handledLater = nil
	for _, v := range later {
		promise, reason := wrap(r.vm, v.promise), wrap(r.vm, v.reason)
		fn(promise, reason)
		promise.Free()
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
		lib.XFreeValue(m.runtime.tls, m.cContext, v.promise)
		lib.XFreeValue(m.runtime.tls, m.cContext, v.reason)
		delete(r.pending, p)
	}
	for p, v := range r.reported {
		lib.XFreeValue(m.runtime.tls, m.cContext, v.promise)
		lib.XFreeValue(m.runtime.tls, m.cContext, v.reason)
		delete(r.reported, p)
	}
	for _, v := range r.handledLater {
		lib.XFreeValue(m.runtime.tls, m.cContext, v.promise)
		lib.XFreeValue(m.runtime.tls, m.cContext, v.reason)
	}
	r.order, r.reportedOrder, r.handledLater = nil, nil, nil
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
			lib.XFreeValue(tls, ctx, v.promise)
			lib.XFreeValue(tls, ctx, v.reason)
			delete(r.pending, p)
		} else if v, ok := r.reported[p]; ok {
			delete(r.reported, p) // its place in reportedOrder is skipped when it comes up
			r.handledLater = append(r.handledLater, v)
		}
		return
	}
	if _, ok := r.pending[p]; ok {
		return
	}
	r.pending[p] = rejection{lib.XDupValue(tls, ctx, promise), lib.XDupValue(tls, ctx, reason)}
	r.order = append(r.order, p)
}

// funcPointer is how the transpiled engine represents a C function pointer:
// the word of a Go func value that points at its code.
func funcPointer(f any) uintptr {
	type iface [2]uintptr
	return (*iface)(unsafe.Pointer(&f))[1]
}
