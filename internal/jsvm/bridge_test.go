package jsvm

import (
	"errors"
	"strings"
	"testing"

	"modernc.org/quickjs"
)

func TestBridge(t *testing.T) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := CheckLayout(vm); err != nil {
		t.Fatal(err)
	}
	if err := vm.RegisterFunc("mk", func(s string) quickjs.Value { return NewArrayBuffer(vm, []byte(s)) }, false); err != nil {
		t.Fatal(err)
	}
	var got []byte
	_ = got
	vm.RegisterFunc("take", func(v quickjs.Value) bool { b, ok := ArrayBufferBytes(v); got = b; return ok }, false)
	r, err := vm.Eval(`const b = new Uint8Array(mk("héllo")); [b.length, b[1], take(new Uint8Array([1,2,250]).buffer), take(new ArrayBuffer(0)), take({})].join()`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	if r != "6,195,true,true,false" {
		t.Fatalf("got %v", r)
	}
	bc, err := Compile(vm, "function f(){ throw new Error('x') }\nf()", "app/worker.js", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = vm.EvalBytecode(bc)
	var qe *quickjs.Error
	if !errors.As(err, &qe) || !strings.Contains(qe.Stack, "app/worker.js:1") {
		t.Fatalf("stack does not name the file: %#v", err)
	}
	_, err = Compile(vm, "let = ;", "bad.js", true)
	if !errors.As(err, &qe) || qe.FileName != "bad.js" || qe.LineNumber != 1 {
		t.Fatalf("syntax error: %#v", err)
	}
	if m := Memory(vm); m.MallocSize <= 0 {
		t.Fatalf("memory %+v", m)
	}
}

// trackedVM is a VM whose rejections are tracked; both close when the test
// ends.
func trackedVM(t *testing.T) (*quickjs.VM, *Rejections) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	r := TrackRejections(vm)
	t.Cleanup(func() {
		r.Close()
		vm.Close()
	})
	return vm, r
}

func TestRejections(t *testing.T) {
	vm, r := trackedVM(t)
	if _, err := vm.Eval(`Promise.reject(new Error("lost")); globalThis.late = Promise.reject(new Error("caught later")); late.catch(() => {});`, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	vm.ExecutePendingJobs()
	var got []string
	r.Drain(func(_, reason quickjs.Value) { got = append(got, quickjs.ErrorFromValue(reason).Message) })
	if len(got) != 1 || got[0] != "lost" {
		t.Fatalf("got %q, want only the unhandled one", got)
	}
	vm.Eval(`Promise.reject(new Error("left for Close"))`, quickjs.EvalGlobal)
}

// With KeepReported, a reported rejection that gets a handler afterwards
// comes out of DrainHandled, with its promise and reason.
func TestRejectionsHandledAfterTheReport(t *testing.T) {
	vm, r := trackedVM(t)
	r.KeepReported = true
	if _, err := vm.Eval(`globalThis.p = Promise.reject(new Error("late")); globalThis.isP = (x) => x === p; Promise.reject(new Error("never"));`, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	vm.ExecutePendingJobs()
	var reported []string
	r.Drain(func(_, reason quickjs.Value) { reported = append(reported, quickjs.ErrorFromValue(reason).Message) })
	if len(reported) != 2 {
		t.Fatalf("reported %q, want both", reported)
	}
	if _, err := vm.Eval(`p.catch(() => {});`, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	vm.ExecutePendingJobs()
	var handled []string
	var samePromise bool
	r.DrainHandled(func(promise, reason quickjs.Value) {
		handled = append(handled, quickjs.ErrorFromValue(reason).Message)
		same, err := vm.Call("isP", promise)
		samePromise = err == nil && same == true
	})
	if len(handled) != 1 || handled[0] != "late" || !samePromise {
		t.Fatalf("handled later %q (same promise %v), want the one given a handler", handled, samePromise)
	}
	r.DrainHandled(func(_, _ quickjs.Value) { t.Fatal("handed out twice") })
}
