// Package wasm runs WebAssembly for workers: modules compiled once per
// process (wazero's compiler, no cgo), instances an isolate owns, linear
// memories at fixed addresses so JavaScript's ArrayBuffers can alias them,
// and traps reported in the reference's (V8's) words. It knows nothing of
// JavaScript; internal/runtime's "wasm" host group joins the two.
package wasm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// engine is the process's one wazero runtime. One runtime for all isolates
// lets every tenant that ships the same module share its machine code;
// what keeps tenants apart is that each instance has memories, globals
// and tables of its own, and imports only what its isolate hands it.
var engine struct {
	once     sync.Once
	rt       wazero.Runtime
	mu       sync.Mutex
	compiled map[[32]byte]*Module
}

// cacheDir is where compiled machine code is kept between runs (UseCacheDir).
var cacheDir string

// UseCacheDir keeps the machine code of compiled modules in dir, so that a
// restarted process loads it instead of compiling again: wazero's compiler
// takes over a second for a module of a few MB (measured here: 1.3–1.7 s for
// resvg's 2.4 MB, 65 ms from the cache). It takes effect if called before
// the first module is compiled, and only if dir can be written: wazero fails
// a compile whose code it cannot store.
func UseCacheDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "probe-*")
	if err != nil {
		return err
	}
	f.Close()
	os.Remove(f.Name())
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.rt == nil {
		cacheDir = dir
	}
	return nil
}

func runtime() wazero.Runtime {
	engine.once.Do(func() {
		// No WithCloseOnContextDone: Isola stops runaway code with checks of
		// its own (instrument.go).
		cfg := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2)
		engine.mu.Lock()
		if cacheDir != "" {
			if cache, err := wazero.NewCompilationCacheWithDir(cacheDir); err == nil {
				cfg = cfg.WithCompilationCache(cache)
			}
		}
		engine.mu.Unlock()
		rt := wazero.NewRuntimeWithConfig(context.Background(), cfg)
		engine.mu.Lock()
		engine.rt, engine.compiled = rt, map[[32]byte]*Module{}
		engine.mu.Unlock()
	})
	return engine.rt
}

// Module is a compiled module, shared by every script whose code holds the
// same bytes. Compile and Release count its users; the machine code is freed
// with the last.
type Module struct {
	key      [32]byte
	compiled wazero.CompiledModule
	shape    *shape
	refs     int
	bytes    []byte
}

// Bytes is the binary m was compiled from.
func (m *Module) Bytes() []byte { return m.bytes }

// CompileError is a module that does not compile, in the words the
// JavaScript API's CompileError carries.
type CompileError struct{ Msg string }

func (e *CompileError) Error() string { return e.Msg }

// Compile compiles b, or takes the module already compiled from the same
// bytes.
func Compile(b []byte) (*Module, error) {
	rt := runtime()
	key := sha256.Sum256(b)
	engine.mu.Lock()
	if m := engine.compiled[key]; m != nil {
		m.refs++
		engine.mu.Unlock()
		return m, nil
	}
	engine.mu.Unlock()
	if len(b) < 4 {
		return nil, &CompileError{"expected 4 bytes, fell off end @+0"}
	}
	if string(b[:4]) != "\x00asm" {
		return nil, &CompileError{"expected magic word 00 61 73 6d, found " + leading(b) + " @+0"}
	}
	if len(b) < 8 {
		return nil, &CompileError{"expected 4 bytes, fell off end @+4"}
	}
	sh, err := parse(b)
	var code []byte
	if err == nil {
		code, err = instrument(b, sh)
	}
	if err != nil {
		// The compiler words what is wrong with a module best; a module it
		// takes that Isola could not read is Isola's to explain.
		if _, cerr := rt.CompileModule(context.Background(), b); cerr != nil {
			return nil, compileError(cerr)
		}
		return nil, &CompileError{"Isola cannot read this module: " + err.Error()}
	}
	cm, err := rt.CompileModule(context.Background(), code)
	if err != nil {
		return nil, compileError(err)
	}
	m := &Module{key: key, compiled: cm, shape: sh, refs: 1, bytes: b}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if other := engine.compiled[key]; other != nil {
		// Compiled meanwhile by another isolate.
		other.refs++
		cm.Close(context.Background())
		return other, nil
	}
	engine.compiled[key] = m
	return m, nil
}

