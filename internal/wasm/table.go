package wasm

import (
	"context"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/table"
)

// tableHelper reaches into one exported table: an instance of
// tableHelperModule linked to it. wazero's API has no tables, but a module
// may import one and work on it.
type tableHelper struct {
	setters                       map[setterKey]*setter
	mod                           api.Module
	code                          wazero.CompiledModule
	size, grow, get, set, nullity api.Function
	elem                          ValType
	index                         uint32 // the table's index in its instance
}

func (t *tableHelper) close() {
	for _, s := range t.setters {
		s.close()
	}
	ctx := context.Background()
	t.mod.Close(ctx)
	t.code.Close(ctx)
}

// TableType is export i's element type (Funcref or Externref).
func (m *Module) TableType(i int) (ValType, error) {
	t, err := m.shape.exportTable(m.shape.exports[i])
	return t.Global, err
}

func (inst *Instance) table(i int) (*tableHelper, error) {
	if inst.mod == nil {
		return nil, &Trap{Msg: "the instance was closed"}
	}
	if t := inst.tables[i]; t != nil {
		return t, nil
	}
	ex := inst.module.shape.exports[i]
	if ex.Kind != KindTable {
		return nil, fmt.Errorf("wasm: export %d is not a table", i)
	}
	tt, err := inst.module.shape.exportTable(ex)
	if err != nil {
		return nil, err
	}
	rt := runtime()
	ctx := context.Background()
	code, err := rt.CompileModule(ctx, tableHelperModule(tt.Global))
	if err != nil {
		return nil, err
	}
	// The helper imports module "t"'s export "t": the instance under the
	// table's own export name is found through a one-entry glue.
	glue := newBinary()
	imp := name(name(nil, "s0"), ex.Name)
	imp = limits(append(imp, 1, byte(tt.Global)), Limits{})
	glue.section(2, 1, imp)
	glue.section(7, 1, append(name(nil, "t"), 1, 0))
	gcode, err := rt.CompileModule(ctx, glue.b)
	if err != nil {
		code.Close(ctx)
		return nil, err
	}
	g, err := rt.InstantiateModule(experimental.WithImportResolver(ctx, func(string) api.Module { return inst.mod }), gcode, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		code.Close(ctx)
		gcode.Close(ctx)
		return nil, err
	}
	inst.linked = append(inst.linked, g)
	inst.linkCode = append(inst.linkCode, gcode)
	mod, err := rt.InstantiateModule(experimental.WithImportResolver(ctx, func(string) api.Module { return g }), code, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		code.Close(ctx)
		return nil, err
	}
	t := &tableHelper{
		mod: mod, code: code, elem: tt.Global, index: ex.Index,
		size: mod.ExportedFunction("size"), grow: mod.ExportedFunction("grow"),
		get: mod.ExportedFunction("get"), set: mod.ExportedFunction("set"),
		nullity: mod.ExportedFunction("isNull"),
	}
	if inst.tables == nil {
		inst.tables = map[int]*tableHelper{}
	}
	inst.tables[i] = t
	return t, nil
}

func (inst *Instance) tableCall(i int, f func(*tableHelper) api.Function, stack []uint64) error {
	t, err := inst.table(i)
	if err != nil {
		return err
	}
	if err := f(t).CallWithStack(context.Background(), stack); err != nil {
		if tr := trapOf(err); tr != nil {
			return tr
		}
		return err
	}
	return nil
}

// TableSize is the length of export i, a table.
func (inst *Instance) TableSize(i int) (uint32, error) {
	stack := []uint64{0}
	err := inst.tableCall(i, func(t *tableHelper) api.Function { return t.size }, stack)
	return uint32(stack[0]), err
}

// TableGrow grows export i by delta elements set to init (a reference's
// bits), returning the old length, or false when the table cannot grow.
func (inst *Instance) TableGrow(i int, delta uint32, init uint64) (uint32, bool, error) {
	stack := []uint64{uint64(delta), init}
	err := inst.tableCall(i, func(t *tableHelper) api.Function { return t.grow }, stack)
	return uint32(stack[0]), int32(uint32(stack[0])) >= 0, err
}

