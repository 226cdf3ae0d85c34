package jsvm

import (
	"math"
	"strconv"
	"strings"
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
	case codecDone:
		return string(e.out)
	case codecThrew:
		return Thrown
	}
	return nil
}}

// Thrown, returned by a FastHost, says that it left an exception pending in
// the engine (a callback it made threw): JavaScript gets that exception.
var Thrown = thrown{}

type thrown struct{}

// rpcEncodeMax bounds what Go writes: past it the prelude's encoder takes
// over, whose text lives in the isolate's heap, under its memory limit
// (Go's buffer is not), and whose walk the CPU limit can interrupt. Large
// values gain nothing from Go's speed anyway.
const rpcEncodeMax = 1 << 20

type codecResult int

const (
	codecDone   codecResult = iota
	codecGiveUp             // left to the prelude's encoder or decoder
	codecThrew              // an engine call or capIndex threw; the exception is pending
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

func (e *rpcEncoder) value(v lib.TJSValue, depth int) codecResult {
	if len(e.out) > rpcEncodeMax {
		return codecGiveUp
	}
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
			return codecThrew
		}
		n := *(*uint64)(unsafe.Add(nil, e.scratch+scratchLen))
		ok := n <= rpcEncodeMax && e.str(unsafe.Slice((*byte)(unsafe.Add(nil, p)), n))
		lib.XJS_FreeCString(e.tls, e.ctx, p)
		if !ok {
			return codecGiveUp
		}
	case lib.EJS_TAG_OBJECT:
		if depth >= 1000 {
			return codecGiveUp
		}
		return e.object(v, depth+1)
	default: // symbols, bigints
		return codecGiveUp
	}
	return codecDone
}

func (e *rpcEncoder) object(v lib.TJSValue, depth int) codecResult {
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
			return codecGiveUp
		}
	default:
		return codecGiveUp
	}
	if !e.see(p) {
		return codecGiveUp
	}
	switch o.Fclass_id {
	case lib.EJS_CLASS_ARRAY:
		return e.array(v, depth)
	case lib.EJS_CLASS_DATE:
		f, ok := floatOf(*(*lib.TJSValue)(unsafe.Pointer(&o.Fu)))
		if !ok || math.IsNaN(f) {
			return codecGiveUp
		}
		e.out = append(e.out, `{"$":"D","v":`...)
		e.number(f)
		e.out = append(e.out, '}')
		return codecDone
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

func (e *rpcEncoder) plain(v lib.TJSValue, depth int) codecResult {
	tls, ctx := e.tls, e.ctx
	if lib.XJS_GetOwnPropertyNames(tls, ctx, e.scratch+scratchTab, e.scratch+scratchLen, v, lib.MJS_GPN_STRING_MASK|lib.MJS_GPN_ENUM_ONLY) < 0 {
		return codecThrew
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
		if r := e.key(atom); r != codecDone {
			return r
		}
		e.out = append(e.out, ':')
		if r := e.property(v, atom, depth); r != codecDone {
			return r
		}
	}
	e.out = append(e.out, '}')
	return codecDone
}

// key writes a property name; "$" would need the prelude's wrapping.
func (e *rpcEncoder) key(atom lib.TJSAtom) codecResult {
	p := lib.XJS_AtomToCStringLen(e.tls, e.ctx, e.scratch+scratchLen, atom)
	if p == 0 {
		return codecThrew
	}
	b := unsafe.Slice((*byte)(unsafe.Add(nil, p)), *(*uint64)(unsafe.Add(nil, e.scratch+scratchLen)))
	ok := !(len(b) == 1 && b[0] == '$') && e.str(b)
	lib.XJS_FreeCString(e.tls, e.ctx, p)
	if !ok {
		return codecGiveUp
	}
	return codecDone
}

// property writes the value of an own data property, reading it without
// running a getter: one would run again when the prelude's encoder takes
// over, so a getter is given up on before it runs.
func (e *rpcEncoder) property(obj lib.TJSValue, atom lib.TJSAtom, depth int) codecResult {
	tls, ctx := e.tls, e.ctx
	desc := e.scratch + scratchDesc
	switch lib.XJS_GetOwnProperty(tls, ctx, desc, obj, atom) {
	case -1:
		return codecThrew
	case 0:
		return codecGiveUp
	}
	d := *(*lib.TJSPropertyDescriptor)(unsafe.Add(nil, desc))
	defer func() {
		lib.XFreeValue(tls, ctx, d.Fvalue)
		lib.XFreeValue(tls, ctx, d.Fgetter)
		lib.XFreeValue(tls, ctx, d.Fsetter)
	}()
	if d.Fflags&lib.MJS_PROP_GETSET != 0 {
		return codecGiveUp
	}
	return e.value(d.Fvalue, depth)
}

func (e *rpcEncoder) array(v lib.TJSValue, depth int) codecResult {
	lenVal := lib.XJS_GetPropertyInternal(e.tls, e.ctx, v, lib.EJS_ATOM_length, v, 0)
	n, ok := intOf(lenVal)
	lib.XFreeValue(e.tls, e.ctx, lenVal)
	if !ok || n < 0 || n > 1<<30 {
		return codecGiveUp
	}
	e.out = append(e.out, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		// An index atom below 2^31 is the number itself: nothing to free.
		if r := e.property(v, lib.XJS_NewAtomUInt32(e.tls, e.ctx, uint32(i)), depth); r != codecDone {
			return r // a hole (not found) is given up too
		}
	}
	e.out = append(e.out, ']')
	return codecDone
}

// capability writes {"$":"c","i":N}, N from the prelude's capIndex.
func (e *rpcEncoder) capability(v lib.TJSValue) codecResult {
	if e.capIndex.Ftag != lib.EJS_TAG_OBJECT {
		return codecGiveUp
	}
	argv := e.scratch + scratchArgs
	*(*lib.TJSValue)(unsafe.Add(nil, argv)) = e.enc
	*(*lib.TJSValue)(unsafe.Add(nil, argv+uintptr(sizeofValue))) = v
	r := lib.XJS_Call(e.tls, e.ctx, e.capIndex, lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}, 2, argv)
	if r.Ftag == lib.EJS_TAG_EXCEPTION {
		return codecThrew
	}
	i, ok := intOf(r)
	lib.XFreeValue(e.tls, e.ctx, r)
	if !ok || i < 0 {
		return codecGiveUp
	}
	e.out = append(e.out, `{"$":"c","i":`...)
	e.out = strconv.AppendInt(e.out, int64(i), 10)
	e.out = append(e.out, '}')
	return codecDone
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
// strings cannot carry, or if the text has grown past rpcEncodeMax.
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
	return len(e.out) <= rpcEncodeMax
}

