package wasm

import (
	"errors"
	"fmt"
)

// The JavaScript API lists a module's imports and exports in the order the
// binary declares them, with their kinds, and hands out its custom
// sections; wazero keeps exports in maps and has no tables in its API. So
// the few sections that matter are read here, once per compile.

// Kind is what an import or export is, in the JavaScript API's words.
type Kind string

const (
	KindFunction Kind = "function"
	KindTable    Kind = "table"
	KindMemory   Kind = "memory"
	KindGlobal   Kind = "global"
	KindTag      Kind = "tag"
)

// ValType is a value type as the binary encodes it.
type ValType byte

const (
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	Funcref   ValType = 0x70
	Externref ValType = 0x6f
)

// FuncType is a function's signature.
type FuncType struct {
	Params, Results []ValType
}

// Import is one import, in declaration order.
type Import struct {
	Module, Name string
	Kind         Kind
	Func         *FuncType // for a function
	Global       ValType   // for a global; a table's element type
	Mutable      bool      // for a global
	Limits       Limits    // for a memory or a table
}

// Limits are a memory's (in pages) or a table's (in elements) sizes.
type Limits struct {
	Min    uint32
	Max    uint32
	HasMax bool
}

// Export is one export, in declaration order. Index is in the index space
// of its kind (imports first).
type Export struct {
	Name  string
	Kind  Kind
	Index uint32
}

// CustomSection is a custom section's name and contents.
type CustomSection struct {
	Name string
	Data []byte
}

// shape is what parse reads from a binary.
type shape struct {
	types    []FuncType
	imports  []Import
	exports  []Export
	custom   []CustomSection
	funcs    []uint32 // type index of each function the module defines
	globals  []Import // type of each global the module defines (Global, Mutable)
	tables   []Import // each table the module defines (Global: its element type, Limits)
	memories []Import // each memory the module defines (Limits)
	nImports map[Kind]int
}

var errTruncated = errors.New("unexpected end of the module")

type reader struct {
	b   []byte
	pos int
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) u32() (uint32, error) {
	v, err := r.leb(5)
	return uint32(v), err
}

func (r *reader) u64() (uint64, error) { return r.leb(10) }

// leb reads an unsigned LEB128 number of at most n bytes. (A signed one
// has the same bytes; the instrumentation only steps over those.)
func (r *reader) leb(n int) (uint64, error) {
	var v uint64
	for i := 0; i < n; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("malformed LEB128 number")
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(r.pos)+uint64(n) > uint64(len(r.b)) {
		return nil, errTruncated
	}
	b := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

func (r *reader) limits() (Limits, error) {
	var l Limits
	flags, err := r.byte()
	if err != nil {
		return l, err
	}
	if l.Min, err = r.u32(); err != nil {
		return l, err
	}
	if flags&1 != 0 {
		l.HasMax = true
		l.Max, err = r.u32()
	}
	return l, err
}

func (r *reader) valTypes() ([]ValType, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if int(n) > len(r.b)-r.pos {
		return nil, errTruncated
	}
	ts := make([]ValType, n)
	for i := range ts {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		ts[i] = ValType(c)
	}
	return ts, nil
}

// section reads a section's id and contents.
func (r *reader) section() (byte, []byte, error) {
	id, err := r.byte()
	if err != nil {
		return 0, nil, err
	}
	size, err := r.u32()
	if err != nil {
		return 0, nil, err
	}
	body, err := r.bytes(size)
	return id, body, err
}

// parse reads the sections the JavaScript API needs. The binary has been
// validated by the compiler already; errors here are for safety.
func parse(b []byte) (*shape, error) {
	s := &shape{nImports: map[Kind]int{}}
	r := &reader{b: b, pos: 8}
	for r.pos < len(b) {
		id, body, err := r.section()
		if err != nil {
			return nil, err
		}
		sr := &reader{b: body}
		switch id {
		case 0:
			name, err := sr.name()
			if err != nil {
				return nil, err
			}
			s.custom = append(s.custom, CustomSection{Name: name, Data: body[sr.pos:]})
		case 1:
			err = s.readTypes(sr)
		case 2:
			err = s.readImports(sr)
		case 3:
			err = s.readFuncs(sr)
		case 4:
			err = s.readTables(sr)
		case 5:
			err = s.readMemories(sr)
		case 6:
			err = s.readGlobals(sr)
		case 7:
			err = s.readExports(sr)
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
	}
	return s, nil
}

func (s *shape) readTypes(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		form, err := r.byte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			return fmt.Errorf("type form 0x%x is not a function type", form)
		}
		p, err := r.valTypes()
		if err != nil {
			return err
		}
		res, err := r.valTypes()
		if err != nil {
			return err
		}
		s.types = append(s.types, FuncType{Params: p, Results: res})
	}
	return nil
}