// TableGet reads element idx of export i: an externref's bits, or whether
// a funcref is null (0) or not (1).
func (inst *Instance) TableGet(i int, idx uint32) (uint64, error) {
	t, err := inst.table(i)
	if err != nil {
		return 0, err
	}
	stack := []uint64{uint64(idx)}
	if t.elem == Externref {
		err = inst.tableCall(i, func(t *tableHelper) api.Function { return t.get }, stack)
		return stack[0], err
	}
	err = inst.tableCall(i, func(t *tableHelper) api.Function { return t.nullity }, stack)
	return 1 - stack[0], err
}

// TableSet writes element idx of export i: an externref's bits, or a null
// funcref.
func (inst *Instance) TableSet(i int, idx uint32, v uint64) error {
	return inst.tableCall(i, func(t *tableHelper) api.Function { return t.set }, []uint64{uint64(idx), v})
}

// Func is a function a table holds, callable from outside.
type Func struct {
	fn   api.Function
	Type *FuncType
}

// TableFunc is the function element idx of export i (a funcref table)
// holds. wazero looks a table's function up only by its expected type, as
// call_indirect does, so each type the instance's module declares is
// tried, then each of others (the types of the modules whose functions may
// have been put in the table).
func (inst *Instance) TableFunc(i int, idx uint32, others []*Module) (*Func, error) {
	t, err := inst.table(i)
	if err != nil {
		return nil, err
	}
	for _, m := range append([]*Module{inst.module}, others...) {
		for k := range m.shape.types {
			ft := &m.shape.types[k]
			if f := lookup(inst.mod, t.index, idx, ft); f != nil {
				return &Func{fn: f, Type: ft}, nil
			}
		}
	}
	return nil, &Trap{Msg: "the table holds a function of a type no module here declares"}
}

// ExportIs reports whether export j of inst is the function f.
func (inst *Instance) ExportIs(j int, f *Func) bool {
	ex := inst.module.shape.exports[j]
	if ex.Kind != KindFunction || inst.mod == nil {
		return false
	}
	e := inst.mod.ExportedFunction(ex.Name)
	return e != nil && e.Definition() == f.fn.Definition()
}

// setterModule imports a function of type ft (module "s", name fn) and a
// funcref table (module "t", name tbl) and exports set(i) and grow(delta),
// which put that function in the table: wazero's API cannot hand a
// function reference in.
func setterModule(ft *FuncType, fn, tbl string) []byte {
	m := newBinary()
	var types []byte
	types = funcType(types, ft)
	types = funcType(types, &FuncType{Params: []ValType{I32}})
	types = funcType(types, &FuncType{Params: []ValType{I32}, Results: []ValType{I32}})
	m.section(1, 3, types)
	imp := name(name(nil, "s"), fn)
	imp = append(imp, 0, 0)
	imp = name(name(imp, "t"), tbl)
	imp = limits(append(imp, 1, byte(Funcref)), Limits{})
	m.section(2, 2, imp)
	m.section(3, 2, []byte{1, 2})
	var ex []byte
	ex = append(name(ex, "set"), 0, 1)
	ex = append(name(ex, "grow"), 0, 2)
	m.section(7, 2, ex)
	m.section(9, 1, []byte{3, 0, 1, 0}) // declares function 0 for ref.func
	bodies := [][]byte{
		{0x20, 0, 0xd2, 0, 0x26, 0},     // local.get 0; ref.func 0; table.set 0
		{0xd2, 0, 0x20, 0, 0xfc, 15, 0}, // ref.func 0; local.get 0; table.grow 0
	}
	var code []byte
	for _, body := range bodies {
		f := append([]byte{0}, body...)
		f = append(f, 0x0b)
		code = uleb(code, uint64(len(f)))
		code = append(code, f...)
	}
	m.section(10, 2, code)
	return m.b
}

