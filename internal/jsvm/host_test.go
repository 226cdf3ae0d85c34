package jsvm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"modernc.org/quickjs"
)

func newHostVM(t testing.TB) *quickjs.VM {
	t.Helper()
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Close(vm) })
	return vm
}

func register(t testing.TB, vm *quickjs.VM, name string, fn any) {
	t.Helper()
	if err := RegisterHost(vm, name, fn); err != nil {
		t.Fatal(err)
	}
}

func TestHostConvertsArgumentsAndResults(t *testing.T) {
	vm := newHostVM(t)
	register(t, vm, "join", func(n int, f float64, s string, b bool, rest ...quickjs.Value) string {
		return strings.Join([]string{fmtAny(n), fmtAny(f), s, fmtAny(b), fmtAny(len(rest))}, "|")
	})
	register(t, vm, "many", func() []any { return []any{1, 2.5, "x", nil, true, []any{"in"}, map[string]any{"k": 1}} })
	register(t, vm, "echo", func(v quickjs.Value) quickjs.Value { return v.Dup() })
	register(t, vm, "fail", func(s string) error {
		if s == "" {
			return nil
		}
		return errors.New(s)
	})
	register(t, vm, "any", func(x any) string { return fmtAny(x) })
	register(t, vm, "big", func() int { return 1 << 40 })
	got, err := vm.Eval(`[
		join(3, 0.5, "s\u00e9", true, {}, [], 1),
		join(4, 2, "", false),
		JSON.stringify(many()),
		echo({a: 1}).a,
		fail(""), fail("bad"),
		any(7), any("t"), any(null),
		big(),
		"lone \ud800 surrogate" === echo("lone \ud800 surrogate"),
		join(1, 1, "x\ud800y", false),
		join(2, 2, "a".repeat(3000) + "b".repeat(3000), true).length, // a rope string
	].join(";")`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	want := `3|0.5|sé|true|3;4|2||false|0;[1,2.5,"x",null,true,["in"],{"k":1}];1;;bad;7;t;<nil>;1099511627776;true;1|1|x` + "\uFFFD" + `y|false|0;6011`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A function's first parameter may be the VM called, or the VM's receiver:
// neither is an argument JavaScript passes.
func TestHostFunctionsTakeTheVMAndItsReceiver(t *testing.T) {
	type owner struct{ name string }
	vm := newHostVM(t)
	if err := SetHostReceiver(vm, &owner{"A"}); err != nil {
		t.Fatal(err)
	}
	register(t, vm, "who", func(o *owner, s string, rest ...quickjs.Value) string {
		return o.name + ":" + s + ":" + fmt.Sprint(len(rest))
	})
	register(t, vm, "same", func(v *quickjs.VM) bool { return v == vm })
	got, err := vm.Eval(`[who("x"), who("y", 1, 2), same(), who.length].join(";")`, quickjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	if got != "A:x:0;A:y:2;true;1" {
		t.Errorf("got %v", got)
	}
	// In a VM without a receiver, a *owner is an argument JavaScript
	// cannot give.
	if _, err := NewHostFunc(newHostVM(t), "early", func(o *owner) {}); err == nil || !strings.Contains(err.Error(), "parameter of type") {
		t.Errorf("a *owner parameter with no receiver set: %v", err)
	}
}

func TestHostRejectsWrongArguments(t *testing.T) {
	vm := newHostVM(t)
	register(t, vm, "f", func(n int, s string) int { return n + len(s) })
	for _, tc := range []struct{ call, want string }{
		{`f(1)`, "not enough arguments in call to f"},
		{`f(1, "a", 2)`, "too many arguments in call to f"},
		{`f("1", "a")`, "calling f: cannot assign string to int"},
		{`f(1.5, "a")`, "calling f: cannot assign float64 to int"},
		{`f(1, null)`, "calling f: cannot assign null to string"},
	} {
		_, err := vm.Eval(`try { `+tc.call+` } catch (e) { throw new Error(e.constructor.name + ": " + e.message) }`, quickjs.EvalGlobal)
		if err == nil || !strings.Contains(err.Error(), "TypeError: "+tc.want) {
			t.Errorf("%s: err = %v, want TypeError %q", tc.call, err, tc.want)
		}
	}
}

// A host function can call back into JavaScript, and a panic in one becomes
// an error no catch block sees, then goes on in the Go code that called
// JavaScript, as with the wrapper's own functions; the VM can still be
// closed after.
func TestHostReentryAndPanic(t *testing.T) {
	vm := newHostVM(t)
	register(t, vm, "eval", func(src string) quickjs.Value {
		v, err := vm.EvalValue(src, quickjs.EvalGlobal)
		if err != nil {
			return quickjs.UndefinedValue
		}
		return v
	})
	register(t, vm, "boom", func() { panic("kaboom") })
	got, err := vm.Eval(`eval("[1, 2].map(x => x * 21)[1]") + eval("eval('1')")`, quickjs.EvalGlobal)
	if err != nil || got != 43 {
		t.Fatalf("reentry: %v %v", got, err)
	}
	var p any
	func() {
		defer func() { p = recover() }()
		vm.Eval(`try { boom() } catch (e) { globalThis.caught = true }`, quickjs.EvalGlobal)
	}()
	if p != "kaboom" {
		t.Fatalf("recovered %v, want the host function's panic", p)
	}
}

// Each VM numbers its host functions itself: far more VMs than the
// wrapper's process-wide table of 32,767 functions allows can be alive.
func TestHostFunctionsPerVMAreNotLimitedByOtherVMs(t *testing.T) {
	const vms, fns = 400, 100 // 40,000 functions alive at once
	var all []*quickjs.VM
	defer func() {
		for _, vm := range all {
			Close(vm)
		}
	}()
	for i := range vms {
		vm, err := quickjs.NewVM()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, vm)
		for j := range fns {
			k := i*fns + j
			if err := RegisterHost(vm, "f"+fmtAny(j), func() int { return k }); err != nil {
				t.Fatalf("vm %d function %d: %v", i, j, err)
			}
		}
	}
	for i, vm := range all {
		got, err := vm.Eval(`f99()`, quickjs.EvalGlobal)
		if err != nil || got != i*fns+99 {
			t.Fatalf("vm %d: %v %v", i, got, err)
		}
	}
}

func fmtAny(x any) string {
	if x == nil {
		return "<nil>"
	}
	return fmt.Sprint(x)
}
