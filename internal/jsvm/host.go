package jsvm

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sync"
	"unicode/utf8"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// Host functions: Go functions JavaScript calls. The wrapper's RegisterFunc
// numbers every Go function of every live VM in one process-wide table of
// 32,767 entries, so with a few dozen host functions per isolate a process
// could not hold more than ~1,200 live isolates. A VM's host functions here
// are numbered in a table of its own, found through the context's opaque
// value, and called through one C function. The call does what the
// wrapper's does around it (RATIONALE.md, "Host functions in a table per
// VM"): it marks the engine frame the Go code runs from, so the Go code can
// call back into JavaScript; a panic becomes an uncatchable error and goes on
// in the Go code that called JavaScript; an interrupt that arrived meanwhile
// ends the calling script.

// hostTable is one VM's host functions.
type hostTable struct {
	id uintptr
	vm *quickjs.VM
	// recv is what a function whose first parameter has recv's type gets
	// there (SetHostReceiver, BindHost): functions shared by many VMs
	// (a HostBinding) take the VM's Go object as a parameter instead of
	// each VM making closures over it.
	recv reflect.Value
	fns  []hostFunc
}

type hostFunc struct {
	name string
	fn   reflect.Value
	sig  *hostSig
	fast *FastHost // instead of fn and sig (fasthost.go)
}

// hostSig is what a call needs to know of a function's type. Every isolate
// registers functions of the same few dozen types, so they share these.
type hostSig struct {
	typ reflect.Type
	// self is what the first parameter takes, if JavaScript does not
	// give it: the VM, or the VM's receiver.
	self     selfKind
	in       []argKind // what JavaScript gives
	variadic bool      // the last of in is ...quickjs.Value
	out      []reflect.Type
}

type selfKind uint8

const (
	selfNone selfKind = iota
	selfVM            // the first parameter is a *quickjs.VM: the VM called
	selfRecv          // the first parameter has the type of the VM's receiver
)

type sigKey struct{ fn, recv reflect.Type }

var hostSigs sync.Map // sigKey -> *hostSig

var vmType = reflect.TypeFor[*quickjs.VM]()

type argKind uint8

const (
	argInt argKind = iota
	argFloat
	argString
	argBool
	argValue
	argAny
)

var valueType = reflect.TypeFor[quickjs.Value]()

var hostTables slotTable[hostTable]

func tableOf(vm *quickjs.VM) (*hostTable, error) {
	tls, ctx := handles(vm)
	if t := hostTables.get(lib.XJS_GetContextOpaque(tls, ctx)); t != nil {
		return t, nil
	}
	t := &hostTable{vm: vm}
	id, ok := hostTables.add(t)
	if !ok {
		return nil, fmt.Errorf("jsvm: too many VMs with host functions")
	}
	t.id = id
	lib.XJS_SetContextOpaque(tls, ctx, id)
	return t, nil
}

// releaseHost drops vm's host functions; Close calls it.
func releaseHost(vm *quickjs.VM) {
	tls, ctx := handles(vm)
	if t := hostTables.get(lib.XJS_GetContextOpaque(tls, ctx)); t != nil && t.vm == vm {
		lib.XJS_SetContextOpaque(tls, ctx, 0)
		t.fns, t.vm = nil, nil
		hostTables.remove(t.id)
	}
}

// SetHostReceiver makes recv what vm's host functions whose first parameter
// has recv's type get there. Set it before registering such functions.
func SetHostReceiver(vm *quickjs.VM, recv any) error {
	t, err := tableOf(vm)
	if err != nil {
		return err
	}
	t.recv = reflect.ValueOf(recv)
	return nil
}

// RegisterHost defines the global name as a JavaScript function that calls
// fn; see NewHostFunc.
func RegisterHost(vm *quickjs.VM, name string, fn any) error {
	f, err := NewHostFunc(vm, name, fn)
	if err != nil {
		return err
	}
	tls, ctx := handles(vm)
	global := wrap(vm, lib.XJS_GetGlobalObject(tls, ctx))
	defer global.Free()
	return DefineProperty(global, name, f)
}

