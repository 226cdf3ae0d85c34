package jsvm

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// snapshotSource builds the kinds of state a prelude leaves behind: classes,
// closures over private state, Maps and Sets with string keys, symbols,
// getters, a promise, a function kept by Go.
const snapshotSource = `
const kSecret = Symbol("secret");
class Counter {
  #n = 0;
  constructor(name) { this.name = name; this[kSecret] = name.length; }
  inc() { return ++this.#n; }
  get doubled() { return this.#n * 2; }
}
const registry = new Map([["a", 1], ["b", 2]]);
const names = new Set(["x", "y"]);
const counters = [];
for (let i = 0; i < 50; i++) counters.push(new Counter("c" + i));
let calls = 0;
globalThis.settled = null;
Promise.resolve(41).then((v) => { globalThis.settled = v + 1; });
globalThis.work = function (name) {
  calls++;
  const c = counters[calls % counters.length];
  c.inc();
  registry.set(name, calls);
  names.add(name);
  const o = { a: 1, b: "two", c: [1, 2, 3], d: { e: c.doubled } };
  return JSON.stringify({ calls, name: c.name, secret: c[kSecret], reg: registry.get(name), size: names.size, o, host: hostAdd(calls, 1) });
};
work;
`

func buildSnapshotVM(t testing.TB) func() (*quickjs.VM, []quickjs.Value, error) {
	return func() (*quickjs.VM, []quickjs.Value, error) {
		vm, err := quickjs.NewVM()
		if err != nil {
			return nil, nil, err
		}
		if err := RegisterHost(vm, "hostAdd", func(a, b int) int { return a + b }); err != nil {
			return vm, nil, err
		}
		v, err := vm.EvalValue(snapshotSource, quickjs.EvalGlobal)
		if err != nil {
			return vm, nil, err
		}
		if _, err := vm.ExecutePendingJobs(); err != nil {
			return vm, nil, err
		}
		return vm, []quickjs.Value{v}, nil
	}
}

func TestSnapshotClones(t *testing.T) {
	s, err := NewSnapshot(buildSnapshotVM(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: %d bytes in %d blocks, %d pointers, %d hashed shapes", len(s.data), len(s.blocks), len(s.relocs), len(s.shapes))
	// The clones share one binding; each gets its own receiver.
	type base struct{ n int }
	binding, err := s.NewHostBinding(map[string]any{"hostAdd": func(b *base, x, y int) int { return x + y + b.n }}, reflect.TypeFor[*base]())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewHostBinding(map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "hostAdd") {
		t.Errorf("a binding without hostAdd: %v", err)
	}
	var vms []*quickjs.VM
	var randoms []string
	for i := range 20 {
		vm, values, err := s.Clone()
		if err != nil {
			t.Fatal(err)
		}
		vms = append(vms, vm)
		if err := BindHost(vm, binding, "not a *base"); err == nil {
			t.Fatal("BindHost took a receiver of the wrong type")
		}
		if err := BindHost(vm, binding, &base{1000 * (i + 1)}); err != nil {
			t.Fatal(err)
		}
		// The value kept by Go is the clone's function.
		r, err := values[0].Call(quickjs.UndefinedValue, fmt.Sprintf("n%d", i))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"calls":1,"name":"c1","secret":2,"reg":1,"size":3,"o":{"a":1,"b":"two","c":[1,2,3],"d":{"e":2}},"host":%d}`, 1000*(i+1)+2)
		if r != want {
			t.Fatalf("clone %d: %v, want %s", i, r, want)
		}
		values[0].Free()
		// New objects, shapes and garbage collection work on the clone.
		got, err := vm.Eval(`
			const made = [];
			for (let i = 0; i < 2000; i++) made.push({ a: i, b: String(i), ["k" + (i % 7)]: [i] });
			class Later extends Map { constructor() { super(); this.set("q", 1); } }
			const l = new Later();
			made.length + ":" + l.get("q") + ":" + settled + ":" + work("again") + ":" + typeof Counter`, quickjs.EvalGlobal)
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(got); !strings.HasPrefix(s, `2000:1:42:{"calls":2,"name":"c2"`) || !strings.HasSuffix(s, fmt.Sprintf(`"host":%d}:function`, 1000*(i+1)+3)) {
			t.Fatalf("clone %d: %s", i, s)
		}
		if _, err := vm.Eval(`globalThis.gc && gc()`, quickjs.EvalGlobal); err != nil {
			t.Fatal(err)
		}
		RunGC(vm)
		rnd, err := vm.Eval(`String(Math.random())`, quickjs.EvalGlobal)
		if err != nil {
			t.Fatal(err)
		}
		randoms = append(randoms, rnd.(string))
	}
	if randoms[0] == randoms[1] {
		t.Errorf("two clones drew the same Math.random(): %s", randoms[0])
	}
	for _, vm := range vms {
		if err := Close(vm); err != nil {
			t.Fatal(err)
		}
	}
}

// A runtime another goroutine makes while a template is being built must not
// take the template's recording (a recording heap never reuses its frees).
func TestRecordingIsTheBuildersOnly(t *testing.T) {
	rec := &recording{goroutine: goroutineID(), seq: map[uintptr]uint64{}}
	recordNext.Store(rec)
	defer recordNext.CompareAndSwap(rec, nil)
	done := make(chan *engineHeap)
	go func() {
		vm, err := quickjs.NewVM()
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		h := heaps.get(rtOf(vm).Fmalloc_ctx.Fmalloc_state.Fopaque)
		done <- h
		Close(vm)
	}()
	if h := <-done; h == nil || h.rec != nil {
		t.Fatal("another goroutine's runtime took the recording")
	}
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer Close(vm)
	if h := heaps.get(rtOf(vm).Fmalloc_ctx.Fmalloc_state.Fopaque); h == nil || h.rec != rec {
		t.Fatal("the builder's runtime did not take the recording")
	}
}

func rtOf(vm *quickjs.VM) *lib.TJSRuntime {
	return (*lib.TJSRuntime)(unsafe.Add(nil, mirror(vm).runtime.cRuntime))
}