func (s *shape) funcType(i uint32) (*FuncType, error) {
	if int(i) >= len(s.types) {
		return nil, fmt.Errorf("type index %d out of range", i)
	}
	return &s.types[i], nil
}

func (s *shape) readImports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		var im Import
		if im.Module, err = r.name(); err != nil {
			return err
		}
		if im.Name, err = r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0:
			im.Kind = KindFunction
			t, err := r.u32()
			if err != nil {
				return err
			}
			if im.Func, err = s.funcType(t); err != nil {
				return err
			}
		case 1:
			im.Kind = KindTable
			var t byte
			if t, err = r.byte(); err != nil {
				return err
			}
			im.Global = ValType(t)
			im.Limits, err = r.limits()
		case 2:
			im.Kind = KindMemory
			im.Limits, err = r.limits()
		case 3:
			im.Kind = KindGlobal
			err = r.globalType(&im)
		case 4:
			im.Kind = KindTag
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return fmt.Errorf("import kind %d", kind)
		}
		if err != nil {
			return err
		}
		s.nImports[im.Kind]++
		s.imports = append(s.imports, im)
	}
	return nil
}

func (r *reader) globalType(g *Import) error {
	t, err := r.byte()
	if err != nil {
		return err
	}
	mut, err := r.byte()
	g.Global, g.Mutable = ValType(t), mut == 1
	return err
}

func (s *shape) readTables(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		t, err := r.byte()
		if err != nil {
			return err
		}
		l, err := r.limits()
		if err != nil {
			return err
		}
		s.tables = append(s.tables, Import{Kind: KindTable, Global: ValType(t), Limits: l})
	}
	return nil
}

func (s *shape) readMemories(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		l, err := r.limits()
		if err != nil {
			return err
		}
		s.memories = append(s.memories, Import{Kind: KindMemory, Limits: l})
	}
	return nil
}

func (s *shape) readFuncs(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		t, err := r.u32()
		if err != nil {
			return err
		}
		s.funcs = append(s.funcs, t)
	}
	return nil
}

// readGlobals reads each global's type, stepping over its initialiser.
func (s *shape) readGlobals(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		var g Import
		if err := r.globalType(&g); err != nil {
			return err
		}
		if err := r.skipConstExpr(); err != nil {
			return err
		}
		s.globals = append(s.globals, g)
	}
	return nil
}

func (r *reader) skipConstExpr() error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		if op == 0x0b { // end
			return nil
		}
		if err := r.skipImmediates(op); err != nil {
			return err
		}
	}
}

func (s *shape) readExports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		var ex Export
		if ex.Name, err = r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		ex.Kind = []Kind{KindFunction, KindTable, KindMemory, KindGlobal, KindTag}[min(int(kind), 4)]
		if kind > 4 {
			return fmt.Errorf("export kind %d", kind)
		}
		if ex.Index, err = r.u32(); err != nil {
			return err
		}
		s.exports = append(s.exports, ex)
	}
	return nil
}

// exportFunc is the signature of an exported function.
func (s *shape) exportFunc(ex Export) (*FuncType, error) {
	i := int(ex.Index)
	var imported []*FuncType
	for _, im := range s.imports {
		if im.Kind == KindFunction {
			imported = append(imported, im.Func)
		}
	}
	if i < len(imported) {
		return imported[i], nil
	}
	i -= len(imported)
	if i >= len(s.funcs) {
		return nil, fmt.Errorf("function index %d out of range", ex.Index)
	}
	return s.funcType(s.funcs[i])
}

// exportTable is the type of an exported table (Global: its elements).
func (s *shape) exportTable(ex Export) (Import, error) {
	return s.indexed(KindTable, s.tables, ex.Index)
}

func (s *shape) indexed(k Kind, own []Import, index uint32) (Import, error) {
	i := int(index)
	var imported []Import
	for _, im := range s.imports {
		if im.Kind == k {
			imported = append(imported, im)
		}
	}
	if i < len(imported) {
		return imported[i], nil
	}
	i -= len(imported)
	if i >= len(own) {
		return Import{}, fmt.Errorf("%s index %d out of range", k, index)
	}
	return own[i], nil
}

// exportGlobal is the type of an exported global.
func (s *shape) exportGlobal(ex Export) (ValType, bool, error) {
	i := int(ex.Index)
	var imported []Import
	for _, im := range s.imports {
		if im.Kind == KindGlobal {
			imported = append(imported, im)
		}
	}
	if i < len(imported) {
		return imported[i].Global, imported[i].Mutable, nil
	}
	i -= len(imported)
	if i >= len(s.globals) {
		return 0, false, fmt.Errorf("global index %d out of range", ex.Index)
	}
	return s.globals[i].Global, s.globals[i].Mutable, nil
}
