package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	goruntime "runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/isola-run/isola/internal/jsvm"
	"github.com/isola-run/isola/internal/wasm"
	"modernc.org/quickjs"
)

// The "wasm" host group: WebAssembly for 62_wasm.js, over internal/wasm.
// Handles JavaScript holds are numbers: a module's is its place in
// wasmState.modules, an instance's (a standalone Memory is an instance of
// a module that only has one) its key in instances.

// compileWasm compiles the bundle's WebAssembly modules, so that a module
// that does not compile fails the worker's load, as on the reference. The
// compiled code is shared with every other script holding the same bytes,
// and released when the script is no longer used.
func (s *Script) compileWasm(mods map[string][]byte) error {
	if len(mods) == 0 {
		return nil
	}
	names := make([]string, 0, len(mods))
	for n := range mods {
		names = append(names, n)
	}
	sort.Strings(names)
	s.Wasm = map[string]*wasm.Module{}
	var compiled []*wasm.Module
	for _, n := range names {
		m, err := wasm.Compile(mods[n])
		if err != nil {
			for _, c := range compiled {
				c.Release()
			}
			return fmt.Errorf("WebAssembly module %q: %w", n, &ScriptError{Name: "CompileError", Message: "WasmModuleObject::Compile(): " + err.Error()})
		}
		compiled = append(compiled, m)
		s.Wasm[n] = m
	}
	goruntime.AddCleanup(s, func(ms []*wasm.Module) {
		for _, m := range ms {
			m.Release()
		}
	}, compiled)
	return nil
}

// wasmState is an isolate's WebAssembly, made when its code first uses it.
type wasmState struct {
	scratch    []uint64 // the JavaScript scratch buffer, in place
	scratchBuf quickjs.Value
	budget     *wasm.Budget
	modules    []*wasm.Module
	owned      []*wasm.Module // modules made here (standalone memories), released at the end
	funcs      []*wasm.Func   // functions read out of tables, by handle
	instances  map[int]*wasmInstance
	byMemory   map[*wasm.Memory]*wasmInstance
	next       int
	// depth counts the calls into WebAssembly under way (nested through
	// imports).
	depth int
	// collect asks for a collection at the turn's end (add).
	collect bool
	// The watchdog: a timer armed for the turn's CPU deadline (armed, the
	// engine's own reading of it) that stops the isolate's instances if a
	// call is still under way (active) when it fires.
	watchdog *time.Timer
	armed    int64
	active   atomic.Bool
	turn     atomic.Uint64 // counts the deadlines armed for
	fired    atomic.Bool   // the deadline armed for has passed
	mu       sync.Mutex    // guards live, which the timer reads
	live     []*wasm.Instance
}

type wasmInstance struct {
	inst *wasm.Instance
	// linked: another instance imports from it or it from another, or
	// it is in a table of another's: its code may run by another's way, so
	// it lives until the isolate ends rather than until JavaScript drops it.
	linked  bool
	imports []quickjs.Value // the JavaScript functions its imports call (held)
	buffer  quickjs.Value   // the ArrayBuffer over its memory, once asked for (held)
	hasBuf  bool
}

// errImportThrew unwinds WebAssembly when an import threw; what it threw
// waits in JavaScript (wasmPending in 62_wasm.js).
var errImportThrew = errors.New("an import threw")

// maxWasmSlots is the size of the scratch buffer in values: a function with
// more parameters or results than that cannot be called.
const maxWasmSlots = 1024

