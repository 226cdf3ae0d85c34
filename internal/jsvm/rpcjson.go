package jsvm

import (
	"math"
	"strconv"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
)

// EncodeRPC is the host side of 65_rpc.js's rpcEncodeJSON, called as
// host.rpcEncode(value, encoder, capIndex, Object.prototype, Date.prototype).
// It writes value in the RPC wire format's JSON, exactly as
// JSON.stringify(encoder.encode(value)) does, when value is plain data:
// null, booleans, numbers, strings, undefined, arrays without holes, objects
// whose prototype is Object.prototype or null with only enumerable data
// properties (no key "$"), Dates, and capabilities (functions, RpcTargets),
// whose index capIndex(encoder, x) gives (or -1: not one). For anything else
// (a Map, an Error, a body, a Proxy, an object seen twice, a getter, a lone
// surrogate) it answers undefined, having read nothing through user code,
// and the prelude's encoder does the whole value. The prelude's encoder
// spends ~10–20 µs of interpreted JavaScript on a small object and its
// JSON.stringify another ~5–10; this walks the engine's objects directly.
var EncodeRPC = FastHost{Arity: 5, Fn: func(_ any, a *Args) any {
	e := rpcEncoder{tls: a.tls, ctx: a.ctx, enc: a.raw(1), capIndex: a.raw(2)}
	if p := a.raw(3); p.Ftag == lib.EJS_TAG_OBJECT {
		e.objectProto = uintptr(p.Fu.Fuint641)
	}
	if p := a.raw(4); p.Ftag == lib.EJS_TAG_OBJECT {
		e.dateProto = uintptr(p.Fu.Fuint641)
	}
	e.scratch = a.tls.Alloc(rpcScratch)
	defer a.tls.Free(rpcScratch)
	switch e.value(a.raw(0), 0) {
	case encodeDone:
		return string(e.out)
	case encodeThrew:
		return Thrown
	}
	return nil
}}

// Thrown, returned by a FastHost, says that it left an exception pending in
// the engine (a callback it made threw): JavaScript gets that exception.
var Thrown = thrown{}

type thrown struct{}

type encodeResult int

const (
	encodeDone   encodeResult = iota
	encodeGiveUp              // left to the prelude's encoder
	encodeThrew               // a capIndex call threw; the exception is pending
)

// The scratch area holds what the engine's calls write through pointers:
// a property table and its length, a property descriptor, capIndex's two
// arguments. Each is read back before the walk goes deeper, so one area
// serves every level.
const (
	scratchTab  uintptr = 0
	scratchLen  uintptr = 8
	scratchDesc uintptr = 16
	scratchArgs         = scratchDesc + unsafe.Sizeof(lib.TJSPropertyDescriptor{})
	rpcScratch          = int(scratchArgs) + 2*sizeofValue
)

type rpcEncoder struct {
	tls                    *libc.TLS
	ctx                    uintptr
	enc, capIndex          lib.TJSValue
	objectProto, dateProto uintptr
	scratch                uintptr
	out                    []byte
	// seen holds every object written: the prelude's encoder writes a
	// second sighting as a back-reference, which is left to it.
	seen []uintptr
}

func (e *rpcEncoder) value(v lib.TJSValue, depth int) encodeResult {
	switch v.Ftag {
	case lib.EJS_TAG_NULL:
		e.out = append(e.out, "null"...)
	case lib.EJS_TAG_UNDEFINED:
		e.out = append(e.out, `{"$":"u"}`...)
	case lib.EJS_TAG_BOOL:
		if *(*int32)(unsafe.Pointer(&v.Fu)) != 0 {
			e.out = append(e.out, "true"...)
		} else {
			e.out = append(e.out, "false"...)
		}
	case lib.EJS_TAG_INT:
		e.out = strconv.AppendInt(e.out, int64(*(*int32)(unsafe.Pointer(&v.Fu))), 10)
	case lib.EJS_TAG_FLOAT64:
		e.number(*(*float64)(unsafe.Pointer(&v.Fu)))
	case lib.EJS_TAG_STRING, lib.EJS_TAG_STRING_ROPE:
		p := lib.XJS_ToCStringLen2(e.tls, e.ctx, e.scratch+scratchLen, v, 0)
		if p == 0 {
			return encodeThrew
		}
		ok := e.str(unsafe.Slice((*byte)(unsafe.Add(nil, p)), *(*uint64)(unsafe.Add(nil, e.scratch+scratchLen))))
		lib.XJS_FreeCString(e.tls, e.ctx, p)
		if !ok {
			return encodeGiveUp
		}
	case lib.EJS_TAG_OBJECT:
		if depth >= 1000 {
			return encodeGiveUp
		}
		return e.object(v, depth+1)
	default: // symbols, bigints
		return encodeGiveUp
	}
	return encodeDone
}

