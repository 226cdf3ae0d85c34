package wasm

import (
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

func basic(t *testing.T) *Module {
	t.Helper()
	b, err := os.ReadFile("testdata/basic.wasm")
	if err != nil {
		t.Fatal(err)
	}
	// A custom section "note" holding "hello" (wat2wasm writes none).
	b = append(b, 0, 10, 4, 'n', 'o', 't', 'e', 'h', 'e', 'l', 'l', 'o')
	m, err := Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Release)
	return m
}

func exportIndex(t *testing.T, m *Module, name string) int {
	t.Helper()
	for i, ex := range m.Exports() {
		if ex.Name == name {
			return i
		}
	}
	t.Fatalf("no export %q", name)
	return 0
}

func instantiateBasic(t *testing.T, m *Module, budget *Budget, twice HostFunc) *Instance {
	t.Helper()
	if twice == nil {
		twice = func(s []uint64) { s[0] = uint64(uint32(int32(s[0]) * 2)) }
	}
	inst, err := m.Instantiate(context.Background(), []Extern{{Func: twice}, {Func: func([]uint64) {}}}, budget)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inst.Close)
	return inst
}

// caller calls inst's exports by name, failing the test on an error.
func caller(t *testing.T, inst *Instance) func(name string, args ...uint64) []uint64 {
	return func(name string, args ...uint64) []uint64 {
		t.Helper()
		stack := make([]uint64, 4)
		copy(stack, args)
		if err := inst.Call(context.Background(), exportIndex(t, inst.Module(), name), stack); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return stack
	}
}

func TestShape(t *testing.T) {
	m := basic(t)
	var imports []string
	for _, im := range m.Imports() {
		imports = append(imports, im.Module+"."+im.Name+":"+string(im.Kind))
	}
	if want := []string{"env.twice:function", "env.note:function"}; !reflect.DeepEqual(imports, want) {
		t.Errorf("imports %v, want %v", imports, want)
	}
	var exports []string
	for _, ex := range m.Exports() {
		exports = append(exports, ex.Name+":"+string(ex.Kind))
	}
	if exports[0] != "memory:memory" || exports[1] != "counter:global" || exports[3] != "add:function" {
		t.Errorf("exports out of order: %v", exports)
	}
	ft, err := m.ExportFunc(exportIndex(t, m, "mul64"))
	if err != nil || !reflect.DeepEqual(ft, &FuncType{Params: []ValType{I64, I64}, Results: []ValType{I64}}) {
		t.Errorf("mul64's type %+v %v", ft, err)
	}
	if typ, mut, err := m.ExportGlobal(exportIndex(t, m, "counter")); typ != I32 || !mut || err != nil {
		t.Errorf("counter: %x %v %v", typ, mut, err)
	}
	if cs := m.CustomSections("note"); len(cs) != 1 || string(cs[0]) != "hello" {
		t.Errorf("custom sections %q", cs)
	}
}

func TestCompileShares(t *testing.T) {
	a, b := basic(t), basic(t)
	if a != b {
		t.Error("the same bytes compiled twice")
	}
	if _, err := Compile([]byte("nope")); err == nil || !errors.As(err, new(*CompileError)) {
		t.Errorf("bad bytes: %v", err)
	}
}

func TestCalls(t *testing.T) {
	m := basic(t)
	inst := instantiateBasic(t, m, NewBudget(16<<20), nil)
	call := caller(t, inst)
	if r := call("add", 40, 2); r[0] != 42 {
		t.Errorf("add: %d", r[0])
	}
	if r := call("mul64", uint64(1)<<40, 3); r[0] != 3<<40 {
		t.Errorf("mul64: %d", r[0])
	}
	if r := call("half32", uint64(math.Float32bits(5))); math.Float32frombits(uint32(r[0])) != 2.5 {
		t.Errorf("half32: %v", r[0])
	}
	if r := call("sqrt", math.Float64bits(2.25)); math.Float64frombits(r[0]) != 1.5 {
		t.Errorf("sqrt: %v", r[0])
	}
	if r := call("callTwice", 21); r[0] != 42 {
		t.Errorf("callTwice: %d", r[0])
	}
	if r := call("twoResults"); r[0] != 1 || r[1] != 2 {
		t.Errorf("twoResults: %v", r[:2])
	}
	call("store", 10, 200)
	mem := inst.Memory()
	if got := unsafe.Slice((*byte)(unsafe.Add(nil, mem.Base())), mem.Size())[10]; got != 200 {
		t.Errorf("memory seen from Go: %d", got)
	}
	if r := call("bump"); r[0] != 8 {
		t.Errorf("bump: %d", r[0])
	}
	if g, _ := inst.Global(exportIndex(t, m, "counter")); g != 8 {
		t.Errorf("counter: %d", g)
	}
}

