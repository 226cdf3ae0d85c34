package jsvm

import (
	"fmt"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// FastHost is a host function that reads its own arguments, through Args,
// instead of having them converted by reflection: reflect's call and the
// boxing of each argument cost ~4% of a warm request's CPU, spread over the
// few host functions every request and RPC hop calls (RATIONALE.md, "Calls
// into JavaScript from Go"). Fn gets the VM's receiver (SetHostReceiver,
// BindHost) and returns what JavaScript gets: nil for undefined, else what
// a host function's result may be (a quickjs.Value is handed over).
// Arity is the function's length in JavaScript.
type FastHost struct {
	Arity int
	Fn    func(recv any, a *Args) any
}

// Args are a FastHost's arguments. Values are lent for the call: Dup one to
// keep it. A getter given an argument of the wrong type returns the zero
// value, and the call then throws a TypeError naming the argument; the
// prelude, the only caller of host functions, does not do that.
type Args struct {
	vm   *quickjs.VM
	tls  *libc.TLS
	ctx  uintptr
	argv uintptr
	n    int
	err  error
}

// Len is how many arguments JavaScript gave.
func (a *Args) Len() int { return a.n }

// Err is the first argument read so far that had the wrong type: a
// function that must not act on a wrong argument asks before it acts (the
// call throws it as a TypeError either way).
func (a *Args) Err() error { return a.err }

func (a *Args) raw(i int) lib.TJSValue {
	if i >= a.n {
		return lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}
	}
	return *(*lib.TJSValue)(unsafe.Add(nil, a.argv+uintptr(i*sizeofValue)))
}

func (a *Args) wrong(i int, v lib.TJSValue, want string) {
	if a.err == nil {
		a.err = fmt.Errorf("argument %d: cannot assign %s to %s", i, tagName(v.Ftag), want)
	}
}

// Int is argument i as an int: an integer-valued number.
func (a *Args) Int(i int) int {
	v := a.raw(i)
	n, ok := intOf(v)
	if !ok {
		a.wrong(i, v, "int")
	}
	return n
}

// Float is argument i as a float64: a number; undefined or null (an
// argument left out) is 0.
func (a *Args) Float(i int) float64 {
	v := a.raw(i)
	f, ok := floatOf(v)
	if !ok && v.Ftag != lib.EJS_TAG_UNDEFINED && v.Ftag != lib.EJS_TAG_NULL {
		a.wrong(i, v, "float64")
	}
	return f
}

// Bool is argument i as a bool.
func (a *Args) Bool(i int) bool {
	v := a.raw(i)
	b, ok := boolOf(v)
	if !ok {
		a.wrong(i, v, "bool")
	}
	return b
}

// String is argument i as a string.
func (a *Args) String(i int) string {
	v := a.raw(i)
	if v.Ftag == lib.EJS_TAG_STRING || v.Ftag == lib.EJS_TAG_STRING_ROPE {
		s, ok := goString(a.tls, a.ctx, v)
		if !ok && a.err == nil {
			a.err = takeException(a.vm)
		}
		return s
	}
	a.wrong(i, v, "string")
	return ""
}

// IsFunction reports whether argument i is a function.
func (a *Args) IsFunction(i int) bool {
	return lib.XJS_IsFunction(a.tls, a.ctx, a.raw(i)) != 0
}

// Value is argument i, lent for the call.
func (a *Args) Value(i int) quickjs.Value { return wrap(a.vm, a.raw(i)) }

// Values are the arguments from i on, lent for the call.
func (a *Args) Values(i int) []quickjs.Value {
	if i >= a.n {
		return nil
	}
	out := make([]quickjs.Value, a.n-i)
	for j := range out {
		out[j] = a.Value(i + j)
	}
	return out
}

// callFast is call for a FastHost.
func (f *hostFunc) callFast(t *hostTable, tls *libc.TLS, ctx uintptr, argc int, argv uintptr) lib.TJSValue {
	a := Args{vm: t.vm, tls: tls, ctx: ctx, argv: argv, n: argc}
	var recv any
	if t.recv.IsValid() {
		recv = t.recv.Interface()
	}
	out := f.fast.Fn(recv, &a)
	if a.err != nil {
		if v, ok := out.(quickjs.Value); ok {
			v.Free()
		}
		return throwString(tls, ctx, lib.XJS_ThrowTypeError, fmt.Sprintf("calling %s: %v", f.name, a.err))
	}
	switch out.(type) {
	case nil:
		return lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}
	case thrown:
		return lib.TJSValue{Ftag: lib.EJS_TAG_EXCEPTION}
	}
	r, err := toJSValue(t.vm, tls, ctx, out)
	if err != nil {
		return throwString(tls, ctx, lib.XJS_ThrowTypeError, fmt.Sprintf("callback %s: %v", f.name, err))
	}
	return r
}