// NewHostFunc returns a JavaScript function named name that calls fn. fn's
// parameters may be int, float64, string, bool, quickjs.Value and any
// (converted as the wrapper converts), the last one may be
// ...quickjs.Value; it may return nothing or one value. Its first parameter
// may instead be a *quickjs.VM, which gets the VM called, or of the type of
// vm's receiver (SetHostReceiver), which gets that. A quickjs.Value
// argument is freed after the call (Dup it to keep it); a returned one is
// handed to JavaScript. A VM with host functions must be closed with Close.
func NewHostFunc(vm *quickjs.VM, name string, fn any) (quickjs.Value, error) {
	t, err := tableOf(vm)
	if err != nil {
		return quickjs.Value{}, err
	}
	var recv reflect.Type
	if t.recv.IsValid() {
		recv = t.recv.Type()
	}
	f, err := newHostFunc(name, fn, recv)
	if err != nil {
		return quickjs.Value{}, err
	}
	if len(t.fns) >= math.MaxInt16 {
		return quickjs.Value{}, fmt.Errorf("jsvm: too many host functions in one VM")
	}
	t.fns = append(t.fns, f)
	tls, ctx := handles(vm)
	cname, err := libc.CString(name)
	if err != nil {
		return quickjs.Value{}, err
	}
	defer libc.Xfree(tls, cname)
	var nin int
	if f.fast != nil {
		nin = f.fast.Arity
	} else {
		nin = len(f.sig.in)
		if f.sig.variadic {
			nin--
		}
	}
	fv := lib.XJS_NewCFunction2(tls, ctx, cFunc(callHost), cname, int32(nin), lib.EJS_CFUNC_generic_magic, int32(len(t.fns)-1))
	if fv.Ftag == lib.EJS_TAG_EXCEPTION {
		return quickjs.Value{}, takeException(vm)
	}
	return wrap(vm, fv), nil
}

// DefineProperty defines obj[name] as v (writable, enumerable,
// configurable). It takes v.
func DefineProperty(obj quickjs.Value, name string, v quickjs.Value) error {
	vm := obj.VM()
	tls, ctx := handles(vm)
	cname, err := libc.CString(name)
	if err != nil {
		v.Free()
		return err
	}
	defer libc.Xfree(tls, cname)
	if lib.XJS_DefinePropertyValueStr(tls, ctx, unwrap(obj), cname, unwrap(v), lib.MJS_PROP_C_W_E) < 0 {
		return takeException(vm)
	}
	return nil
}

