package wasm

import (
	"encoding/binary"
)

// Small modules Isola writes itself: what a Memory, Table or Global made in
// JavaScript is an instance of, the glue that links a module's imports, and
// the helpers that reach into a table from outside (wazero's API has no
// tables).

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func sleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func name(b []byte, s string) []byte {
	b = uleb(b, uint64(len(s)))
	return append(b, s...)
}

func limits(b []byte, l Limits) []byte {
	if l.HasMax {
		b = append(b, 1)
		b = uleb(b, uint64(l.Min))
		return uleb(b, uint64(l.Max))
	}
	b = append(b, 0)
	return uleb(b, uint64(l.Min))
}

// binaryModule assembles sections (id, body) in the order given.
type binaryModule struct{ b []byte }

func newBinary() *binaryModule { return &binaryModule{b: []byte("\x00asm\x01\x00\x00\x00")} }

func (m *binaryModule) section(id byte, count int, body []byte) {
	if count == 0 {
		return
	}
	payload := uleb(nil, uint64(count))
	payload = append(payload, body...)
	m.b = append(m.b, id)
	m.b = uleb(m.b, uint64(len(payload)))
	m.b = append(m.b, payload...)
}

func funcType(b []byte, ft *FuncType) []byte {
	b = append(b, 0x60)
	b = uleb(b, uint64(len(ft.Params)))
	for _, t := range ft.Params {
		b = append(b, byte(t))
	}
	b = uleb(b, uint64(len(ft.Results)))
	for _, t := range ft.Results {
		b = append(b, byte(t))
	}
	return b
}

// constExpr is the initialiser of a global of type t holding bits.
func constExpr(b []byte, t ValType, bits uint64) []byte {
	switch t {
	case I32:
		b = append(b, 0x41)
		b = sleb(b, int64(int32(uint32(bits))))
	case I64:
		b = append(b, 0x42)
		b = sleb(b, int64(bits))
	case F32:
		b = append(b, 0x43)
		b = binary.LittleEndian.AppendUint32(b, uint32(bits))
	case F64:
		b = append(b, 0x44)
		b = binary.LittleEndian.AppendUint64(b, bits)
	default: // a reference: null
		b = append(b, 0xd0, byte(t))
	}
	return append(b, 0x0b)
}

// MemoryModule exports a memory ("m") of l's sizes, in pages.
func MemoryModule(l Limits) []byte {
	m := newBinary()
	m.section(5, 1, limits(nil, l))
	m.section(7, 1, append(name(nil, "m"), 2, 0))
	return m.b
}

// TableModule exports a table ("t") of elements of type t (all null).
func TableModule(t ValType, l Limits) []byte {
	m := newBinary()
	m.section(4, 1, limits([]byte{byte(t)}, l))
	m.section(7, 1, append(name(nil, "t"), 1, 0))
	return m.b
}

// GlobalModule exports a global ("g") of type t holding bits.
func GlobalModule(t ValType, mutable bool, bits uint64) []byte {
	mut := byte(0)
	if mutable {
		mut = 1
	}
	m := newBinary()
	m.section(6, 1, constExpr([]byte{byte(t), mut}, t, bits))
	m.section(7, 1, append(name(nil, "g"), 3, 0))
	return m.b
}

// tableHelperModule imports a table ("t" "t") of element type t and
// exports what JavaScript's Table needs: size, grow, get and set (get and
// set of references JavaScript can hold: externref, or a null funcref).
func tableHelperModule(t ValType) []byte {
	m := newBinary()
	types := [][]byte{
		funcType(nil, &FuncType{Results: []ValType{I32}}),                            // size
		funcType(nil, &FuncType{Params: []ValType{I32, t}, Results: []ValType{I32}}), // grow(delta, init)
		funcType(nil, &FuncType{Params: []ValType{I32}, Results: []ValType{t}}),      // get
		funcType(nil, &FuncType{Params: []ValType{I32, t}}),                          // set
		funcType(nil, &FuncType{Params: []ValType{I32}, Results: []ValType{I32}}),    // isNull
	}
	var tb []byte
	for _, x := range types {
		tb = append(tb, x...)
	}
	m.section(1, len(types), tb)
	imp := name(nil, "t")
	imp = name(imp, "t")
	imp = append(imp, 1, byte(t))
	imp = limits(imp, Limits{})
	m.section(2, 1, imp)
	m.section(3, 5, []byte{0, 1, 2, 3, 4})
	var ex []byte
	for i, n := range []string{"size", "grow", "get", "set", "isNull"} {
		ex = name(ex, n)
		ex = append(ex, 0, byte(i))
	}
	m.section(7, 5, ex)
	bodies := [][]byte{
		{0xfc, 16, 0},                   // table.size 0
		{0x20, 1, 0x20, 0, 0xfc, 15, 0}, // local.get 1; local.get 0; table.grow 0
		{0x20, 0, 0x25, 0},              // local.get 0; table.get 0
		{0x20, 0, 0x20, 1, 0x26, 0},     // local.get 0; local.get 1; table.set 0
		{0x20, 0, 0x25, 0, 0xd1},        // local.get 0; table.get 0; ref.is_null
	}
	var code []byte
	for _, body := range bodies {
		fn := append([]byte{0}, body...) // no locals
		fn = append(fn, 0x0b)
		code = uleb(code, uint64(len(fn)))
		code = append(code, fn...)
	}
	m.section(10, len(bodies), code)
	return m.b
}