// DecodeRPC is the host side of 65_rpc.js's rpcDecodeParts for a message
// with tags, called as host.rpcDecode(json, caps, giveUp): the value the
// prelude's RpcDecoder would make of JSON.parse(json), built directly, when
// the message holds only JSON, undefined, tagged numbers, Dates and
// capabilities (caps[i]); giveUp for anything else (a back-reference, a
// Map, an Error, a body...), which the prelude then decodes. JSON.parse and
// the decoder's walk in JavaScript took ~15–30 µs for a small event.
var DecodeRPC = FastHost{Arity: 3, Fn: func(_ any, a *Args) any {
	d := rpcDecoder{tls: a.tls, ctx: a.ctx, s: a.String(0), caps: a.raw(1)}
	if a.err != nil {
		return nil
	}
	v, r := d.value(0)
	if r == codecDone {
		d.space()
		if d.i != len(d.s) {
			lib.XFreeValue(a.tls, a.ctx, v)
			r = codecGiveUp
		}
	}
	switch r {
	case codecDone:
		return wrap(a.vm, v)
	case codecThrew:
		return Thrown
	}
	return a.Value(2).Dup()
}}

type rpcDecoder struct {
	tls  *libc.TLS
	ctx  uintptr
	s    string
	i    int
	caps lib.TJSValue
	buf  []byte
}

func (d *rpcDecoder) space() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\n' || d.s[d.i] == '\r' || d.s[d.i] == '\t') {
		d.i++
	}
}