// newHostFunc analyses fn; recv, if not nil, is the type of the receiver
// of the VMs it will serve.
func newHostFunc(name string, fn any, recv reflect.Type) (hostFunc, error) {
	if fast, ok := fn.(FastHost); ok {
		if fast.Fn == nil {
			return hostFunc{}, fmt.Errorf("jsvm: host function %s is nil", name)
		}
		return hostFunc{name: name, fast: &fast}, nil
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() {
		return hostFunc{}, fmt.Errorf("jsvm: host function %s is nil", name)
	}
	key := sigKey{v.Type(), recv}
	if sig, ok := hostSigs.Load(key); ok {
		return hostFunc{name: name, fn: v, sig: sig.(*hostSig)}, nil
	}
	sig, err := newHostSig(v.Type(), recv)
	if err != nil {
		return hostFunc{}, fmt.Errorf("jsvm: host function %s: %w", name, err)
	}
	hostSigs.Store(key, sig)
	return hostFunc{name: name, fn: v, sig: sig}, nil
}

func newHostSig(t, recv reflect.Type) (*hostSig, error) {
	if t.Kind() != reflect.Func || t.NumOut() > 1 {
		return nil, fmt.Errorf("%s is not a function with at most one result", t)
	}
	sig := &hostSig{typ: t, variadic: t.IsVariadic()}
	first := 0
	if t.NumIn() > 0 && !(sig.variadic && t.NumIn() == 1) {
		switch t.In(0) {
		case vmType:
			sig.self, first = selfVM, 1
		case recv:
			sig.self, first = selfRecv, 1
		}
	}
	for i := first; i < t.NumIn(); i++ {
		pt := t.In(i)
		if sig.variadic && i == t.NumIn()-1 {
			if pt.Elem() != valueType {
				return nil, fmt.Errorf("variadic %s, want ...quickjs.Value", pt)
			}
			sig.in = append(sig.in, argValue)
			continue
		}
		switch {
		case pt == valueType:
			sig.in = append(sig.in, argValue)
		case pt.Kind() == reflect.Int:
			sig.in = append(sig.in, argInt)
		case pt.Kind() == reflect.Float64:
			sig.in = append(sig.in, argFloat)
		case pt.Kind() == reflect.String:
			sig.in = append(sig.in, argString)
		case pt.Kind() == reflect.Bool:
			sig.in = append(sig.in, argBool)
		case pt.Kind() == reflect.Interface && pt.NumMethod() == 0:
			sig.in = append(sig.in, argAny)
		default:
			return nil, fmt.Errorf("parameter of type %s", pt)
		}
	}
	for i := range t.NumOut() {
		sig.out = append(sig.out, t.Out(i))
	}
	return sig, nil
}

const abandonedPanic = "quickjs: a Go panic or runtime.Goexit went up through the engine of this VM, which can now only be closed"

// callHost is the C function every host function is. Its shape is the
// engine's JSCFunctionMagic.
func callHost(tls *libc.TLS, ctx uintptr, this lib.TJSValue, argc int32, argv uintptr, magic int32) (r lib.TJSValue) {
	t := hostTables.get(lib.XJS_GetContextOpaque(tls, ctx))
	if t == nil || t.vm == nil || int(magic) >= len(t.fns) {
		return throwString(tls, ctx, lib.XJS_ThrowInternalError, "host function not registered")
	}
	f := &t.fns[magic]
	if f.sig == nil && f.fast == nil {
		return throwString(tls, ctx, lib.XJS_ThrowInternalError, "host function "+f.name+" has no Go function bound")
	}
	vm := t.vm
	m := mirror(vm)
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	prev := m.frame
	m.frame = rt.Fcurrent_stack_frame
	returned := false
	defer func() {
		frame := m.frame
		m.frame = prev
		if rt.Fcurrent_stack_frame != frame {
			// A panic or runtime.Goexit went up through engine calls the Go
			// code made: it goes on up through this one too.
			m.abandoned = true
			if returned {
				panic(abandonedPanic)
			}
			return
		}
		if returned {
			if interrupted(tls, rt) {
				if r.Ftag != lib.EJS_TAG_EXCEPTION {
					lib.XFreeValue(tls, ctx, r)
				}
				r = throwUncatchable(tls, ctx, "interrupted")
			}
			return
		}
		if p := recover(); p != nil {
			if m.panicked == nil {
				m.panicked = p
			}
			r = throwUncatchable(tls, ctx, fmt.Sprintf("panic in Go function %s: %v", f.name, p))
			return
		}
		m.abandoned = true // runtime.Goexit
	}()
	if f.fast != nil {
		r = f.callFast(t, tls, ctx, int(argc), argv)
	} else {
		r = f.call(t, tls, ctx, int(argc), argv)
	}
	returned = true
	return r
}

func interrupted(tls *libc.TLS, rt *lib.TJSRuntime) bool {
	h := rt.Finterrupt_handler
	if h == 0 {
		return false
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{h})))(tls, uintptr(unsafe.Pointer(rt)), rt.Finterrupt_opaque) != 0
}

func throwUncatchable(tls *libc.TLS, ctx uintptr, msg string) lib.TJSValue {
	r := throwString(tls, ctx, lib.XJS_ThrowInternalError, msg)
	lib.XJS_SetUncatchableException(tls, ctx, 1)
	return r
}

// Strings the engine reads through a C pointer live in package variables,
// whose address does not move as a goroutine stack does.
var (
	percentS     = [...]byte{'%', 's', 0}
	hostFileName = [...]byte{'<', 'h', 'o', 's', 't', '>', 0}
)