func (iso *Isolate) wasmHost(fns map[string]any) {
	if iso.wasm == nil {
		iso.wasm = &wasmState{
			budget:    wasm.NewBudget(uint64(iso.limits.Memory)),
			instances: map[int]*wasmInstance{},
			byMemory:  map[*wasm.Memory]*wasmInstance{},
		}
		iso.wasm.budget.OnResize = iso.wasmResized
	}
	st := iso.wasm
	fns["wasmScratch"] = func(iso *Isolate, buf quickjs.Value) error {
		p, n, ok := jsvm.ArrayBufferData(buf)
		if !ok || n < maxWasmSlots*8 || st.scratch != nil {
			return errors.New("wasmScratch: wants one ArrayBuffer")
		}
		st.scratchBuf = buf.Dup()
		st.scratch = unsafe.Slice((*uint64)(unsafe.Add(nil, p)), maxWasmSlots)
		return nil
	}
	// wasmModule is the handle of the worker's module of that name, or the
	// error "Class: message".
	fns["wasmModule"] = func(iso *Isolate, name string) any {
		m := iso.script.Wasm[name]
		if m == nil {
			return fmt.Sprintf("Error: No such WebAssembly module %q.", name)
		}
		for i, have := range st.modules {
			if have == m {
				return i
			}
		}
		st.modules = append(st.modules, m)
		return len(st.modules) - 1
	}
	// wasmShape describes a module's imports and exports as JSON.
	// (Host functions return one value; an error becomes its text.)
	fns["wasmShape"] = func(iso *Isolate, h int) any {
		m, err := st.module(h)
		if err != nil {
			return err
		}
		s, err := wasmShapeJSON(m)
		if err != nil {
			return err
		}
		return s
	}
	fns["wasmCustom"] = func(iso *Isolate, h int, name string, i int) any {
		m, err := st.module(h)
		if err != nil {
			return nil
		}
		cs := m.CustomSections(name)
		if i < 0 || i >= len(cs) {
			return nil
		}
		return jsvm.NewArrayBuffer(iso.vm, cs[i])
	}
	// wasmCompile compiles bytes top-level code hands over (the reference
	// compiles at start-up only; 62_wasm.js refuses later).
	fns["wasmCompile"] = func(iso *Isolate, buf quickjs.Value) any {
		b, ok := jsvm.ArrayBufferBytes(buf)
		if !ok {
			return "TypeError: Argument 0 must be a buffer source"
		}
		m, err := wasm.Compile(b)
		if err != nil {
			return "CompileError: " + err.Error()
		}
		st.owned = append(st.owned, m)
		st.modules = append(st.modules, m)
		return len(st.modules) - 1
	}
	fns["wasmPages"] = func(iso *Isolate, h int) int {
		in := st.instances[h]
		if in == nil || in.inst.Memory() == nil {
			return 0
		}
		return int(in.inst.Memory().Size() >> 16)
	}
	fns["wasmValidate"] = func(iso *Isolate, buf quickjs.Value) bool {
		b, ok := jsvm.ArrayBufferBytes(buf)
		if !ok {
			return false
		}
		m, err := wasm.Compile(b)
		if err != nil {
			return false
		}
		m.Release()
		return true
	}
	fns["wasmInstantiate"] = fastHost(1, func(iso *Isolate, a *jsvm.Args) any {
		m, err := st.module(a.Int(0))
		if err != nil {
			return "Error: " + err.Error()
		}
		return iso.wasmInstantiate(m, a)
	})
	fns["wasmCall"] = fastHost(2, func(iso *Isolate, a *jsvm.Args) any {
		return iso.wasmCall(a.Int(0), a.Int(1))
	})
	fns["wasmGlobal"] = func(iso *Isolate, h, i int) any {
		in := st.instances[h]
		if in == nil {
			return "Error: no such instance"
		}
		v, err := in.inst.Global(i)
		if err != nil {
			return "RuntimeError: " + err.Error()
		}
		st.scratch[0] = v
		return 0
	}
	fns["wasmSetGlobal"] = func(iso *Isolate, h, i int) any {
		in := st.instances[h]
		if in == nil {
			return "Error: no such instance"
		}
		if err := in.inst.SetGlobal(i, st.scratch[0]); err != nil {
			return "RuntimeError: " + err.Error()
		}
		return 0
	}
	// wasmBuffer is the ArrayBuffer over an instance's memory: the same one
	// until the memory's size changes, which detaches it.
	fns["wasmBuffer"] = func(iso *Isolate, h int) any {
		in := st.instances[h]
		if in == nil || in.inst.Memory() == nil {
			return nil
		}
		if !in.hasBuf {
			mem := in.inst.Memory()
			in.buffer = jsvm.NewExternalArrayBuffer(iso.vm, mem.Base(), int(mem.Size()))
			in.hasBuf = true
		}
		return in.buffer.Dup()
	}
	fns["wasmGrow"] = func(iso *Isolate, h, delta int) int {
		in := st.instances[h]
		if in == nil {
			return -1
		}
		old, ok := in.inst.Grow(uint32(delta))
		if !ok {
			return -1
		}
		if delta == 0 && in.inst.Memory() != nil {
			iso.wasmResized(in.inst.Memory()) // the API detaches on every grow
		}
		return int(old)
	}
	// wasmBytes is the binary a module was compiled from.
	fns["wasmBytes"] = func(iso *Isolate, h int) any {
		m, err := st.module(h)
		if err != nil {
			return nil
		}
		return jsvm.NewArrayBuffer(iso.vm, m.Bytes())
	}
	fns["wasmNewMemory"] = func(iso *Isolate, initial, maximum int) any {
		return iso.wasmOwn(wasm.MemoryModule(limitsOf(initial, maximum)))
	}
	fns["wasmNewTable"] = func(iso *Isolate, elem, initial, maximum int) any {
		return iso.wasmOwn(wasm.TableModule(wasm.ValType(elem), limitsOf(initial, maximum)))
	}
	// wasmNewGlobal: its initial value's bits are in scratch slot 0.
	fns["wasmNewGlobal"] = func(iso *Isolate, typ int, mutable bool) any {
		return iso.wasmOwn(wasm.GlobalModule(wasm.ValType(typ), mutable, st.scratch[0]))
	}
	fns["wasmTableSize"] = func(iso *Isolate, h, i int) any {
		in := st.instances[h]
		if in == nil {
			return "Error: no such instance"
		}
		n, err := in.inst.TableSize(i)
		if err != nil {
			return iso.wasmErrorText(err)
		}
		return int(n)
	}
	// wasmTableGrow: the new elements' value is in scratch slot 0.
	fns["wasmTableGrow"] = func(iso *Isolate, h, i, delta int) any {
		in := st.instances[h]
		if in == nil {
			return "Error: no such instance"
		}
		old, ok, err := in.inst.TableGrow(i, uint32(delta), st.scratch[0])
		if err != nil {
			return iso.wasmErrorText(err)
		}
		if !ok {
			return -1
		}
		return int(old)
	}
	// wasmTableGet leaves an externref element in scratch slot 0 and
	// answers 0; a funcref element is answered: 0 for null, "e<instance>:
	// <export>" for an instance's exported function, else the JSON of a
	// function handle made for it.
	fns["wasmTableGet"] = func(iso *Isolate, h, i, idx int) any {
		in := st.instances[h]
		if in == nil {
			return "Error: no such instance"
		}
		elem, err := in.inst.Module().TableType(i)
		if err != nil {
			return iso.wasmErrorText(err)
		}
		v, err := in.inst.TableGet(i, uint32(idx))
		if err != nil {
			return iso.wasmErrorText(err)
		}
		if elem == wasm.Externref || v == 0 {
			st.scratch[0] = v
			return 0
		}
		f, err := in.inst.TableFunc(i, uint32(idx), st.modules)
		if err != nil {
			return iso.wasmErrorText(err)
		}
		return st.funcAnswer(f)
	}
	// wasmFuncRef answers for the function reference in scratch slot k
	// (not null) as wasmTableGet does.
	fns["wasmFuncRef"] = func(iso *Isolate, k int) any {
		if k < 0 || k >= maxWasmSlots {
			return "Error: no such slot"
		}
		f, err := wasm.FuncOf(st.scratch[k], st.modules)
		if err != nil {
			return iso.wasmErrorText(err)
		}
		return st.funcAnswer(f)
	}
	// wasmTablePut puts export fn of instance from at element idx of a
	// funcref table, or grows the table by idx elements holding it.
	fns["wasmTablePut"] = func(iso *Isolate, h, i, idx, from, fn int, grow bool) any {
		in, src := st.instances[h], st.instances[from]
		if in == nil || src == nil {
			return "Error: no such instance"
		}
		in.linked, src.linked = true, true
		old, ok, err := in.inst.TablePut(i, uint32(idx), src.inst, fn, grow)
		if err != nil {
			return iso.wasmErrorText(err)
		}
		if !ok {
			return -1
		}
		return int(old)
	}
	// wasmTableSet: the value's bits are in scratch slot 0.
	fns["wasmTableSet"] = func(iso *Isolate, h, i, idx int) any {
		in := st.instances[h]
		if in == nil {
			return "Error: no such instance"
		}
		if err := in.inst.TableSet(i, uint32(idx), st.scratch[0]); err != nil {
			return iso.wasmErrorText(err)
		}
		return 0
	}
	// wasmRelease frees an instance JavaScript no longer holds (its keep
	// token was collected), unless it is linked to others; it reports
	// whether it did.
	fns["wasmRelease"] = func(iso *Isolate, h int) bool {
		in := st.instances[h]
		if in == nil || in.linked {
			return false
		}
		delete(st.instances, h)
		st.mu.Lock()
		st.live = slices.DeleteFunc(st.live, func(x *wasm.Instance) bool { return x == in.inst })
		st.mu.Unlock()
		in.close()
		if mem := in.inst.Memory(); mem != nil {
			delete(st.byMemory, mem)
		}
		return true
	}
	fns["wasmCallRef"] = fastHost(1, func(iso *Isolate, a *jsvm.Args) any {
		id := a.Int(0)
		if id < 0 || id >= len(st.funcs) {
			return "Error: no such function"
		}
		iso.wasmEnter()
		err := st.funcs[id].Call(context.Background(), st.scratch)
		iso.wasmLeave()
		return iso.wasmResult(err)
	})
}

