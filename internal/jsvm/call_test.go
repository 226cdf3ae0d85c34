package jsvm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"modernc.org/quickjs"
)

// Call passes each kind of argument as the wrapper's call does, lends
// Values without taking them, and gives back the result.
func TestCallPassesArguments(t *testing.T) {
	vm := newHostVM(t)
	f, err := vm.EvalValue(`(function () { return Array.from(arguments, (a) => a === undefined ? "u" : typeof a + ":" + String(a)).join(" "); })`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Free()
	obj, err := vm.EvalValue(`({ toString() { return "obj"; } })`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Free()
	r, err := Call(f, nil, quickjs.Undefined{}, true, 7, int64(1)<<40, int32(-3), 2.5, "h\xffi", obj, []any{1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	got, _ := r.Any()
	// []any is not a fast-path type: the whole call goes the wrapper's way,
	// which converts it as an array.
	want := "object:null u boolean:true number:7 number:1099511627776 number:-3 number:2.5 string:h\uFFFDi object:obj object:1"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// The lent object is still the caller's.
	if s, err := Call(f, obj); err != nil {
		t.Fatal(err)
	} else {
		s.Free()
	}
	if b, ok := Bool(r); ok || b {
		t.Fatalf("Bool of a string: %v %v", b, ok)
	}
}

// An exception comes back as a *quickjs.Error; a Go panic that went up
// through the JavaScript Call called goes on from Call; an infinite loop
// ends at the eval timeout, re-armed for each outermost call.
func TestCallErrorsPanicsAndTimeout(t *testing.T) {
	vm := newHostVM(t)
	thrower, err := vm.EvalValue(`(function (m) { throw new TypeError(m); })`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	defer thrower.Free()
	_, err = Call(thrower, "nope")
	var qe *quickjs.Error
	if !errors.As(err, &qe) || qe.Error() == "" {
		t.Fatalf("error %T %v, want a *quickjs.Error", err, err)
	}

	register(t, vm, "boom", func() { panic("kaboom") })
	caller, err := vm.EvalValue(`(function () { try { boom() } catch (e) { return "caught" } })`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Free()
	var p any
	func() {
		defer func() { p = recover() }()
		Call(caller)
	}()
	if p != "kaboom" {
		t.Fatalf("recovered %v, want the host function's panic", p)
	}

	vm2 := newHostVM(t)
	if err := vm2.SetEvalTimeout(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	spin, err := vm2.EvalValue(`(function () { for (;;) {} })`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	defer spin.Free()
	for range 2 {
		start := time.Now()
		if _, err := Call(spin); err == nil {
			t.Fatal("an infinite loop returned")
		}
		// Re-armed: the second call gets its own 50 ms, not the first's
		// deadline, long past.
		if d := time.Since(start); d < 40*time.Millisecond || d > 5*time.Second {
			t.Fatalf("the loop ran %v, want about 50 ms", d)
		}
	}
}

// A FastHost reads its own arguments: each kind, the rest as Values, a
// result of each kind back, and a TypeError naming an argument of the
// wrong type.
func TestFastHost(t *testing.T) {
	vm := newHostVM(t)
	type recv struct{ n int }
	r := &recv{n: 40}
	if err := SetHostReceiver(vm, r); err != nil {
		t.Fatal(err)
	}
	register(t, vm, "f", FastHost{Arity: 3, Fn: func(x any, a *Args) any {
		rest := a.Values(3)
		s := fmt.Sprint(x.(*recv).n+a.Int(0), " ", a.String(1), " ", a.Bool(2), " ", len(rest))
		for _, v := range rest {
			x, _ := v.Any()
			s += fmt.Sprint(" ", x)
		}
		return s
	}})
	register(t, vm, "g", FastHost{Arity: 1, Fn: func(_ any, a *Args) any { return a.Value(0).Dup() }})
	register(t, vm, "h", FastHost{Arity: 0, Fn: func(any, *Args) any { return nil }})
	register(t, vm, "num", FastHost{Arity: 3, Fn: func(_ any, a *Args) any {
		return fmt.Sprint(a.Float(0), " ", a.Float(1), " ", a.Float(2), " ", a.Float(3))
	}})
	got, err := vm.Eval(`[f(2, "héllo", true, 1.5, "x"), f.length, g({a: 1}).a, typeof h(), num(7, 2.5, null)].join("|")`, quickjs.EvalGlobal)
	if err != nil || got != "42 héllo true 2 1.5 x|3|1|undefined|7 2.5 0 0" {
		t.Fatalf("got %v %v", got, err)
	}
	got, err = vm.Eval(`try { num(1, "2"); "no error" } catch (e) { e.name + ": " + e.message }`, quickjs.EvalGlobal)
	if err != nil || !strings.Contains(fmt.Sprint(got), "TypeError: calling num: argument 1: cannot assign string to float64") {
		t.Fatalf("got %v %v", got, err)
	}
	got, err = vm.Eval(`try { f("two", "s", true); "no error" } catch (e) { e.name + ": " + e.message }`, quickjs.EvalGlobal)
	if err != nil || !strings.Contains(fmt.Sprint(got), "TypeError: calling f: argument 0: cannot assign string to int") {
		t.Fatalf("got %v %v", got, err)
	}
}