func compileError(err error) *CompileError {
	msg := strings.TrimPrefix(err.Error(), "invalid ")
	if m := badFunction.FindStringSubmatch(msg); m != nil {
		msg = "Compiling function #" + m[1] + " failed: " + m[2]
	}
	return &CompileError{msg}
}

// badFunction is wazero's word for a function that does not validate.
var badFunction = regexp.MustCompile(`(?s)^function\[(\d+)\]: (.*)`)

func leading(b []byte) string {
	var s []string
	for _, c := range b[:min(4, len(b))] {
		s = append(s, fmt.Sprintf("%02x", c))
	}
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, " ")
}

// Release drops a user of m; the last frees its machine code.
func (m *Module) Release() {
	engine.mu.Lock()
	m.refs--
	last := m.refs == 0
	if last {
		delete(engine.compiled, m.key)
	}
	engine.mu.Unlock()
	if last {
		m.compiled.Close(context.Background())
	}
}

// Imports lists the module's imports in declaration order.
func (m *Module) Imports() []Import { return m.shape.imports }

// Exports lists the module's exports in declaration order.
func (m *Module) Exports() []Export { return m.shape.exports }

// CustomSections lists the contents of the custom sections called name.
func (m *Module) CustomSections(name string) [][]byte {
	var out [][]byte
	for _, c := range m.shape.custom {
		if c.Name == name {
			out = append(out, c.Data)
		}
	}
	return out
}

// ExportFunc is the signature of export i, a function.
func (m *Module) ExportFunc(i int) (*FuncType, error) { return m.shape.exportFunc(m.shape.exports[i]) }

// ExportGlobal is the type of export i, a global.
func (m *Module) ExportGlobal(i int) (ValType, bool, error) {
	return m.shape.exportGlobal(m.shape.exports[i])
}

// ExportLimits are the declared sizes of export i, a memory or a table
// (for a table, also its element type).
func (m *Module) ExportLimits(i int) (Limits, ValType, error) {
	ex := m.shape.exports[i]
	var t Import
	var err error
	if ex.Kind == KindTable {
		t, err = m.shape.exportTable(ex)
	} else {
		t, err = m.shape.indexed(KindMemory, m.shape.memories, ex.Index)
	}
	return t.Limits, t.Global, err
}

// HostFunc is a function import: params on the stack on entry, results
// written there before it returns. To throw, it panics with an error, which
// the Call that entered the module returns (errors.Is sees it).
type HostFunc func(stack []uint64)

// Extern is what one import is linked to: a HostFunc, an export (Name) of
// another instance (a function, global, memory or table), or, for an
// immutable global, a constant (Bits).
type Extern struct {
	Func HostFunc
	From *Instance
	Name string
	Bits uint64
}

// Instance is an instantiated module. It belongs to one isolate and is
// used from its goroutine only.
type Instance struct {
	module *Module
	mod    api.Module
	// linked are the modules made to link its imports (host functions,
	// glue), closed with it.
	linked   []api.Module
	linkCode []wazero.CompiledModule
	// memory is the instance's own memory (MVP modules have at most one).
	memory *Memory
	// funcs are the exported functions, by export index, each a stack of
	// handles: a wazero function handle runs one call at a time, and a call
	// may re-enter the same export through an import.
	funcs map[int][]api.Function
	// tables are the helpers reaching into its exported tables, by export
	// index, made on first use.
	tables map[int]*tableHelper
	// stop is the global its code checks (instrument.go); stopped, whether
	// Stop set it.
	stop    api.MutableGlobal
	stopped atomic.Bool
	// depth and overflow are the call depth count and its trap's flag
	// (instrument.go's frame checks).
	depth, overflow api.MutableGlobal
}