// funcAnswer names a function for JavaScript: "e<instance>:<export>" when
// an instance exports it (JavaScript has that function object already),
// else the JSON of a handle to call it by, the same for the same function.
func (st *wasmState) funcAnswer(f *wasm.Func) string {
	// Which instance's code f runs cannot be told: none may go now.
	for _, in := range st.instances {
		in.linked = true
	}
	for _, h := range slices.Sorted(maps.Keys(st.instances)) {
		other := st.instances[h].inst
		for j := range other.Module().Exports() {
			if other.ExportIs(j, f) {
				return fmt.Sprintf("e%d:%d", h, j)
			}
		}
	}
	id := slices.IndexFunc(st.funcs, f.Same)
	if id < 0 {
		st.funcs = append(st.funcs, f)
		id = len(st.funcs) - 1
	}
	b, _ := json.Marshal(map[string]any{"ref": id, "index": f.Index(), "params": valTypes(f.Type.Params), "results": valTypes(f.Type.Results)})
	return string(b)
}

func limitsOf(initial, maximum int) wasm.Limits {
	return wasm.Limits{Min: uint32(initial), Max: uint32(max(maximum, 0)), HasMax: maximum >= 0}
}

func (st *wasmState) module(h int) (*wasm.Module, error) {
	if h < 0 || h >= len(st.modules) {
		return nil, errors.New("no such WebAssembly module")
	}
	return st.modules[h], nil
}