// TablePut puts export fn of instance from in element idx of export i, a
// funcref table; with grow, it grows the table by idx elements holding it
// instead, answering the old length (or false when it cannot grow).
func (inst *Instance) TablePut(i int, idx uint32, from *Instance, fn int, grow bool) (uint32, bool, error) {
	t, err := inst.table(i)
	if err != nil {
		return 0, false, err
	}
	if from.mod == nil {
		return 0, false, &Trap{Msg: "the instance was closed"}
	}
	fex := from.module.shape.exports[fn]
	ft, err := from.module.shape.exportFunc(fex)
	if err != nil {
		return 0, false, err
	}
	key := setterKey{from, fn}
	s := t.setters[key]
	if s == nil {
		rt := runtime()
		ctx := context.Background()
		code, err := rt.CompileModule(ctx, setterModule(ft, fex.Name, inst.module.shape.exports[i].Name))
		if err != nil {
			return 0, false, err
		}
		mod, err := rt.InstantiateModule(experimental.WithImportResolver(ctx, func(n string) api.Module {
			if n == "s" {
				return from.mod
			}
			return inst.mod
		}), code, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			code.Close(ctx)
			return 0, false, &LinkError{err.Error()}
		}
		s = &setter{mod: mod, code: code, set: mod.ExportedFunction("set"), grow: mod.ExportedFunction("grow")}
		if t.setters == nil {
			t.setters = map[setterKey]*setter{}
		}
		t.setters[key] = s
	}
	f := s.set
	if grow {
		f = s.grow
	}
	stack := []uint64{uint64(idx)}
	if err := f.CallWithStack(context.Background(), stack); err != nil {
		if tr := trapOf(err); tr != nil {
			return 0, false, tr
		}
		return 0, false, err
	}
	return uint32(stack[0]), int32(uint32(stack[0])) >= 0, nil
}

type setterKey struct {
	from *Instance
	fn   int
}

type setter struct {
	mod       api.Module
	code      wazero.CompiledModule
	set, grow api.Function
}

func (s *setter) close() {
	ctx := context.Background()
	s.mod.Close(ctx)
	s.code.Close(ctx)
}

func lookup(mod api.Module, tableIndex, idx uint32, ft *FuncType) (f api.Function) {
	defer func() {
		if recover() != nil {
			f = nil
		}
	}()
	return table.LookupFunction(mod, tableIndex, idx, apiTypes(ft.Params), apiTypes(ft.Results))
}

// Call calls f: params on stack on entry, results on return.
func (f *Func) Call(ctx context.Context, stack []uint64) error {
	if err := f.fn.CallWithStack(ctx, stack); err != nil {
		if t := trapOf(err); t != nil {
			return t
		}
		return err
	}
	return nil
}

// Index is f's index in its module's function index space (what V8 names
// the function by).
func (f *Func) Index() uint32 { return f.fn.Definition().Index() }

// Same reports whether f and g are one function.
func (f *Func) Same(g *Func) bool { return f.fn.Definition() == g.fn.Definition() }

// funcBox turns a function reference's raw bits (a call's result, a
// global's value) into a callable function: it puts the reference in a
// table of its own, where wazero can look it up. One for the process.
var funcBox struct {
	sync.Mutex
	mod api.Module
	put api.Function
}

// funcBoxModule exports a one-element funcref table ("t") and put(ref).
func funcBoxModule() []byte {
	m := newBinary()
	m.section(1, 1, funcType(nil, &FuncType{Params: []ValType{Funcref}}))
	m.section(3, 1, []byte{0})
	m.section(4, 1, limits([]byte{byte(Funcref)}, Limits{Min: 1, Max: 1, HasMax: true}))
	m.section(7, 1, append(name(nil, "put"), 0, 0))
	body := []byte{0, 0x41, 0, 0x20, 0, 0x26, 0, 0x0b} // i32.const 0; local.get 0; table.set 0
	m.section(10, 1, append(uleb(nil, uint64(len(body))), body...))
	return m.b
}

// FuncOf is the function raw function reference bits refer to; its type
// is looked for among the types of the modules given.
func FuncOf(bits uint64, modules []*Module) (*Func, error) {
	funcBox.Lock()
	defer funcBox.Unlock()
	ctx := context.Background()
	if funcBox.mod == nil {
		rt := runtime()
		code, err := rt.CompileModule(ctx, funcBoxModule())
		if err != nil {
			return nil, err
		}
		mod, err := rt.InstantiateModule(ctx, code, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			return nil, err
		}
		funcBox.mod, funcBox.put = mod, mod.ExportedFunction("put")
	}
	if err := funcBox.put.CallWithStack(ctx, []uint64{bits}); err != nil {
		return nil, err
	}
	// Emptied again after: the box must not keep a function (and its
	// instance) alive.
	defer funcBox.put.CallWithStack(ctx, []uint64{0})
	for _, m := range modules {
		for k := range m.shape.types {
			ft := &m.shape.types[k]
			if f := lookup(funcBox.mod, 0, 0, ft); f != nil {
				return &Func{fn: f, Type: ft}, nil
			}
		}
	}
	return nil, &Trap{Msg: "a function of a type no module here declares"}
}
