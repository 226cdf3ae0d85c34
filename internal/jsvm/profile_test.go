package jsvm

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"modernc.org/quickjs"
)

// The profile names the functions JavaScript spent its time in, with the
// callers outside, and anonymous ones by where they start; a VM keeps its
// interrupt behaviour (the displaced handler still runs) while profiled.
func TestProfileNamesHotFunctions(t *testing.T) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	p := StartProfile(vm) // time counts from here until the first Resume
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
	fns := FunctionTimes(stacks)
	if fns[0].Total == 0 || fns[len(fns)-1].Total > fns[0].Total {
		t.Fatalf("not sorted by total: %+v", fns)
	}
	byName := map[string]FunctionTime{}
	var total time.Duration
	for _, n := range stacks {
		total += n
	}
	for _, f := range fns {
		byName[f.Name] = f
	}
	for stack, d := range stacks {
		if d <= 0 || d > 10*time.Second {
			t.Fatalf("%v of JavaScript in %q, in a run of milliseconds", d, stack)
		}
	}
	if f := byName["inner"]; f.Self*2 < total {
		t.Fatalf("inner has %v of %v; profile %+v", f.Self, total, stacks)
	}
	found := false
	for stack := range stacks {
		if anonymousOuterInner.MatchString(stack) {
			found = true
		}
		if strings.Contains(stack, "cold") {
			t.Fatalf("a function that did nothing was sampled: %q", stack)
		}
	}
	if !found {
		t.Fatalf("no stack ending (anonymous <file>:5);outer;inner: %v", stacks)
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

var anonymousOuterInner = regexp.MustCompile(`\(anonymous [^ ;]*:5\);outer;inner$`)

// Time spent in Go under a JavaScript call counts for the JavaScript that
// made it, however few ticks it took: a profile of time, not of work.
func TestProfileWeighsTime(t *testing.T) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RegisterFunc("slowHost", func() int { time.Sleep(40 * time.Millisecond); return 1 }, false); err != nil {
		t.Fatal(err)
	}
	p := StartProfile(vm)
	p.Resume()
	_, err = vm.Eval(`
		function busy() { let s = 0; for (let i = 0; i < 200000; i++) s += i % 7; return s; }
		function waits() { let s = 0; for (let i = 0; i < 3; i++) { s += slowHost(); for (let j = 0; j < 2000; j++) s += j % 3; } return s; }
		busy(); waits();
	`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	byName := map[string]FunctionTime{}
	for _, f := range FunctionTimes(p.Stacks()) {
		byName[f.Name] = f
	}
	if w := byName["waits"].Total; w < 80*time.Millisecond {
		t.Fatalf("waits, which spent 120ms in Go, has %v; profile %+v", w, p.Stacks())
	}
	if b := byName["busy"].Total; b > byName["waits"].Total {
		t.Fatalf("busy (%v) outweighs waits (%v), which spent 120ms in Go", b, byName["waits"].Total)
	}
}