// The shape's value types are the binary's bytes, as numbers.
type wasmShapeImport struct {
	Module  string    `json:"module"`
	Name    string    `json:"name"`
	Kind    wasm.Kind `json:"kind"`
	Params  []int     `json:"params,omitempty"`
	Results []int     `json:"results,omitempty"`
	Type    int       `json:"type,omitempty"` // a global's, or a table's elements'
	Mutable bool      `json:"mutable,omitempty"`
	Min     uint32    `json:"min"`
	Max     *uint32   `json:"max,omitempty"`
}

type wasmShapeExport struct {
	Name    string    `json:"name"`
	Kind    wasm.Kind `json:"kind"`
	Index   uint32    `json:"index"`
	Params  []int     `json:"params"`
	Results []int     `json:"results"`
	Type    int       `json:"type,omitempty"`
	Mutable bool      `json:"mutable,omitempty"`
	Min     uint32    `json:"min"`
	Max     *uint32   `json:"max,omitempty"`
}

func wasmShapeJSON(m *wasm.Module) (string, error) {
	var sh struct {
		Imports []wasmShapeImport `json:"imports"`
		Exports []wasmShapeExport `json:"exports"`
	}
	sh.Imports, sh.Exports = []wasmShapeImport{}, []wasmShapeExport{}
	for _, im := range m.Imports() {
		x := wasmShapeImport{Module: im.Module, Name: im.Name, Kind: im.Kind, Type: int(im.Global), Mutable: im.Mutable, Min: im.Limits.Min}
		if im.Limits.HasMax {
			x.Max = &im.Limits.Max
		}
		if im.Func != nil {
			x.Params, x.Results = valTypes(im.Func.Params), valTypes(im.Func.Results)
		}
		sh.Imports = append(sh.Imports, x)
	}
	for i, ex := range m.Exports() {
		x := wasmShapeExport{Name: ex.Name, Kind: ex.Kind, Index: ex.Index}
		switch ex.Kind {
		case wasm.KindFunction:
			ft, err := m.ExportFunc(i)
			if err != nil {
				return "", err
			}
			x.Params, x.Results = valTypes(ft.Params), valTypes(ft.Results)
		case wasm.KindGlobal:
			t, mut, err := m.ExportGlobal(i)
			if err != nil {
				return "", err
			}
			x.Type, x.Mutable = int(t), mut
		case wasm.KindMemory, wasm.KindTable:
			l, t, err := m.ExportLimits(i)
			if err != nil {
				return "", err
			}
			x.Type, x.Min = int(t), l.Min
			if l.HasMax {
				x.Max = &l.Max
			}
		}
		if x.Params == nil {
			x.Params, x.Results = []int{}, []int{}
		}
		sh.Exports = append(sh.Exports, x)
	}
	b, err := json.Marshal(sh)
	return string(b), err
}