func (d *rpcDecoder) next(c byte) bool {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

var jsUndefined = lib.TJSValue{Ftag: lib.EJS_TAG_UNDEFINED}

func (d *rpcDecoder) value(depth int) (lib.TJSValue, codecResult) {
	d.space()
	if d.i >= len(d.s) || depth > 1000 {
		return jsUndefined, codecGiveUp
	}
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		return d.object(depth + 1)
	case c == '[':
		d.i++
		return d.array(depth + 1)
	case c == '"':
		s, ok := d.str()
		if !ok {
			return jsUndefined, codecGiveUp
		}
		v := newJSString(d.tls, d.ctx, s)
		if v.Ftag == lib.EJS_TAG_EXCEPTION {
			return jsUndefined, codecThrew
		}
		return v, codecDone
	case c == '-' || c >= '0' && c <= '9':
		f, ok := d.number()
		if !ok {
			return jsUndefined, codecGiveUp
		}
		return numberValue(f), codecDone
	}
	for _, lit := range [...]struct {
		text string
		v    lib.TJSValue
	}{
		{"null", lib.TJSValue{Ftag: lib.EJS_TAG_NULL}},
		{"true", lib.TJSValue{Ftag: lib.EJS_TAG_BOOL, Fu: lib.TJSValueUnion{Fuint641: 1}}},
		{"false", lib.TJSValue{Ftag: lib.EJS_TAG_BOOL}},
	} {
		if len(d.s)-d.i >= len(lit.text) && d.s[d.i:d.i+len(lit.text)] == lit.text {
			d.i += len(lit.text)
			return lit.v, codecDone
		}
	}
	return jsUndefined, codecGiveUp
}

// numberValue is f as the engine makes numbers: an int32 when it is one.
func numberValue(f float64) lib.TJSValue {
	if f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 && !(f == 0 && math.Signbit(f)) {
		v := lib.TJSValue{Ftag: lib.EJS_TAG_INT}
		*(*int32)(unsafe.Pointer(&v.Fu)) = int32(f)
		return v
	}
	v := lib.TJSValue{Ftag: lib.EJS_TAG_FLOAT64}
	*(*float64)(unsafe.Pointer(&v.Fu)) = f
	return v
}

func (d *rpcDecoder) number() (float64, bool) {
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	f, err := strconv.ParseFloat(d.s[start:d.i], 64)
	return f, err == nil
}

// str reads a JSON string; false for a malformed one or one with an
// escaped lone surrogate (JSON.stringify's way of writing one), which Go's
// strings cannot carry.
func (d *rpcDecoder) str() (string, bool) {
	d.i++ // the opening quote
	start := d.i
	for d.i < len(d.s) && d.s[d.i] != '"' && d.s[d.i] != '\\' {
		d.i++
	}
	if d.i < len(d.s) && d.s[d.i] == '"' {
		d.i++
		return d.s[start : d.i-1], true
	}
	b := append(d.buf[:0], d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		d.i++
		switch c {
		case '"':
			d.buf = b
			return string(b), true
		case '\\':
			if d.i >= len(d.s) {
				return "", false
			}
			e := d.s[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", false
				}
				if r >= 0xd800 && r < 0xdc00 && d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
					d.i += 2
					lo, ok := d.hex4()
					if !ok || lo < 0xdc00 || lo >= 0xe000 {
						return "", false
					}
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				} else if r >= 0xd800 && r < 0xe000 {
					return "", false
				}
				b = utf8Append(b, r)
			default:
				return "", false
			}
		default:
			b = append(b, c)
		}
	}
	return "", false
}

func (d *rpcDecoder) hex4() (rune, bool) {
	if len(d.s)-d.i < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	d.i += 4
	return rune(n), err == nil
}

func utf8Append(b []byte, r rune) []byte {
	var tmp [4]byte
	n := 0
	switch {
	case r < 0x80:
		tmp[0], n = byte(r), 1
	case r < 0x800:
		tmp[0], tmp[1], n = byte(0xc0|r>>6), byte(0x80|r&0x3f), 2
	case r < 0x10000:
		tmp[0], tmp[1], tmp[2], n = byte(0xe0|r>>12), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f), 3
	default:
		tmp[0], tmp[1], tmp[2], tmp[3], n = byte(0xf0|r>>18), byte(0x80|(r>>12)&0x3f), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f), 4
	}
	return append(b, tmp[:n]...)
}

func (d *rpcDecoder) array(depth int) (lib.TJSValue, codecResult) {
	arr := lib.XJS_NewArray(d.tls, d.ctx)
	if arr.Ftag == lib.EJS_TAG_EXCEPTION {
		return jsUndefined, codecThrew
	}
	if d.next(']') {
		return arr, codecDone
	}
	for n := uint32(0); ; n++ {
		v, r := d.value(depth)
		if r == codecDone && lib.XJS_DefinePropertyValueUint32(d.tls, d.ctx, arr, n, v, lib.MJS_PROP_C_W_E) < 0 {
			r = codecThrew // the value was freed
		}
		if r != codecDone {
			lib.XFreeValue(d.tls, d.ctx, arr)
			return jsUndefined, r
		}
		if d.next(']') {
			return arr, codecDone
		}
		if !d.next(',') {
			lib.XFreeValue(d.tls, d.ctx, arr)
			return jsUndefined, codecGiveUp
		}
	}
}