func throwString(tls *libc.TLS, ctx uintptr, throw func(*libc.TLS, uintptr, uintptr, uintptr) lib.TJSValue, msg string) lib.TJSValue {
	p, err := libc.CString(validUTF8(msg))
	if err != nil {
		return throw(tls, ctx, 0, 0)
	}
	defer libc.Xfree(tls, p)
	bp := tls.Alloc(16)
	defer tls.Free(16)
	return throw(tls, ctx, uintptr(unsafe.Pointer(&percentS[0])), libc.VaList(bp+8, p))
}

func (f *hostFunc) call(t *hostTable, tls *libc.TLS, ctx uintptr, argc int, argv uintptr) lib.TJSValue {
	vm := t.vm
	sig := f.sig
	fixed := len(sig.in)
	if sig.variadic {
		fixed--
	}
	if argc < fixed {
		return throwString(tls, ctx, lib.XJS_ThrowTypeError, "not enough arguments in call to "+f.name)
	}
	if !sig.variadic && argc > fixed {
		return throwString(tls, ctx, lib.XJS_ThrowTypeError, "too many arguments in call to "+f.name)
	}
	self := 0
	if sig.self != selfNone {
		self = 1
	}
	// Most host functions take a few arguments: those fit on the stack.
	var inBuf [8]reflect.Value
	var in []reflect.Value
	if self+argc <= len(inBuf) {
		in = inBuf[:self+argc]
	} else {
		in = make([]reflect.Value, self+argc)
	}
	switch sig.self {
	case selfVM:
		in[0] = reflect.ValueOf(vm)
	case selfRecv:
		if !t.recv.IsValid() {
			return throwString(tls, ctx, lib.XJS_ThrowInternalError, "host function "+f.name+" has no receiver")
		}
		in[0] = t.recv
	}
	var owned []quickjs.Value
	defer func() {
		for i := range owned {
			owned[i].Free()
		}
	}()
	for i := range argc {
		a := *(*lib.TJSValue)(unsafe.Add(nil, argv+uintptr(i)*unsafe.Sizeof(lib.TJSValue{})))
		kind := argValue
		if i < fixed {
			kind = sig.in[i]
		}
		var err error
		in[self+i], err = convertArg(vm, tls, ctx, kind, sig.typ.In(min(self+i, sig.typ.NumIn()-1)), a, &owned)
		if err != nil {
			return throwString(tls, ctx, lib.XJS_ThrowTypeError, fmt.Sprintf("calling %s: %v", f.name, err))
		}
	}
	out := f.fn.Call(in)
	if len(out) == 0 {
		return lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}
	}
	if sig.out[0] == valueType {
		return unwrap(out[0].Interface().(quickjs.Value))
	}
	r, err := toJSValue(vm, tls, ctx, out[0].Interface())
	if err != nil {
		return throwString(tls, ctx, lib.XJS_ThrowTypeError, fmt.Sprintf("callback %s: %v", f.name, err))
	}
	return r
}

func convertArg(vm *quickjs.VM, tls *libc.TLS, ctx uintptr, kind argKind, typ reflect.Type, a lib.TJSValue, owned *[]quickjs.Value) (reflect.Value, error) {
	switch kind {
	case argValue:
		v := wrap(vm, lib.XDupValue(tls, ctx, a))
		*owned = append(*owned, v)
		return reflect.ValueOf(v), nil
	case argInt:
		if n, ok := intOf(a); ok {
			return reflect.ValueOf(n).Convert(typ), nil
		}
		if a.Ftag == lib.EJS_TAG_FLOAT64 {
			return reflect.Value{}, fmt.Errorf("cannot assign float64 to %s", typ)
		}
	case argFloat:
		if f, ok := floatOf(a); ok {
			return reflect.ValueOf(f).Convert(typ), nil
		}
	case argBool:
		if b, ok := boolOf(a); ok {
			return reflect.ValueOf(b).Convert(typ), nil
		}
	case argString:
		if a.Ftag == lib.EJS_TAG_STRING || a.Ftag == lib.EJS_TAG_STRING_ROPE {
			s, ok := goString(tls, ctx, a)
			if !ok {
				return reflect.Value{}, takeException(vm)
			}
			return reflect.ValueOf(s).Convert(typ), nil
		}
	case argAny:
		v := wrap(vm, lib.XDupValue(tls, ctx, a))
		defer v.Free()
		x, err := v.Any()
		if err != nil {
			return reflect.Value{}, err
		}
		if x == nil {
			return reflect.Zero(typ), nil
		}
		return reflect.ValueOf(x), nil
	}
	return reflect.Value{}, fmt.Errorf("cannot assign %s to %s", tagName(a.Ftag), typ)
}

