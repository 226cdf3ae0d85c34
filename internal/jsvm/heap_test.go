package jsvm

import (
	"strings"
	"testing"
	"unsafe"

	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// liveHeaps counts the runtimes whose blocks are tracked, and their blocks.
func liveHeaps() (n, blocks int) {
	heaps.mu.Lock()
	defer heaps.mu.Unlock()
	for _, pg := range heaps.pages {
		if pg == nil {
			continue
		}
		for _, h := range pg {
			if h != nil {
				n++
				blocks += h.blocks.len()
			}
		}
	}
	return n, blocks
}

func heapOfVM(vm *quickjs.VM) *engineHeap {
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, mirror(vm).runtime.cRuntime))
	return heapOf(uintptr(unsafe.Pointer(&rt.Fmalloc_ctx.Fmalloc_state)))
}

// A runtime full of cycles (which only the engine's final collection would
// free) hands every block back when Close drops it wholesale, and so does a
// runtime closed the wrapper's way.
func TestCloseReleasesEveryBlock(t *testing.T) {
	before, beforeBlocks := liveHeaps()
	for _, fast := range []bool{true, false} {
		vm, err := quickjs.NewVM()
		if err != nil {
			t.Fatal(err)
		}
		_, err = vm.Eval(`
			globalThis.keep = [];
			for (let i = 0; i < 5000; i++) { const a = {i}; const b = {a, s: "x".repeat(i % 700)}; a.b = b; keep.push(a); }
			class C { m() { return this; } }
			globalThis.c = new C(); globalThis.m = new Map([[c, keep]]);
			Promise.resolve().then(() => {});`, quickjs.EvalGlobal)
		if err != nil {
			t.Fatal(err)
		}
		h := heapOfVM(vm)
		if h.blocks.len() < 100 {
			t.Fatalf("heap tracks %d blocks; the runtime holds more", h.blocks.len())
		}
		if fast {
			err = Close(vm)
		} else {
			err = vm.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.blocks != nil {
			t.Errorf("fast=%v: %d blocks not released", fast, h.blocks.len())
		}
		if n, blocks := liveHeaps(); n != before || blocks != beforeBlocks {
			t.Errorf("fast=%v: %d heaps with %d blocks live after close, %d with %d before", fast, n, blocks, before, beforeBlocks)
		}
	}
}

// The replacement allocator keeps the engine's accounting, so the memory
// limit still stops a runtime that grows without end, and the runtime stays
// usable after.
func TestHeapKeepsTheMemoryLimit(t *testing.T) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer Close(vm)
	vm.SetMemoryLimit(8 << 20)
	_, err = vm.Eval(`(() => { const a = []; for (;;) a.push("y".repeat(1000) + a.length); })()`, quickjs.EvalGlobal)
	if err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("err = %v, want out of memory", err)
	}
	if u := Memory(vm); u.MallocSize > 8<<20 {
		t.Errorf("runtime holds %d bytes past its 8 MiB limit", u.MallocSize)
	}
	v, err := vm.Eval(`[1, 2, 3].map(x => x * 2).join()`, quickjs.EvalGlobal)
	if err != nil || v != "2,4,6" {
		t.Fatalf("after the limit: %v %v", v, err)
	}
	// The refusal is remembered, once: unwinding freed what filled the heap,
	// so its size no longer shows what happened.
	if !AllocationRefused(vm) {
		t.Error("AllocationRefused = false after the limit refused an allocation")
	}
	if AllocationRefused(vm) {
		t.Error("AllocationRefused = true a second time")
	}
}

// The engine's TLS stack keeps a block per call depth it ever reached;
// TrimStack gives them back, and the VM runs on after.
func TestTrimStack(t *testing.T) {
	if !stackTrimOK {
		t.Fatal("the libc.TLS mirror does not match modernc.org/libc")
	}
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer Close(vm)
	const deep = `function f(n) { return n ? f(n - 1) + 1 : 0 } f(200)`
	if _, err := vm.Eval(deep, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	if held := StackHeld(vm); held < 100<<10 {
		t.Fatalf("a 200-deep recursion left %d bytes of stack blocks; expected hundreds of KiB", held)
	}
	TrimStack(vm)
	if held := StackHeld(vm); held != 0 {
		t.Fatalf("%d bytes held after TrimStack", held)
	}
	if v, err := vm.Eval(deep, quickjs.EvalGlobal); err != nil || v != 200 {
		t.Fatalf("after TrimStack: %v %v", v, err)
	}
}

// A VM trimmed at rest leaves its stack as a spare, which the next VM that
// has none takes whole; a deep one's stack is freed, not kept.
func TestTrimmedStackIsReadiedForTheNextVM(t *testing.T) {
	newVM := func() *quickjs.VM {
		vm, err := quickjs.NewVM()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { Close(vm) })
		return vm
	}
	const shallow = `function f(n) { return n ? f(n - 1) + 1 : 0 } f(5)`
	a, b := newVM(), newVM()
	TrimStack(b)
	spareStacks.Lock()
	spareStacks.free = nil // the blocks stay allocated; fine in a test
	spareStacks.Unlock()
	if _, err := a.Eval(shallow, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	held := StackHeld(a)
	if held == 0 || held > spareStackBytes {
		t.Fatalf("a shallow call left %d bytes of stack blocks", held)
	}
	first := tlsOf(mirror(a).runtime.tls).stack[0].p
	TrimStack(a)
	if StackHeld(a) != 0 || len(spareStacks.free) != 1 {
		t.Fatalf("after TrimStack: %d bytes held, %d spares", StackHeld(a), len(spareStacks.free))
	}
	TrimStack(b) // nothing to give
	if len(spareStacks.free) != 1 {
		t.Fatalf("an empty stack became a spare")
	}
	ReadyStack(b)
	if StackHeld(b) != held || tlsOf(mirror(b).runtime.tls).stack[0].p != first || len(spareStacks.free) != 0 {
		t.Fatalf("ReadyStack: %d bytes held (want %d), %d spares", StackHeld(b), held, len(spareStacks.free))
	}
	ReadyStack(a) // none left: a grows its own
	for _, vm := range []*quickjs.VM{a, b} {
		if v, err := vm.Eval(shallow, quickjs.EvalGlobal); err != nil || v != 5 {
			t.Fatalf("after the swap: %v %v", v, err)
		}
	}
	const deep = `function g(n) { return n ? g(n - 1) + 1 : 0 } g(200)`
	if _, err := b.Eval(deep, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	TrimStack(b)
	if StackHeld(b) != 0 || len(spareStacks.free) != 0 {
		t.Fatalf("a deep stack: %d bytes held after TrimStack, %d spares", StackHeld(b), len(spareStacks.free))
	}
}
