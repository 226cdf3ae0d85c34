// Package jsvm adds to modernc.org/quickjs the few engine calls Isola needs and
// the wrapper does not expose: ArrayBuffers that cross without a JSON detour,
// compiling with a real file name (so stacks name the worker's module), and
// per-VM memory accounting.
//
// The wrapper keeps the engine's context and runtime in unexported fields. We
// read them through mirror structs whose layout is checked at start-up against
// the pinned wrapper version (see layoutOK); RATIONALE.md explains why this is
// preferred over a fork.
package jsvm

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// vmMirror mirrors the leading fields of quickjs.VM (v0.27.0):
//
//	type VM struct { intr *interrupter; state }
//	type state struct { cContext uintptr; goFuncs map[string]int32;
//	    int32_16, int32_2 lib.TJSValue; runtime *runtime; timeout time.Duration;
//	    interruptData, toStringArgv uintptr; depth int; panicked any;
//	    frame uintptr; abandoned, wtf8 bool }
type vmMirror struct {
	intr          unsafe.Pointer
	cContext      uintptr
	goFuncs       map[string]int32
	int32_16      lib.TJSValue
	int32_2       lib.TJSValue
	runtime       *runtimeMirror
	timeout       time.Duration
	interruptData uintptr
	toStringArgv  uintptr
	// The wrapper's bookkeeping of calls between Go and JavaScript, which
	// host functions keep as the wrapper's own do (host.go).
	depth     int
	panicked  any
	frame     uintptr
	abandoned bool
	wtf8      bool
}

// runtimeMirror mirrors quickjs.runtime.
type runtimeMirror struct {
	cRuntime          uintptr
	tls               *libc.TLS
	callbackClassInit bool
}

// valueMirror mirrors quickjs.Value.
type valueMirror struct {
	vm *quickjs.VM
	v  lib.TJSValue
}

func mirror(vm *quickjs.VM) *vmMirror { return (*vmMirror)(unsafe.Pointer(vm)) }

func handles(vm *quickjs.VM) (*libc.TLS, uintptr) {
	m := mirror(vm)
	return m.runtime.tls, m.cContext
}

func wrap(vm *quickjs.VM, v lib.TJSValue) quickjs.Value {
	vmv := valueMirror{vm: vm, v: v}
	return *(*quickjs.Value)(unsafe.Pointer(&vmv))
}

func unwrap(v quickjs.Value) lib.TJSValue {
	return (*valueMirror)(unsafe.Pointer(&v)).v
}

var errLayout = errors.New("jsvm: modernc.org/quickjs layout differs from the version this bridge mirrors")

// CheckLayout verifies the mirrors against a live VM. Called once by NewVM.
func CheckLayout(vm *quickjs.VM) error {
	m := mirror(vm)
	if m.cContext == 0 || m.runtime == nil || m.runtime.tls == nil || m.runtime.cRuntime == 0 ||
		m.interruptData == 0 || m.toStringArgv == 0 || m.depth != 0 || m.frame != 0 || m.abandoned || m.wtf8 {
		return errLayout
	}
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	if rt.Finterrupt_opaque != m.interruptData {
		return errLayout
	}
	// A value made through the mirror must read back through the public API.
	v := NewArrayBuffer(vm, []byte("ok"))
	defer v.Free()
	b, ok := ArrayBufferBytes(v)
	if !ok || string(b) != "ok" {
		return errLayout
	}
	return nil
}

// NewArrayBuffer returns a new ArrayBuffer holding a copy of b.
func NewArrayBuffer(vm *quickjs.VM, b []byte) quickjs.Value {
	tls, ctx := handles(vm)
	// The engine allocates the buffer (zeroed: no source given) and the
	// bytes are copied into it: one copy, and no libc malloc, whose
	// process-wide lock every isolate shares.
	v := lib.XJS_NewArrayBufferCopy(tls, ctx, 0, lib.Tsize_t(len(b)))
	if v.Ftag == lib.EJS_TAG_EXCEPTION || len(b) == 0 {
		return wrap(vm, v)
	}
	psize := tls.Alloc(8)
	defer tls.Free(8)
	p := lib.XJS_GetArrayBuffer(tls, ctx, psize, v)
	if p == 0 || *(*lib.Tsize_t)(unsafe.Add(nil, psize)) != lib.Tsize_t(len(b)) {
		lib.XFreeValue(tls, ctx, v)
		return wrap(vm, throwString(tls, ctx, lib.XJS_ThrowInternalError, "jsvm: a new ArrayBuffer has no data"))
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(nil, p)), len(b)), b)
	return wrap(vm, v)
}