// intOf is v as an int, if v is an integer-valued number.
func intOf(v lib.TJSValue) (int, bool) {
	switch v.Ftag {
	case lib.EJS_TAG_INT:
		return int(*(*int32)(unsafe.Pointer(&v.Fu))), true
	case lib.EJS_TAG_FLOAT64:
		f := *(*float64)(unsafe.Pointer(&v.Fu))
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int(f), true
		}
	}
	return 0, false
}

// floatOf is v as a float64, if v is a number.
func floatOf(v lib.TJSValue) (float64, bool) {
	switch v.Ftag {
	case lib.EJS_TAG_INT:
		return float64(*(*int32)(unsafe.Pointer(&v.Fu))), true
	case lib.EJS_TAG_FLOAT64:
		return *(*float64)(unsafe.Pointer(&v.Fu)), true
	}
	return 0, false
}

// boolOf is v as a bool, if v is a boolean.
func boolOf(v lib.TJSValue) (b, ok bool) {
	if v.Ftag != lib.EJS_TAG_BOOL {
		return false, false
	}
	return *(*int32)(unsafe.Pointer(&v.Fu)) != 0, true
}

func tagName(tag int64) string {
	switch tag {
	case lib.EJS_TAG_INT, lib.EJS_TAG_FLOAT64:
		return "number"
	case lib.EJS_TAG_STRING, lib.EJS_TAG_STRING_ROPE:
		return "string"
	case lib.EJS_TAG_BOOL:
		return "boolean"
	case lib.EJS_TAG_NULL:
		return "null"
	case lib.EJS_TAG_UNDEFINED:
		return "undefined"
	case lib.EJS_TAG_OBJECT:
		return "object"
	case lib.EJS_TAG_SYMBOL:
		return "symbol"
	case lib.EJS_TAG_BIG_INT, lib.EJS_TAG_SHORT_BIG_INT:
		return "bigint"
	}
	return fmt.Sprintf("value of tag %d", tag)
}

// goString reads a JavaScript string as the wrapper does: a lone surrogate
// becomes U+FFFD.
func goString(tls *libc.TLS, ctx uintptr, v lib.TJSValue) (string, bool) {
	plen := tls.Alloc(8)
	defer tls.Free(8)
	p := lib.XJS_ToCStringLen2(tls, ctx, plen, v, 0)
	if p == 0 {
		return "", false
	}
	defer lib.XJS_FreeCString(tls, ctx, p)
	n := *(*uint64)(unsafe.Add(nil, plen))
	return wellFormed(unsafe.Slice((*byte)(unsafe.Add(nil, p)), n)), true
}

// wellFormed copies b, UTF-8 the engine wrote, with U+FFFD for each lone
// surrogate (three bytes 0xED 0xA0-0xBF 0x80-0xBF, as long as U+FFFD).
func wellFormed(b []byte) string {
	s := string(b)
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 0xed && s[i+1] >= 0xa0 {
			r := []byte(s)
			for ; i+2 < len(r); i++ {
				if r[i] == 0xed && r[i+1] >= 0xa0 {
					copy(r[i:], "\uFFFD")
					i += 2
				}
			}
			return string(r)
		}
	}
	return s
}

// validUTF8 gives each byte that does not start valid UTF-8 a U+FFFD, as Go
// decodes strings.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, 0, len(s))
	for _, c := range s {
		r = append(r, c)
	}
	return string(r)
}

