package jsvm

import (
	"strings"
	"testing"
	"time"

	"modernc.org/quickjs"
)

// The profile names the functions JavaScript spent its work in, with the
// callers outside; a VM keeps its interrupt behaviour (the displaced
// handler still runs) while profiled.
func TestProfileNamesHotFunctions(t *testing.T) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	p := StartProfile(vm)
	_, err = vm.Eval(`
		function inner(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }
		function outer() { let s = 0; for (let i = 0; i < 200; i++) s += inner(2000); return s; }
		function cold() { return 1; }
		const anon = () => outer();
		cold(); anon();
	`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	stacks := p.Stacks()
	if len(stacks) == 0 {
		t.Fatal("no samples")
	}
	fns := FunctionSamples(stacks)
	if fns[0].Total == 0 || fns[len(fns)-1].Total > fns[0].Total {
		t.Fatalf("not sorted by total: %+v", fns)
	}
	byName := map[string]FunctionTime{}
	total := 0
	for _, n := range stacks {
		total += n
	}
	for _, f := range fns {
		byName[f.Name] = f
	}
	if f := byName["inner"]; f.Self*2 < total {
		t.Fatalf("inner has %d of %d samples; profile %+v", f.Self, total, stacks)
	}
	found := false
	for stack := range stacks {
		if strings.HasSuffix(stack, "(anonymous);outer;inner") {
			found = true
		}
		if strings.Contains(stack, "cold") {
			t.Fatalf("a function that did nothing was sampled: %q", stack)
		}
	}
	if !found {
		t.Fatalf("no stack ending (anonymous);outer;inner: %v", stacks)
	}
	// The wrapper's time limit still works, through the displaced handler,
	// while a profiler is installed, and after it is gone.
	if err := vm.SetEvalTimeout(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	p2 := StartProfile(vm)
	if _, err := vm.Eval(`for (;;) {}`, quickjs.EvalGlobal); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("while profiled, the time limit did not stop a loop: %v", err)
	}
	p2.Stop()
	if _, err := vm.Eval(`for (;;) {}`, quickjs.EvalGlobal); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("after Stop, the time limit did not stop a loop: %v", err)
	}
}