// ArrayBufferBytes copies the bytes of an ArrayBuffer. ok is false when v is
// not an ArrayBuffer (the engine's pending exception is cleared).
func ArrayBufferBytes(v quickjs.Value) (b []byte, ok bool) {
	vm := v.VM()
	tls, ctx := handles(vm)
	// Out-parameters live in the TLS area: a Go stack address could move
	// while the engine runs.
	psize := tls.Alloc(8)
	defer tls.Free(8)
	p := lib.XJS_GetArrayBuffer(tls, ctx, psize, unwrap(v))
	size := *(*lib.Tsize_t)(unsafe.Add(nil, psize))
	if p == 0 {
		if size == 0 && lib.XJS_HasException(tls, ctx) == 0 {
			return []byte{}, true // zero-length buffer
		}
		clearException(tls, ctx)
		return nil, false
	}
	out := make([]byte, int(size))
	copy(out, unsafe.Slice((*byte)(unsafe.Add(nil, p)), int(size)))
	return out, true
}

func clearException(tls *libc.TLS, ctx uintptr) {
	e := lib.XJS_GetException(tls, ctx)
	lib.XFreeValue(tls, ctx, e)
}

// Strip flags for CompileStripped.
const (
	StripSource = lib.MJS_STRIP_SOURCE // no source text for Function.prototype.toString
	StripDebug  = lib.MJS_STRIP_DEBUG  // no line tables: smaller, but stacks lose positions
)

// Compile compiles source to bytecode under the given file name, so stack
// traces and syntax errors name it. module selects ES module semantics.
func Compile(vm *quickjs.VM, source, filename string, module bool) ([]byte, error) {
	return CompileStripped(vm, source, filename, module, 0)
}

// CompileStripped is Compile leaving out what strip names. Every isolate
// that loads the bytecode holds its own copy of it, so for code whose
// source and positions nobody needs (the prelude) this is memory saved in
// each one.
func CompileStripped(vm *quickjs.VM, source, filename string, module bool, strip int) ([]byte, error) {
	tls, ctx := handles(vm)
	m := mirror(vm)
	prev := lib.XJS_GetStripInfo(tls, m.runtime.cRuntime)
	lib.XJS_SetStripInfo(tls, m.runtime.cRuntime, int32(strip))
	defer lib.XJS_SetStripInfo(tls, m.runtime.cRuntime, prev)
	flags := int32(lib.MJS_EVAL_FLAG_COMPILE_ONLY)
	if module {
		flags |= lib.MJS_EVAL_TYPE_MODULE
	}
	src, err := libc.CString(source)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(tls, src)
	fn, err := libc.CString(filename)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(tls, fn)

	obj := lib.XJS_Eval(tls, ctx, src, lib.Tsize_t(len(source)), fn, flags)
	if obj.Ftag == lib.EJS_TAG_EXCEPTION {
		return nil, takeException(vm)
	}
	defer lib.XFreeValue(tls, ctx, obj)

	psize := tls.Alloc(8)
	defer tls.Free(8)
	p := lib.XJS_WriteObject(tls, ctx, psize, obj, lib.MJS_WRITE_OBJ_BYTECODE)
	size := *(*lib.Tsize_t)(unsafe.Add(nil, psize))
	if p == 0 {
		return nil, takeException(vm)
	}
	out := make([]byte, int(size))
	copy(out, unsafe.Slice((*byte)(unsafe.Add(nil, p)), int(size)))
	lib.Xjs_free(tls, ctx, p)
	return out, nil
}