func (e *rpcEncoder) object(v lib.TJSValue, depth int) encodeResult {
	if lib.XJS_IsFunction(e.tls, e.ctx, v) != 0 {
		return e.capability(v)
	}
	p := uintptr(v.Fu.Fuint641)
	o := (*lib.TJSObject)(unsafe.Add(nil, p))
	proto := (*lib.TJSShape)(unsafe.Add(nil, o.Fshape)).Fproto
	switch o.Fclass_id {
	case lib.EJS_CLASS_OBJECT:
		if proto != e.objectProto && proto != 0 {
			return e.capability(v) // an RpcTarget, or given up
		}
	case lib.EJS_CLASS_ARRAY:
	case lib.EJS_CLASS_DATE:
		if proto != e.dateProto {
			return encodeGiveUp
		}
		t := *(*lib.TJSValue)(unsafe.Pointer(&o.Fu))
		f, ok := floatOf(t)
		if !ok || math.IsNaN(f) {
			return encodeGiveUp
		}
		if !e.see(p) {
			return encodeGiveUp
		}
		e.out = append(e.out, `{"$":"D","v":`...)
		e.number(f)
		e.out = append(e.out, '}')
		return encodeDone
	default:
		return encodeGiveUp
	}
	if !e.see(p) {
		return encodeGiveUp
	}
	if o.Fclass_id == lib.EJS_CLASS_ARRAY {
		return e.array(v, depth)
	}
	return e.plain(v, depth)
}

// see notes an object about to be written; false if it was written before.
func (e *rpcEncoder) see(p uintptr) bool {
	for _, q := range e.seen {
		if q == p {
			return false
		}
	}
	// A payload of thousands of objects would make this quadratic: past a
	// few hundred the prelude's Map does better.
	if len(e.seen) >= 512 {
		return false
	}
	e.seen = append(e.seen, p)
	return true
}

func (e *rpcEncoder) plain(v lib.TJSValue, depth int) encodeResult {
	tls, ctx := e.tls, e.ctx
	if lib.XJS_GetOwnPropertyNames(tls, ctx, e.scratch+scratchTab, e.scratch+scratchLen, v, lib.MJS_GPN_STRING_MASK|lib.MJS_GPN_ENUM_ONLY) < 0 {
		return encodeThrew
	}
	tab := *(*uintptr)(unsafe.Add(nil, e.scratch+scratchTab))
	n := *(*uint32)(unsafe.Add(nil, e.scratch+scratchLen))
	defer lib.XJS_FreePropertyEnum(tls, ctx, tab, n)
	e.out = append(e.out, '{')
	for i := uint32(0); i < n; i++ {
		atom := (*lib.TJSPropertyEnum)(unsafe.Add(nil, tab+uintptr(i)*unsafe.Sizeof(lib.TJSPropertyEnum{}))).Fatom
		if i > 0 {
			e.out = append(e.out, ',')
		}
		if r := e.key(atom); r != encodeDone {
			return r
		}
		e.out = append(e.out, ':')
		if r := e.property(v, atom, depth); r != encodeDone {
			return r
		}
	}
	e.out = append(e.out, '}')
	return encodeDone
}

// key writes a property name; "$" would need the prelude's wrapping.
func (e *rpcEncoder) key(atom lib.TJSAtom) encodeResult {
	p := lib.XJS_AtomToCStringLen(e.tls, e.ctx, e.scratch+scratchLen, atom)
	if p == 0 {
		return encodeThrew
	}
	b := unsafe.Slice((*byte)(unsafe.Add(nil, p)), *(*uint64)(unsafe.Add(nil, e.scratch+scratchLen)))
	ok := !(len(b) == 1 && b[0] == '$') && e.str(b)
	lib.XJS_FreeCString(e.tls, e.ctx, p)
	if !ok {
		return encodeGiveUp
	}
	return encodeDone
}

// property writes the value of an own data property, reading it without
// running a getter: one would run again when the prelude's encoder takes
// over, so a getter is given up on before it runs.
func (e *rpcEncoder) property(obj lib.TJSValue, atom lib.TJSAtom, depth int) encodeResult {
	tls, ctx := e.tls, e.ctx
	desc := e.scratch + scratchDesc
	switch lib.XJS_GetOwnProperty(tls, ctx, desc, obj, atom) {
	case -1:
		return encodeThrew
	case 0:
		return encodeGiveUp
	}
	d := *(*lib.TJSPropertyDescriptor)(unsafe.Add(nil, desc))
	defer func() {
		lib.XFreeValue(tls, ctx, d.Fvalue)
		lib.XFreeValue(tls, ctx, d.Fgetter)
		lib.XFreeValue(tls, ctx, d.Fsetter)
	}()
	if d.Fflags&lib.MJS_PROP_GETSET != 0 {
		return encodeGiveUp
	}
	return e.value(d.Fvalue, depth)
}