// valTypes lists value types as numbers (in JSON a []byte is base64).
func valTypes(ts []wasm.ValType) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = int(t)
	}
	return out
}

// wasmInstantiate instantiates m with its imports given as pairs, one per
// import: (a function, 0) for a JavaScript function; (instance, export)
// for another instance's export (a Memory, Table or Global made in
// JavaScript is an instance's too); (-1, slot) for an immutable global's
// value, its bits in that scratch slot.
func (iso *Isolate) wasmInstantiate(m *wasm.Module, args *jsvm.Args) any {
	st := iso.wasm
	imports := m.Imports()
	if args.Len() != 1+2*len(imports) {
		return "Error: malformed imports"
	}
	in := &wasmInstance{}
	externs := make([]wasm.Extern, len(imports))
	for k, im := range imports {
		if args.IsFunction(1 + 2*k) {
			if im.Kind != wasm.KindFunction || len(im.Func.Params) > maxWasmSlots || len(im.Func.Results) > maxWasmSlots {
				in.release()
				return fmt.Sprintf("LinkError: Import #%d %q %q: cannot be linked to a JavaScript function", k, im.Module, im.Name)
			}
			fn := args.Value(1 + 2*k).Dup()
			in.imports = append(in.imports, fn)
			externs[k].Func = iso.wasmImport(fn, len(im.Func.Params), len(im.Func.Results))
			continue
		}
		h, i := args.Int(1+2*k), args.Int(2+2*k)
		if args.Err() != nil {
			in.release()
			return "Error: malformed imports"
		}
		if h < 0 {
			if i < 0 || i >= maxWasmSlots {
				in.release()
				return "Error: malformed imports"
			}
			externs[k].Bits = st.scratch[i]
			continue
		}
		from := st.instances[h]
		if from == nil || i < 0 || i >= len(from.inst.Module().Exports()) {
			in.release()
			return "Error: malformed imports"
		}
		externs[k].From, externs[k].Name = from.inst, from.inst.Module().Exports()[i].Name
		from.linked, in.linked = true, true
	}
	iso.wasmEnter()
	inst, err := m.Instantiate(context.Background(), externs, st.budget)
	iso.wasmLeave()
	if err != nil {
		in.release()
		return iso.wasmErrorText(err)
	}
	in.inst = inst
	return st.add(in)
}