// takeException converts the engine's pending exception into a *quickjs.Error.
func takeException(vm *quickjs.VM) error {
	tls, ctx := handles(vm)
	if lib.XJS_HasException(tls, ctx) == 0 {
		return errors.New("jsvm: engine failed without an exception")
	}
	e := wrap(vm, lib.XJS_GetException(tls, ctx))
	defer e.Free()
	if qe := quickjs.ErrorFromValue(e); qe != nil {
		return qe
	}
	return fmt.Errorf("jsvm: exception")
}

// MemoryUsage is the part of the engine's accounting Isola reports.
type MemoryUsage struct {
	MallocSize  int64 // bytes the engine holds from the allocator
	MallocLimit int64
	UsedSize    int64
	Objects     int64
}

// Memory reports the engine runtime's allocation figures for vm.
func Memory(vm *quickjs.VM) MemoryUsage {
	m := mirror(vm)
	n := int(unsafe.Sizeof(lib.TJSMemoryUsage{}))
	pu := m.runtime.tls.Alloc(n)
	defer m.runtime.tls.Free(n)
	lib.XJS_ComputeMemoryUsage(m.runtime.tls, m.runtime.cRuntime, pu)
	u := *(*lib.TJSMemoryUsage)(unsafe.Add(nil, pu))
	return MemoryUsage{
		MallocSize:  u.Fmalloc_size,
		MallocLimit: u.Fmalloc_limit,
		UsedSize:    u.Fmemory_used_size,
		Objects:     u.Fobj_count,
	}
}

// GCThreshold is the heap size at which QuickJS next collects garbage. After
// each collection it is set to 1.5 times the heap then, so it stays high for
// a while after the heap was large, even once the values are freed: a hint
// that the heap recently approached its limit.
func GCThreshold(vm *quickjs.VM) uint64 {
	m := mirror(vm)
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	return uint64(rt.Fmalloc_gc_threshold)
}

// minGCThreshold is the engine's first threshold (256 KB), below which
// SettleGCThreshold does not go.
const minGCThreshold = 256 << 10

// SettleGCThreshold sets the threshold again from the heap as it is now, if
// a collection ran since the threshold was seen and the heap is smaller than
// the threshold assumed. The engine sets it, in the collection, to 1.5 times
// the heap then; but a dead object that a FinalizationRegistry watches is
// only freed by the collection after the one that finds it dead (after its
// callback's job has run). An RPC stub is such an object, so a platform that
// drops stubs steadily had its heap counted with all of them, and the next
// threshold 1.5 times that: the threshold, and the heap with it, grew
// without bound (a Worker Loader platform: 2.9 MB after 6,000 ids, 19 MB
// after 60,000; a worker registering 2,000 objects in cycles per request hit
// a 128 MiB limit within 400 requests). The loop runs a second collection
// after a turn in which one ran, and then calls this.
func SettleGCThreshold(vm *quickjs.VM, seen uint64) {
	m := mirror(vm)
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	if uint64(rt.Fmalloc_gc_threshold) == seen {
		return
	}
	size := uint64(rt.Fmalloc_ctx.Fmalloc_state.Fmalloc_size)
	if want := max(minGCThreshold, size+size/2); want < uint64(rt.Fmalloc_gc_threshold) {
		rt.Fmalloc_gc_threshold = lib.Tsize_t(want)
	}
}

// RunGC runs QuickJS's cycle collector now. Reference counting frees most
// values at once; cycles (a dropped async function and its promises) wait
// for the collector, which otherwise runs when the heap has grown enough.
func RunGC(vm *quickjs.VM) {
	m := mirror(vm)
	lib.XJS_RunGC(m.runtime.tls, m.runtime.cRuntime)
}

// Bytecode is compiled code kept in C memory for the life of the process:
// the wrapper's EvalBytecode copies its argument twice (into a Go string,
// then into C memory), ~72 KB of copies and 36 KB of Go garbage for every
// isolate's prelude.
type Bytecode struct {
	p uintptr
	n int
}