// Instantiate links imports (one per import, in import order) and
// instantiates m, its memory drawn from budget. The caller has checked
// that each import fits (62_wasm.js words the LinkErrors as V8 does); what
// it missed, wazero refuses.
//
// wazero resolves a module's imports by module name, to one instance per
// name. So each name's functions become one host module, and a name that
// also brings globals, memories or tables (or another instance's
// functions) gets a glue module of its own making, which imports each from
// where it lives and exports it under the name asked for.
func (m *Module) Instantiate(ctx context.Context, imports []Extern, budget *Budget) (_ *Instance, err error) {
	if len(imports) != len(m.shape.imports) {
		return nil, fmt.Errorf("wasm: %d imports, %d given", len(m.shape.imports), len(imports))
	}
	inst := &Instance{module: m, funcs: map[int][]api.Function{}}
	defer func() {
		if err != nil {
			inst.Close()
		}
	}()
	byModule := map[string][]int{}
	var order []string
	for i, im := range m.shape.imports {
		if _, ok := byModule[im.Module]; !ok {
			order = append(order, im.Module)
		}
		byModule[im.Module] = append(byModule[im.Module], i)
	}
	resolved := map[string]api.Module{}
	for _, modName := range order {
		mod, err := inst.link(ctx, m, modName, byModule[modName], imports)
		if err != nil {
			return nil, err
		}
		resolved[modName] = mod
	}
	ctx = experimental.WithImportResolver(ctx, func(name string) api.Module { return resolved[name] })
	ctx = experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		mem := budget.reserve(capacity, max)
		if mem != nil {
			inst.memory = mem
		}
		return mem
	}))
	mod, err := instantiate(ctx, runtime(), m.compiled)
	if err != nil {
		return nil, instantiateError(err)
	}
	inst.mod = mod
	inst.stop, _ = mod.ExportedGlobal(stopExport).(api.MutableGlobal)
	inst.depth, _ = mod.ExportedGlobal(depthExport).(api.MutableGlobal)
	inst.overflow, _ = mod.ExportedGlobal(overflowExport).(api.MutableGlobal)
	return inst, nil
}

// Stop makes the instance's running code trap at its next function entry
// or loop iteration, and every call after. Any goroutine may call it: it is
// how a call past its isolate's CPU deadline ends.
func (inst *Instance) Stop() {
	inst.stopped.Store(true)
	if inst.stop != nil {
		inst.stop.Set(1)
	}
}

// link makes the instance that answers module name modName's imports.
func (inst *Instance) link(ctx context.Context, m *Module, modName string, idx []int, imports []Extern) (api.Module, error) {
	rt := runtime()
	seen := map[string]bool{}
	var host wazero.HostModuleBuilder
	glue := false
	for _, i := range idx {
		im := m.shape.imports[i]
		if seen[im.Name] {
			return nil, &LinkError{fmt.Sprintf("Import #%d %q %q: a name imported twice is not supported by Isola yet", i, im.Module, im.Name)}
		}
		seen[im.Name] = true
		if im.Kind == KindFunction && imports[i].Func != nil {
			if host == nil {
				host = rt.NewHostModuleBuilder(modName)
			}
			f := imports[i].Func
			host.NewFunctionBuilder().
				WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) { f(stack) }),
					apiTypes(im.Func.Params), apiTypes(im.Func.Results)).
				Export(im.Name)
			continue
		}
		if imports[i].From == nil && im.Kind != KindGlobal {
			return nil, &LinkError{fmt.Sprintf("Import #%d %q %q: nothing to link", i, im.Module, im.Name)}
		}
		glue = true
	}
	var hostMod api.Module
	if host != nil {
		// Compiled and instantiated in two steps: the resolver must be given
		// the instance itself, which the builder's Instantiate wraps.
		hc, err := host.Compile(ctx)
		if err != nil {
			return nil, err
		}
		inst.linkCode = append(inst.linkCode, hc)
		if hostMod, err = rt.InstantiateModule(ctx, hc, wazero.NewModuleConfig().WithName("")); err != nil {
			return nil, err
		}
		inst.linked = append(inst.linked, hostMod)
	}
	if !glue {
		return hostMod, nil
	}
	code, sources := glueModule(m.shape, idx, imports)
	gc, err := rt.CompileModule(ctx, code)
	if err != nil {
		return nil, &LinkError{err.Error()}
	}
	inst.linkCode = append(inst.linkCode, gc)
	gctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
		if name == "f" {
			return hostMod
		}
		var k int
		if _, err := fmt.Sscanf(name, "s%d", &k); err == nil && k < len(sources) {
			return sources[k].mod
		}
		return nil
	})
	g, err := rt.InstantiateModule(gctx, gc, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, &LinkError{err.Error()}
	}
	inst.linked = append(inst.linked, g)
	return g, nil
}