func newJSString(tls *libc.TLS, ctx uintptr, s string) lib.TJSValue {
	s = validUTF8(s)
	if len(s) == 0 {
		return lib.XJS_NewStringLen(tls, ctx, 0, 0)
	}
	p := cCopy(tls, s)
	if p == 0 {
		return lib.XJS_ThrowOutOfMemory(tls, ctx)
	}
	defer cFree(tls, p, len(s))
	return lib.XJS_NewStringLen(tls, ctx, p, lib.Tsize_t(len(s)))
}

// cCopy puts s where the engine can read it through a C pointer: on the TLS
// stack when small, in libc memory otherwise, never in Go memory; 0 when
// out of memory. cFree(tls, p, len(s)) gives it back (TLS stack order).
func cCopy(tls *libc.TLS, s string) uintptr {
	n := max(len(s), 1)
	var p uintptr
	if n <= 256 {
		p = tls.Alloc(n)
	} else if p = libc.Xmalloc(tls, libc.Tsize_t(n)); p == 0 {
		return 0
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(nil, p)), n), s)
	return p
}

func cFree(tls *libc.TLS, p uintptr, length int) {
	if n := max(length, 1); n <= 256 {
		tls.Free(n)
	} else {
		libc.Xfree(tls, p)
	}
}

// toJSValue converts a host function's result as the wrapper does.
func toJSValue(vm *quickjs.VM, tls *libc.TLS, ctx uintptr, x any) (lib.TJSValue, error) {
	switch x := x.(type) {
	case nil:
		return lib.TJSValue{Ftag: lib.EJS_TAG_NULL}, nil
	case quickjs.Undefined:
		return lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}, nil
	case quickjs.Value:
		return unwrap(x), nil
	case error:
		return newJSString(tls, ctx, x.Error()), nil
	case bool:
		v := lib.TJSValue{Ftag: lib.EJS_TAG_BOOL}
		if x {
			*(*int32)(unsafe.Pointer(&v.Fu)) = 1
		}
		return v, nil
	case int:
		return jsNumber(float64(x), x >= math.MinInt32 && x <= math.MaxInt32, int32(x)), nil
	case int64:
		return jsNumber(float64(x), x >= math.MinInt32 && x <= math.MaxInt32, int32(x)), nil
	case int32:
		return jsNumber(0, true, x), nil
	case float64:
		return jsNumber(x, false, 0), nil
	case string:
		return newJSString(tls, ctx, x), nil
	case []any:
		arr := lib.XJS_NewArray(tls, ctx)
		if arr.Ftag == lib.EJS_TAG_EXCEPTION {
			return arr, takeException(vm)
		}
		for i, e := range x {
			ev, err := toJSValue(vm, tls, ctx, e)
			if err != nil {
				lib.XFreeValue(tls, ctx, arr)
				return lib.TJSValue{}, err
			}
			if lib.XJS_SetPropertyUint32(tls, ctx, arr, uint32(i), ev) < 0 {
				lib.XFreeValue(tls, ctx, arr)
				return lib.TJSValue{}, takeException(vm)
			}
		}
		return arr, nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return lib.TJSValue{}, err
	}
	v, err := parseJSON(vm, string(b))
	if err != nil {
		return lib.TJSValue{}, err
	}
	return unwrap(v), nil
}

func jsNumber(f float64, isInt bool, i int32) lib.TJSValue {
	var v lib.TJSValue
	if isInt {
		v.Ftag = lib.EJS_TAG_INT
		*(*int32)(unsafe.Pointer(&v.Fu)) = i
		return v
	}
	v.Ftag = lib.EJS_TAG_FLOAT64
	*(*float64)(unsafe.Pointer(&v.Fu)) = f
	return v
}

// parseJSON parses s in vm.
func parseJSON(vm *quickjs.VM, s string) (quickjs.Value, error) {
	tls, ctx := handles(vm)
	p, err := libc.CString(s)
	if err != nil {
		return quickjs.Value{}, err
	}
	defer libc.Xfree(tls, p)
	v := lib.XJS_ParseJSON(tls, ctx, p, lib.Tsize_t(len(s)), uintptr(unsafe.Pointer(&hostFileName[0])))
	if v.Ftag == lib.EJS_TAG_EXCEPTION {
		return quickjs.Value{}, takeException(vm)
	}
	return wrap(vm, v), nil
}