// NewBytecode copies b into C memory that is never freed.
func NewBytecode(b []byte) *Bytecode {
	if len(b) == 0 {
		return &Bytecode{}
	}
	p := libc.Xmalloc(nil, libc.Tsize_t(len(b)))
	if p == 0 {
		panic("jsvm: out of memory for bytecode")
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(nil, p)), len(b)), b)
	return &Bytecode{p: p, n: len(b)}
}

// EvalBytecodeInHost evaluates bc, a script, in vm and returns its value. It
// must run in a Go function JavaScript called (a host function), where the
// wrapper's bookkeeping of calls into the engine is in place.
func EvalBytecodeInHost(vm *quickjs.VM, bc *Bytecode) (quickjs.Value, error) {
	tls, ctx := handles(vm)
	obj := lib.XJS_ReadObject(tls, ctx, bc.p, lib.Tsize_t(bc.n), lib.MJS_READ_OBJ_BYTECODE)
	if obj.Ftag == lib.EJS_TAG_EXCEPTION {
		return quickjs.Value{}, takeException(vm)
	}
	v := lib.XJS_EvalFunction(tls, ctx, obj)
	if v.Ftag == lib.EJS_TAG_EXCEPTION {
		return quickjs.Value{}, takeException(vm)
	}
	return wrap(vm, v), nil
}

// NewExternalArrayBuffer returns an ArrayBuffer over n bytes at p, memory the
// engine does not own: nothing is copied, and the engine never frees it.
// The caller keeps the memory alive and mapped while the buffer can reach
// it, and detaches the buffer (DetachArrayBuffer) before it goes.
func NewExternalArrayBuffer(vm *quickjs.VM, p uintptr, n int) quickjs.Value {
	tls, ctx := handles(vm)
	return wrap(vm, lib.XJS_NewArrayBuffer(tls, ctx, p, lib.Tsize_t(n), noFree, 0, 0))
}

// noFree is an external buffer's free function. Not none: the engine calls
// the free function without checking it when ArrayBuffer.prototype.transfer
// copies a buffer it did not allocate.
var noFree = cFunc(func(tls *libc.TLS, rt, opaque, p uintptr) {})

// DetachArrayBuffer detaches v: its length and its views' become 0.
func DetachArrayBuffer(v quickjs.Value) {
	tls, ctx := handles(v.VM())
	lib.XJS_DetachArrayBuffer(tls, ctx, unwrap(v))
}

// ArrayBufferData is the address and length of an ArrayBuffer's bytes, for
// Go code that shares them with JavaScript in place while it holds v; ok
// is false when v is not an ArrayBuffer.
func ArrayBufferData(v quickjs.Value) (p uintptr, n int, ok bool) {
	tls, ctx := handles(v.VM())
	psize := tls.Alloc(8)
	defer tls.Free(8)
	p = lib.XJS_GetArrayBuffer(tls, ctx, psize, unwrap(v))
	if p == 0 {
		clearException(tls, ctx)
		return 0, 0, false
	}
	return p, int(*(*lib.Tsize_t)(unsafe.Add(nil, psize))), true
}

// TurnDeadline is the current turn's CPU deadline as the engine holds it (a
// reading of its monotonic clock): it tells one turn's deadline from
// another's. ok is false when no limit runs.
func TurnDeadline(vm *quickjs.VM) (int64, bool) {
	m := mirror(vm)
	if m.interruptData == 0 {
		return 0, false
	}
	d := (*interruptDataMirror)(unsafe.Add(nil, m.interruptData))
	return d.timeLimit, d.timeLimit != 0
}

// TimeLeft is what remains of the current turn's CPU time (the eval
// timeout armed by the outermost call into the VM); ok is false when no
// limit runs.
func TimeLeft(vm *quickjs.VM) (left time.Duration, ok bool) {
	m := mirror(vm)
	if m.interruptData == 0 {
		return 0, false
	}
	d := (*interruptDataMirror)(unsafe.Add(nil, m.interruptData))
	if d.timeLimit == 0 {
		return 0, false
	}
	return time.Duration(d.timeLimit - wrapperDeadline(0)), true
}