func (st *wasmState) add(in *wasmInstance) int {
	// Memories are outside the engine's heap, so its collector does not
	// run for them: past half the budget, the turn ends with a collection,
	// which frees the instances JavaScript dropped (isolate.go).
	if st.budget.Used() > st.budget.Limit()/2 {
		st.collect = true
	}
	st.mu.Lock()
	st.live = append(st.live, in.inst)
	st.mu.Unlock()
	st.next++
	st.instances[st.next] = in
	if mem := in.inst.Memory(); mem != nil {
		st.byMemory[mem] = in
	}
	return st.next
}

// wasmOwn instantiates a module Isola wrote (a Memory, Table or Global
// made in JavaScript), held until the isolate ends.
func (iso *Isolate) wasmOwn(code []byte) any {
	st := iso.wasm
	m, err := wasm.Compile(code)
	if err != nil {
		return "RangeError: " + err.Error()
	}
	st.owned = append(st.owned, m)
	inst, err := m.Instantiate(context.Background(), nil, st.budget)
	if err != nil {
		return iso.wasmErrorText(err)
	}
	return st.add(&wasmInstance{inst: inst})
}

// wasmImport is the HostFunc for an import: the arguments go to the
// scratch buffer and fn (62_wasm.js's wrapper) reads them, calls the
// worker's function and leaves the results there.
func (iso *Isolate) wasmImport(fn quickjs.Value, params, results int) wasm.HostFunc {
	return func(stack []uint64) {
		st := iso.wasm
		copy(st.scratch, stack[:params])
		r, err := jsvm.Call(fn)
		if err != nil {
			panic(err) // uncatchable: out of time or memory
		}
		threw, _ := jsvm.Bool(r)
		r.Free()
		if threw {
			panic(errImportThrew)
		}
		copy(stack[:results], st.scratch[:results])
	}
}

// wasmEnter starts a call into WebAssembly; wasmLeave ends it. The
// outermost call arms the watchdog for the turn's CPU deadline (once a
// turn: the timer is reset only when the deadline changed), and marks a call
// under way for it.
func (iso *Isolate) wasmEnter() {
	st := iso.wasm
	st.depth++
	if st.depth > 1 {
		return
	}
	if limit, ok := jsvm.TurnDeadline(iso.vm); ok && limit != st.armed {
		st.armed = limit
		// A timer per turn, with the turn's number: one armed for an
		// earlier turn may still be firing, and must do nothing.
		st.mu.Lock()
		turn := st.turn.Add(1)
		st.fired.Store(false)
		st.mu.Unlock()
		left, _ := jsvm.TimeLeft(iso.vm)
		if st.watchdog != nil {
			st.watchdog.Stop()
		}
		st.watchdog = time.AfterFunc(max(left, 0), func() { st.fire(turn) })
	}
	st.active.Store(true)
	if st.fired.Load() {
		st.fire(st.turn.Load()) // past the deadline already: the call traps at once
	}
}