func (d *rpcDecoder) object(depth int) (lib.TJSValue, codecResult) {
	if d.next('}') {
		o := lib.XJS_NewObject(d.tls, d.ctx)
		if o.Ftag == lib.EJS_TAG_EXCEPTION {
			return jsUndefined, codecThrew
		}
		return o, codecDone
	}
	d.space()
	if strings.HasPrefix(d.s[d.i:], `"$":`) {
		d.i += 4
		return d.tagged()
	}
	o := lib.XJS_NewObject(d.tls, d.ctx)
	if o.Ftag == lib.EJS_TAG_EXCEPTION {
		return jsUndefined, codecThrew
	}
	fail := func(r codecResult) (lib.TJSValue, codecResult) {
		lib.XFreeValue(d.tls, d.ctx, o)
		return jsUndefined, r
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return fail(codecGiveUp)
		}
		k, ok := d.str()
		if !ok || k == "$" || !d.next(':') {
			return fail(codecGiveUp) // a tag's "$" comes first, if at all
		}
		atom := d.atom(k)
		if atom == 0 {
			return fail(codecThrew)
		}
		v, r := d.value(depth)
		if r == codecDone && lib.XJS_DefinePropertyValue(d.tls, d.ctx, o, atom, v, lib.MJS_PROP_C_W_E) < 0 {
			r = codecThrew
		}
		lib.XJS_FreeAtom(d.tls, d.ctx, atom)
		if r != codecDone {
			return fail(r)
		}
		if d.next('}') {
			return o, codecDone
		}
		if !d.next(',') {
			return fail(codecGiveUp)
		}
	}
}

// atom makes a property key's atom; 0 when the engine failed.
func (d *rpcDecoder) atom(k string) lib.TJSAtom {
	p := cCopy(d.tls, k)
	if p == 0 {
		lib.XJS_ThrowOutOfMemory(d.tls, d.ctx)
		return 0
	}
	defer cFree(d.tls, p, len(k))
	return lib.XJS_NewAtomLen(d.tls, d.ctx, p, lib.Tsize_t(len(k)))
}

// tagged reads the rest of a tagged value, after its "$": the tags the
// encoders write for undefined, numbers JSON lacks, Dates and capabilities.
func (d *rpcDecoder) tagged() (lib.TJSValue, codecResult) {
	d.space()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return jsUndefined, codecGiveUp
	}
	tag, ok := d.str()
	if !ok {
		return jsUndefined, codecGiveUp
	}
	if tag == "u" {
		if !d.next('}') {
			return jsUndefined, codecGiveUp
		}
		return jsUndefined, codecDone
	}
	field := `"v"`
	if tag == "c" {
		field = `"i"`
	}
	if !d.next(',') {
		return jsUndefined, codecGiveUp
	}
	d.space()
	if !strings.HasPrefix(d.s[d.i:], field) {
		return jsUndefined, codecGiveUp
	}
	d.i += len(field)
	if !d.next(':') {
		return jsUndefined, codecGiveUp
	}
	d.space()
	var v lib.TJSValue
	switch tag {
	case "n":
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return jsUndefined, codecGiveUp
		}
		s, ok := d.str()
		if !ok {
			return jsUndefined, codecGiveUp
		}
		var f float64
		switch s {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		case "-0":
			f = math.Copysign(0, -1)
		default:
			return jsUndefined, codecGiveUp
		}
		v = numberValue(f)
	case "D", "c":
		f, ok := d.number()
		if !ok {
			return jsUndefined, codecGiveUp
		}
		if tag == "D" {
			v = lib.XJS_NewDate(d.tls, d.ctx, f)
		} else {
			if f != math.Trunc(f) || f < 0 || f > math.MaxUint32 || d.caps.Ftag != lib.EJS_TAG_OBJECT {
				return jsUndefined, codecGiveUp
			}
			v = lib.XJS_GetPropertyUint32(d.tls, d.ctx, d.caps, uint32(f))
		}
		if v.Ftag == lib.EJS_TAG_EXCEPTION {
			return jsUndefined, codecThrew
		}
	default:
		return jsUndefined, codecGiveUp
	}
	if !d.next('}') {
		lib.XFreeValue(d.tls, d.ctx, v)
		return jsUndefined, codecGiveUp
	}
	return v, codecDone
}