func TestTraps(t *testing.T) {
	m := basic(t)
	inst := instantiateBasic(t, m, NewBudget(16<<20), nil)
	for _, c := range []struct {
		name string
		args []uint64
		want string
	}{
		{"trap", nil, "unreachable"},
		{"div", []uint64{1, 0}, "divide by zero"},
		{"div", []uint64{0x80000000, 0xffffffff}, "divide result unrepresentable"},
		{"load", []uint64{1 << 20}, "memory access out of bounds"},
		{"nullCall", nil, "table index is out of bounds"}, // wazero tells a null slot from one past the end in neither case
		{"deep", []uint64{0}, "Maximum call stack size exceeded"},
	} {
		stack := make([]uint64, 2)
		copy(stack, c.args)
		err := inst.Call(context.Background(), exportIndex(t, m, c.name), stack)
		var trap *Trap
		if !errors.As(err, &trap) || trap.Msg != c.want {
			t.Errorf("%s: %v, want trap %q", c.name, err, c.want)
		}
	}
	// The instance is still usable after traps.
	stack := []uint64{1, 2}
	if err := inst.Call(context.Background(), exportIndex(t, m, "add"), stack); err != nil || stack[0] != 3 {
		t.Errorf("add after traps: %v %v", stack, err)
	}
}

func TestHostPanicAndReentry(t *testing.T) {
	m := basic(t)
	boom := errors.New("thrown by the import")
	var inst *Instance
	depth := 0
	inst = instantiateBasic(t, m, NewBudget(16<<20), func(s []uint64) {
		if s[0] == 99 {
			panic(boom)
		}
		depth++
		// Re-enter the same export the import was called from.
		if depth < 3 {
			inner := []uint64{s[0] + 1}
			if err := inst.Call(context.Background(), exportIndex(t, inst.Module(), "callTwice"), inner); err != nil {
				panic(err)
			}
			s[0] = inner[0]
			return
		}
		s[0] *= 2
	})
	stack := []uint64{99}
	if err := inst.Call(context.Background(), exportIndex(t, m, "callTwice"), stack); !errors.Is(err, boom) {
		t.Errorf("a panicking import: %v", err)
	}
	stack = []uint64{1}
	if err := inst.Call(context.Background(), exportIndex(t, m, "callTwice"), stack); err != nil || stack[0] != 6 {
		t.Errorf("re-entered: %v %v", stack[0], err)
	}
}

func TestDeadline(t *testing.T) {
	m := basic(t)
	inst := instantiateBasic(t, m, NewBudget(16<<20), nil)
	time.AfterFunc(50*time.Millisecond, inst.Stop)
	err := inst.Call(context.Background(), exportIndex(t, m, "spin"), make([]uint64, 1))
	var trap *Trap
	if !errors.As(err, &trap) || !trap.Deadline {
		t.Fatalf("spin: %v", err)
	}
}