func (e *rpcEncoder) array(v lib.TJSValue, depth int) encodeResult {
	lenVal := lib.XJS_GetPropertyInternal(e.tls, e.ctx, v, lib.EJS_ATOM_length, v, 0)
	n, ok := intOf(lenVal)
	lib.XFreeValue(e.tls, e.ctx, lenVal)
	if !ok || n < 0 || n > 1<<30 {
		return encodeGiveUp
	}
	e.out = append(e.out, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		// An index atom below 2^31 is the number itself: nothing to free.
		if r := e.property(v, lib.XJS_NewAtomUInt32(e.tls, e.ctx, uint32(i)), depth); r != encodeDone {
			return r // a hole (not found) is given up too
		}
	}
	e.out = append(e.out, ']')
	return encodeDone
}

// capability writes {"$":"c","i":N}, N from the prelude's capIndex.
func (e *rpcEncoder) capability(v lib.TJSValue) encodeResult {
	if e.capIndex.Ftag != lib.EJS_TAG_OBJECT {
		return encodeGiveUp
	}
	argv := e.scratch + scratchArgs
	*(*lib.TJSValue)(unsafe.Add(nil, argv)) = e.enc
	*(*lib.TJSValue)(unsafe.Add(nil, argv+uintptr(sizeofValue))) = v
	r := lib.XJS_Call(e.tls, e.ctx, e.capIndex, lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}, 2, argv)
	if r.Ftag == lib.EJS_TAG_EXCEPTION {
		return encodeThrew
	}
	i, ok := intOf(r)
	lib.XFreeValue(e.tls, e.ctx, r)
	if !ok || i < 0 {
		return encodeGiveUp
	}
	e.out = append(e.out, `{"$":"c","i":`...)
	e.out = strconv.AppendInt(e.out, int64(i), 10)
	e.out = append(e.out, '}')
	return encodeDone
}

// number writes f as the prelude's encoder does: a finite number other
// than -0 as JSON.stringify writes it, the rest tagged.
func (e *rpcEncoder) number(f float64) {
	switch {
	case math.IsNaN(f):
		e.out = append(e.out, `{"$":"n","v":"NaN"}`...)
	case math.IsInf(f, 1):
		e.out = append(e.out, `{"$":"n","v":"Infinity"}`...)
	case math.IsInf(f, -1):
		e.out = append(e.out, `{"$":"n","v":"-Infinity"}`...)
	case f == 0 && math.Signbit(f):
		e.out = append(e.out, `{"$":"n","v":"-0"}`...)
	default:
		e.out = appendJSNumber(e.out, f)
	}
}

// appendJSNumber writes a finite number as JavaScript's Number::toString
// does: the shortest digits that read back as f, in fixed notation from
// 1e-6 up to 1e21 and with an exponent (no leading zeros) outside it.
func appendJSNumber(b []byte, f float64) []byte {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	// Go writes e-07 and e+21; JavaScript e-7 and e+21.
	for i := start; i < len(b); i++ {
		if b[i] == 'e' && i+2 < len(b) && b[i+2] == '0' && i+3 < len(b) {
			b = append(b[:i+2], b[i+3:]...)
			break
		}
	}
	return b
}

// str writes b (the engine's UTF-8) as a JSON string, escaped as
// JSON.stringify escapes; false if it holds a lone surrogate (three bytes
// 0xED 0xA0-0xBF ...), which JSON.stringify writes as an escape that Go's
// strings cannot carry.
func (e *rpcEncoder) str(b []byte) bool {
	out := append(e.out, '"')
	start := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0xed {
			continue
		}
		if c == 0xed {
			if i+1 < len(b) && b[i+1] >= 0xa0 {
				return false
			}
			continue
		}
		out = append(out, b[start:i]...)
		switch c {
		case '"':
			out = append(out, `\"`...)
		case '\\':
			out = append(out, `\\`...)
		case '\b':
			out = append(out, `\b`...)
		case '\f':
			out = append(out, `\f`...)
		case '\n':
			out = append(out, `\n`...)
		case '\r':
			out = append(out, `\r`...)
		case '\t':
			out = append(out, `\t`...)
		default:
			const hex = "0123456789abcdef"
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	out = append(out, b[start:]...)
	e.out = append(out, '"')
	return true
}
