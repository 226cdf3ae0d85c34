package jsvm

import (
	"errors"
	"sync/atomic"
	"time"
	"unsafe" // and go:linkname

	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// Call calls f with args from Go, as quickjs.Value.CallValue does, and
// returns its result, which the caller frees. It is the wrapper's call
// without its allocations: the wrapper boxes the arguments into a growing
// slice, dups every Value argument to free it again, and takes the argument
// array from libc's malloc under its process-wide lock; an isolate makes
// several such calls per request (RATIONALE.md, "Calls into JavaScript from
// Go"). Here the arguments go on the engine's own stack, Values are lent
// (the engine does not keep argv), and only strings are made. The rest is
// the wrapper's call word for word: the eval timeout re-armed on the
// outermost call, the engine frame Go code runs from kept, an exception
// turned into a *quickjs.Error, and a Go panic that went up through
// JavaScript going on from here.
//
// Arguments may be nil (null), quickjs.Undefined, bool, int, int64, int32,
// float64, string and quickjs.Value; any other type goes the wrapper's way.
func Call(f quickjs.Value, args ...any) (quickjs.Value, error) {
	for _, a := range args {
		switch a.(type) {
		case nil, quickjs.Undefined, bool, int, int64, int32, float64, string, quickjs.Value:
		default:
			return f.CallValue(quickjs.UndefinedValue, args...)
		}
	}
	vm := f.VM()
	if vm == nil {
		return quickjs.Value{}, errNotFunction
	}
	m := mirror(vm)
	tls, ctx := m.runtime.tls, m.cContext
	fv := unwrap(f)
	if lib.XJS_IsFunction(tls, ctx, fv) == 0 {
		return quickjs.Value{}, errNotFunction
	}
	// enter
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	if m.abandoned || rt.Fcurrent_stack_frame != m.frame {
		m.abandoned = true
		panic(abandonedPanic)
	}
	if m.depth == 0 && m.interruptData != 0 {
		d := (*interruptDataMirror)(unsafe.Add(nil, m.interruptData))
		atomic.StoreInt32(&d.interrupt, 0)
		d.timeLimit = 0
		if m.timeout != 0 {
			d.timeLimit = wrapperDeadline(m.timeout)
		}
	}
	m.depth++
	defer func() {
		// leave
		m.depth--
		if rt.Fcurrent_stack_frame != m.frame {
			m.abandoned = true
		}
		if !m.abandoned {
			repanic(m)
		}
	}()
	n := len(args)
	size := n * sizeofValue
	var argv uintptr
	if n > 0 {
		argv = tls.Alloc(size)
		defer tls.Free(size)
	}
	made := 0 // args[:made] are converted; strings among them freed after
	defer func() {
		for i, a := range args[:made] {
			if _, ok := a.(string); ok && !m.abandoned {
				lib.XFreeValue(tls, ctx, *(*lib.TJSValue)(unsafe.Add(nil, argv+uintptr(i*sizeofValue))))
			}
		}
	}()
	for i, a := range args {
		if x, ok := a.(quickjs.Value); ok && x.VM() != vm && unwrap(x).Ftag < 0 {
			return quickjs.Value{}, errOtherVM
		}
		// A Value is lent as it is (JS_Call neither keeps nor frees argv);
		// of the other types only a string makes a value to free.
		v, err := toJSValue(vm, tls, ctx, a)
		if err == nil && v.Ftag == lib.EJS_TAG_EXCEPTION {
			err = exceptionError(vm, m)
		}
		if err != nil {
			return quickjs.Value{}, err
		}
		*(*lib.TJSValue)(unsafe.Add(nil, argv+uintptr(i*sizeofValue))) = v
		made = i + 1
	}
	r := lib.XJS_Call(tls, ctx, fv, lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}, int32(n), argv)
	if r.Ftag == lib.EJS_TAG_EXCEPTION {
		return quickjs.Value{}, exceptionError(vm, m)
	}
	return wrap(vm, r), nil
}

const sizeofValue = int(unsafe.Sizeof(lib.TJSValue{}))

var (
	errNotFunction = errors.New("cannot call a non-function")
	errOtherVM     = errors.New("cannot use a Value from a different VM")
)

// exceptionError takes the pending exception as the wrapper's
// errFromException does: a Go panic thrown through the engine as an
// uncatchable exception goes on first (repanic drops that exception).
func exceptionError(vm *quickjs.VM, m *vmMirror) error {
	repanic(m)
	return takeException(vm)
}

// repanic is the wrapper's: a panic a host function recovered into an
// uncatchable exception goes on in the Go code that called JavaScript.
func repanic(m *vmMirror) {
	p := m.panicked
	if p == nil {
		return
	}
	m.panicked = nil
	tls, ctx := m.runtime.tls, m.cContext
	if lib.XJS_HasException(tls, ctx) != 0 {
		lib.XFreeValue(tls, ctx, lib.XJS_GetException(tls, ctx))
	}
	lib.XJS_SetUncatchableException(tls, ctx, 0)
	panic(p)
}

// wrapperDeadline is the wrapper's deadline: the eval timeout's end on the
// clock its interrupt handler reads.
//
//go:linkname wrapperDeadline modernc.org/quickjs.deadline
func wrapperDeadline(d time.Duration) int64

// Bool reports v's value if v is a boolean.
func Bool(v quickjs.Value) (b, ok bool) { return boolOf(unwrap(v)) }

// NewPromiseCapability is the wrapper's VM.NewPromiseCapability with the
// engine's out-parameter for the resolving functions on the engine's stack
// instead of in memory from libc's calloc: an isolate makes one for every
// host operation that settles later, and libc takes its process-wide lock
// for each calloc and free.
func NewPromiseCapability(vm *quickjs.VM) (*quickjs.PromiseCapability, error) {
	m := mirror(vm)
	if m.abandoned {
		panic(abandonedPanic)
	}
	tls, ctx := m.runtime.tls, m.cContext
	size := 2 * sizeofValue
	p := tls.Alloc(size)
	defer tls.Free(size)
	promise := lib.XJS_NewPromiseCapability(tls, ctx, p)
	if promise.Ftag == lib.EJS_TAG_EXCEPTION {
		return nil, exceptionError(vm, m)
	}
	fs := unsafe.Slice((*lib.TJSValue)(unsafe.Add(nil, p)), 2)
	return &quickjs.PromiseCapability{Promise: wrap(vm, promise), Resolve: wrap(vm, fs[0]), Reject: wrap(vm, fs[1])}, nil
}