func TestMemoryBudget(t *testing.T) {
	m := basic(t)
	budget := NewBudget(3 << 16) // three pages for all instances
	var resized []uint64
	budget.OnResize = func(mem *Memory) { resized = append(resized, mem.Size()) }
	a := instantiateBasic(t, m, budget, nil)
	base := a.Memory().Base()
	stack := []uint64{1}
	if err := a.Call(context.Background(), exportIndex(t, m, "grow"), stack); err != nil || stack[0] != 1 {
		t.Fatalf("grow: %v %v", stack, err)
	}
	if a.Memory().Base() != base {
		t.Error("growing moved the memory")
	}
	b := instantiateBasic(t, m, budget, nil)
	stack = []uint64{1}
	if err := b.Call(context.Background(), exportIndex(t, m, "grow"), stack); err != nil || int32(stack[0]) != -1 {
		t.Errorf("grow past the budget: %v %v", int32(stack[0]), err)
	}
	if _, err := m.Instantiate(context.Background(), []Extern{{Func: func([]uint64) {}}, {Func: func([]uint64) {}}}, budget); !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("an instance past the budget: %v", err)
	}
	if got := budget.Used(); got != 3<<16 {
		t.Errorf("used %d", got)
	}
	b.Close()
	if got := budget.Used(); got != 2<<16 {
		t.Errorf("used after a close %d", got)
	}
	if want := []uint64{1 << 16, 2 << 16, 1 << 16, 0}; !reflect.DeepEqual(resized, want) {
		t.Errorf("resizes %v, want %v", resized, want)
	}
}

// A module that imports a memory and fails to instantiate (its start
// function traps) leaves the memory to its owner, mapped and counted.
func TestFailedImporterKeepsMemory(t *testing.T) {
	budget := NewBudget(1 << 20)
	owner, err := Compile(MemoryModule(Limits{Min: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Release()
	mem, err := owner.Instantiate(context.Background(), nil, budget)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	b, err := os.ReadFile("testdata/importmem.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	_, err = m.Instantiate(context.Background(), []Extern{{From: mem, Name: "m"}}, budget)
	var trap *Trap
	if !errors.As(err, &trap) || trap.Msg != "unreachable" {
		t.Fatalf("instantiate: %v", err)
	}
	if got := unsafe.Slice((*byte)(unsafe.Add(nil, mem.Memory().Base())), mem.Memory().Size())[3]; got != 9 {
		t.Errorf("the start function's store: %d", got)
	}
	if budget.Used() != 1<<16 {
		t.Errorf("used %d", budget.Used())
	}
}

// The call depth count (instrument.go) follows every way out of a
// function: a return, a branch out of the body, the end; a recursion too
// deep traps as V8's stack overflow, at once, and leaves the count as the
// call found it.
func TestCallDepth(t *testing.T) {
	m := basic(t)
	inst := instantiateBasic(t, m, NewBudget(16<<20), nil)
	ctx := context.Background()
	call := caller(t, inst)
	for i := range 3 * maxDepthUnits {
		if r := call("early", uint64(i%2)); r[0] != uint64(7+2*(1-i%2)) {
			t.Fatalf("early(%d) = %d", i%2, r[0])
		}
		if r := call("earlyPair", uint64(i%2)); r[0] != uint64(5-2*(i%2)) || r[1] != uint64(6-2*(i%2)) {
			t.Fatalf("earlyPair(%d) = %v", i%2, r)
		}
	}
	start := time.Now()
	err := inst.Call(ctx, exportIndex(t, m, "deep"), make([]uint64, 1))
	var trap *Trap
	if !errors.As(err, &trap) || !trap.Overflow || trap.Msg != "Maximum call stack size exceeded" {
		t.Fatalf("deep: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the overflow took %v", took)
	}
	if d := inst.depth.Get(); d != 0 {
		t.Errorf("depth after the overflow: %d", d)
	}
	call("early", 1)
}

// The instrumentation reads instructions of every proposal the engine
// takes (SIMD, bulk memory, reference types, saturating truncation, sign
// extension) and leaves their meaning alone.
func TestInstrumentedFeatures(t *testing.T) {
	b, err := os.ReadFile("testdata/features.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	inst, err := m.Instantiate(context.Background(), nil, NewBudget(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	for _, c := range []struct {
		name string
		arg  uint64
		want uint32
	}{{"simd", 0, 3}, {"bulk", 0, 7}, {"misc", math.Float64bits(1e12), 0x7fffffff - 1}, {"refs", 0, 42}, {"loops", 100, 5050}} {
		stack := []uint64{c.arg}
		if err := inst.Call(context.Background(), exportIndex(t, m, c.name), stack); err != nil || uint32(stack[0]) != c.want {
			t.Errorf("%s: %d %v, want %d", c.name, int32(stack[0]), err, c.want)
		}
	}
}