// glueModule is the binary of the module that re-exports imports idx (all
// of one module name) from where imports says each lives, and the
// instances it imports from ("s0", "s1", ...; host functions come from "f").
func glueModule(sh *shape, idx []int, imports []Extern) ([]byte, []*Instance) {
	var types, imps, globals, exports []byte
	nTypes, nImps, nGlobals := 0, 0, 0
	var sources []*Instance
	sourceOf := map[*Instance]int{}
	counts := map[Kind]int{} // imported items per kind, for the index spaces
	type export struct {
		name string
		kind Kind
		pos  int // among the glue's imports of its kind; -1: a defined global
		def  int // among defined globals
	}
	var exps []export
	for _, i := range idx {
		im, ex := sh.imports[i], imports[i]
		from, field := "f", im.Name
		if ex.From != nil {
			k, ok := sourceOf[ex.From]
			if !ok {
				k = len(sources)
				sourceOf[ex.From] = k
				sources = append(sources, ex.From)
			}
			from, field = fmt.Sprintf("s%d", k), ex.Name
		}
		switch {
		case im.Kind == KindGlobal && ex.From == nil:
			globals = constExpr(append(globals, byte(im.Global), 0), im.Global, ex.Bits)
			exps = append(exps, export{im.Name, KindGlobal, -1, nGlobals})
			nGlobals++
			continue
		case im.Kind == KindFunction:
			types = funcType(types, im.Func)
			imps = name(name(imps, from), field)
			imps = append(imps, 0)
			imps = uleb(imps, uint64(nTypes))
			nTypes++
		case im.Kind == KindGlobal:
			imps = name(name(imps, from), field)
			mut := byte(0)
			if im.Mutable {
				mut = 1
			}
			imps = append(imps, 3, byte(im.Global), mut)
		case im.Kind == KindMemory:
			imps = name(name(imps, from), field)
			imps = limits(append(imps, 2), Limits{})
		case im.Kind == KindTable:
			imps = name(name(imps, from), field)
			imps = limits(append(imps, 1, byte(im.Global)), Limits{})
		}
		exps = append(exps, export{im.Name, im.Kind, counts[im.Kind], 0})
		counts[im.Kind]++
		nImps++
	}
	kindByte := map[Kind]byte{KindFunction: 0, KindTable: 1, KindMemory: 2, KindGlobal: 3}
	for _, e := range exps {
		exports = name(exports, e.name)
		exports = append(exports, kindByte[e.kind])
		if e.pos < 0 {
			exports = uleb(exports, uint64(counts[KindGlobal]+e.def))
		} else {
			exports = uleb(exports, uint64(e.pos))
		}
	}
	b := newBinary()
	b.section(1, nTypes, types)
	b.section(2, nImps, imps)
	b.section(6, nGlobals, globals)
	b.section(7, len(exps), exports)
	return b.b, sources
}

// instantiate is wazero's InstantiateModule, except that a memory the
// budget refuses at its initial size is an error: wazero assumes an
// allocator always gives the initial size, and panics otherwise.
func instantiate(ctx context.Context, rt wazero.Runtime, cm wazero.CompiledModule) (mod api.Module, err error) {
	defer func() {
		if r := recover(); r != nil {
			mod, err = nil, ErrOutOfMemory
		}
	}()
	return rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
}

// ErrOutOfMemory is an instance whose memory's initial size the budget
// refuses.
var ErrOutOfMemory = errors.New("Out of memory: Cannot allocate Wasm memory for new instance")