func (iso *Isolate) wasmLeave() {
	st := iso.wasm
	st.depth--
	if st.depth == 0 {
		st.active.Store(false)
	}
}

// fire is the watchdog: a call still under way at the deadline is stopped
// (each instance's code traps at its next loop or call; the isolate is then
// killed for its CPU time, as JavaScript past the limit is).
func (st *wasmState) fire(turn uint64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if turn != st.turn.Load() {
		return
	}
	st.fired.Store(true)
	if !st.active.Load() {
		return
	}
	for _, in := range st.live {
		in.Stop()
	}
}

// wasmCall calls export i of instance h, its arguments and results in the
// scratch buffer: 0 when it returned, 1 when an import threw (62_wasm.js
// throws that on), else the error as "Class: message".
func (iso *Isolate) wasmCall(h, i int) any {
	st := iso.wasm
	in := st.instances[h]
	if in == nil || in.inst == nil {
		return "Error: no such instance"
	}
	iso.wasmEnter()
	err := in.inst.Call(context.Background(), i, st.scratch)
	iso.wasmLeave()
	return iso.wasmResult(err)
}

func (iso *Isolate) wasmResult(err error) any {
	if err == nil {
		return 0
	}
	if errors.Is(err, errImportThrew) {
		return 1
	}
	return iso.wasmErrorText(err)
}

func (iso *Isolate) wasmErrorText(err error) string {
	var trap *wasm.Trap
	var le *wasm.LinkError
	var qe *quickjs.Error
	switch {
	case errors.As(err, &trap):
		if trap.Deadline {
			// Killed here, as JavaScript past its time is: the engine's own
			// check after this call would throw, but not always in words
			// the isolate recognises.
			iso.checkFatalText("InternalError: interrupted")
			return "Error: " + trap.Msg
		}
		if trap.Overflow {
			return "RangeError: " + trap.Msg
		}
		return "RuntimeError: " + trap.Msg
	case errors.As(err, &le):
		return "LinkError: " + le.Msg
	case errors.Is(err, wasm.ErrOutOfMemory):
		return "RangeError: " + err.Error()
	case errors.As(err, &qe):
		// An import ran out of time or memory: the isolate is ending.
		iso.checkFatal(err)
		return "Error: " + qe.Message
	}
	return "Error: " + err.Error()
}

// wasmResized detaches the ArrayBuffer over a memory whose size changed:
// the JavaScript API detaches it on every grow, and code (wasm-bindgen's)
// checks for a detached buffer to know when to look again.
func (iso *Isolate) wasmResized(mem *wasm.Memory) {
	in := iso.wasm.byMemory[mem]
	if in == nil || !in.hasBuf {
		return
	}
	jsvm.DetachArrayBuffer(in.buffer)
	in.buffer.Free()
	in.hasBuf = false
}

// close frees the instance, detaching the buffer over its memory first.
func (in *wasmInstance) close() {
	if in.hasBuf {
		jsvm.DetachArrayBuffer(in.buffer)
		in.buffer.Free()
		in.hasBuf = false
	}
	in.inst.Close()
	in.release()
}

func (in *wasmInstance) release() {
	for _, f := range in.imports {
		f.Free()
	}
	in.imports = nil
}

// closeWasm frees the isolate's instances (and their memories, detaching
// the buffers over them first).
func (iso *Isolate) closeWasm() {
	st := iso.wasm
	if st == nil {
		return
	}
	for h, in := range st.instances {
		in.close()
		delete(st.instances, h)
	}
	for _, m := range st.owned {
		m.Release()
	}
	st.owned = nil
	if st.watchdog != nil {
		st.watchdog.Stop()
	}
	st.mu.Lock()
	st.live = nil
	st.mu.Unlock()
	if st.scratch != nil {
		st.scratch = nil
		st.scratchBuf.Free()
	}
}