func apiTypes(ts []ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// LinkError is an instantiation refused for its imports, in the words the
// JavaScript API's LinkError carries.
type LinkError struct{ Msg string }

func (e *LinkError) Error() string { return e.Msg }

func instantiateError(err error) error {
	var le *LinkError
	if errors.As(err, &le) || errors.Is(err, ErrOutOfMemory) {
		return err
	}
	if t := trapOf(err); t != nil {
		return t // the start function trapped
	}
	return &LinkError{err.Error()}
}

// Close frees the instance (its memory goes back to the budget).
func (inst *Instance) Close() {
	ctx := context.Background()
	for _, t := range inst.tables {
		t.close()
	}
	if inst.mod != nil {
		inst.mod.Close(ctx)
	}
	for _, h := range inst.linked {
		h.Close(ctx)
	}
	for _, c := range inst.linkCode {
		c.Close(ctx)
	}
	if inst.memory != nil {
		inst.memory.release()
	}
	inst.linked, inst.linkCode, inst.mod, inst.tables = nil, nil, nil, nil
}

// Module is what inst was instantiated from.
func (inst *Instance) Module() *Module { return inst.module }

// Memory is the instance's memory, nil if it has none.
func (inst *Instance) Memory() *Memory { return inst.memory }

// Call calls export i, a function: params on stack on entry, results on
// return. A trap comes back as a *Trap; what a HostFunc panicked with comes
// back wrapped.
func (inst *Instance) Call(ctx context.Context, i int, stack []uint64) error {
	if inst.mod == nil {
		return &Trap{Msg: "the instance was closed"}
	}
	var f api.Function
	if free := inst.funcs[i]; len(free) > 0 {
		f = free[len(free)-1]
		inst.funcs[i] = free[:len(free)-1]
	} else if f = inst.mod.ExportedFunction(inst.module.shape.exports[i].Name); f == nil {
		return fmt.Errorf("wasm: export %d is not a function", i)
	}
	var depth uint64
	if inst.depth != nil {
		depth = inst.depth.Get()
	}
	err := f.CallWithStack(ctx, stack)
	inst.funcs[i] = append(inst.funcs[i], f)
	if err == nil {
		return nil
	}
	return inst.failed(err, depth)
}

// failed words an error a call into inst ended with, and puts the call
// depth count back where the call found it: the frames a trap or an
// exception unwound did not count themselves down.
func (inst *Instance) failed(err error, depth uint64) error {
	overflowed := false
	if inst.depth != nil {
		inst.depth.Set(depth)
		overflowed = inst.overflow.Get() != 0
		inst.overflow.Set(0)
	}
	if t := trapOf(err); t != nil {
		switch {
		case inst.stopped.Load():
			return &Trap{Msg: "the CPU time limit was exceeded", Deadline: true}
		case overflowed:
			return &Trap{Msg: trapWords["stack overflow"], Overflow: true}
		}
		return t
	}
	return err
}

// Global reads export i, a global, as its raw bits.
func (inst *Instance) Global(i int) (uint64, error) {
	if inst.mod == nil {
		return 0, &Trap{Msg: "the instance was closed"}
	}
	g := inst.mod.ExportedGlobal(inst.module.shape.exports[i].Name)
	if g == nil {
		return 0, fmt.Errorf("wasm: export %d is not a global", i)
	}
	return g.Get(), nil
}

// SetGlobal writes export i, a mutable global.
func (inst *Instance) SetGlobal(i int, v uint64) error {
	if inst.mod == nil {
		return &Trap{Msg: "the instance was closed"}
	}
	g, ok := inst.mod.ExportedGlobal(inst.module.shape.exports[i].Name).(api.MutableGlobal)
	if !ok {
		return fmt.Errorf("wasm: export %d is not a mutable global", i)
	}
	g.Set(v)
	return nil
}

// Trap is a WebAssembly trap, in V8's words.
type Trap struct {
	Msg string
	// Stack is a call past its isolate's CPU deadline, or into an
	// instance a deadline closed.
	Deadline bool
	// Overflow is a stack overflow (V8 throws a RangeError for it).
	Overflow bool
}

func (t *Trap) Error() string { return t.Msg }

// trapWords maps wazero's trap messages to V8's.
var trapWords = map[string]string{
	"unreachable":                   "unreachable",
	"integer divide by zero":        "divide by zero",
	"integer overflow":              "divide result unrepresentable",
	"invalid conversion to integer": "float unrepresentable in integer range",
	"out of bounds memory access":   "memory access out of bounds",
	"invalid table access":          "table index is out of bounds",
	"indirect call type mismatch":   "function signature mismatch",
	"null reference":                "dereferencing a null pointer",
	"unaligned atomic":              "operation does not support unaligned accesses",
	"stack overflow":                "Maximum call stack size exceeded",
}

// trapOf recognises a trap (or a deadline) in an error from wazero; nil
// for anything else, such as a HostFunc's panic.
func trapOf(err error) *Trap {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			return &Trap{Msg: "the CPU time limit was exceeded", Deadline: true}
		}
		if strings.Contains(err.Error(), "has closed with exit_code") {
			return &Trap{Msg: "the instance was closed", Deadline: true}
		}
		return &Trap{Msg: err.Error()}
	}
	msg := err.Error()
	if msg == "stack overflow" { // wazero's, unwrapped
		return &Trap{Msg: trapWords[msg], Overflow: true}
	}
	// A start function's trap comes wrapped: "start function[0] failed:
	// wasm error: ...".
	at := strings.Index(msg, "wasm error: ")
	if at < 0 {
		return nil
	}
	msg = msg[at+len("wasm error: "):]
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if w, ok := trapWords[msg]; ok {
		return &Trap{Msg: w, Overflow: msg == "stack overflow"}
	}
	return &Trap{Msg: msg}
}
