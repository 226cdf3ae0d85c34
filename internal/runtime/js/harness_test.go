package js

import (
	"crypto/rand"
	"sort"
	"testing"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// runJS evaluates the prelude in a bare VM with stub host functions, then
// script as an async function body, and returns what it resolves to as a
// string (or "throw: <error>"). Timers run on a fake clock: when no job is
// left, the earliest timer fires at once, so tests never sleep.
func runJS(t *testing.T, script string) string {
	t.Helper()
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer jsvm.Close(vm)
	type timer struct {
		id     int
		at     float64
		repeat bool
		every  float64
	}
	var now float64
	timers := map[int]*timer{}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	h := newTestHost(t, vm)
	h.register("timerStart", func(id int, delay any, repeat bool) {
		ms := toFloat(delay)
		timers[id] = &timer{id: id, at: now + ms, repeat: repeat, every: ms}
	})
	h.register("timerStop", func(id int) { delete(timers, id) })
	h.register("now", func() float64 { return now })
	pre, err := Compile()
	if err != nil {
		t.Fatalf("prelude: %v", err)
	}
	for _, r := range extraHost {
		r(h)
	}
	h.adopt()
	if err := pre.Install(vm); err != nil {
		t.Fatalf("prelude: %v", err)
	}
	// Tests run as a request handler would, past the worker's global scope.
	if _, err := vm.Eval("globalThis.__isola_register({})", quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	_, err = vm.Eval(`globalThis.__done = false; (async () => {`+script+`
})().then(v => { globalThis.__out = String(v); globalThis.__done = true },
          e => { globalThis.__out = "throw: " + (e && e.name ? e.name + ": " + e.message : String(e)); globalThis.__done = true })`, quickjs.EvalGlobal)
	must(err)
	for i := 0; i < 100000; i++ {
		if _, err := vm.ExecutePendingJobs(); err != nil {
			t.Fatalf("job: %v", err)
		}
		done, _ := vm.Eval("__done", quickjs.EvalGlobal)
		if done == true {
			out, _ := vm.Eval("__out", quickjs.EvalGlobal)
			return out.(string)
		}
		if len(timers) == 0 {
			t.Fatalf("script never settled and no timer is pending")
		}
		var due []*timer
		for _, tm := range timers {
			due = append(due, tm)
		}
		sort.Slice(due, func(i, j int) bool { return due[i].at < due[j].at || due[i].at == due[j].at && due[i].id < due[j].id })
		tm := due[0]
		if tm.at > now {
			now = tm.at
		}
		if tm.repeat {
			tm.at = now + tm.every
		} else {
			delete(timers, tm.id)
		}
		if _, err := h.dispatch.Call(quickjs.UndefinedValue, "timer", tm.id); err != nil {
			t.Fatalf("timer: %v", err)
		}
	}
	t.Fatal("script did not settle")
	return ""
}

// extraHost lets a test file register more host functions (crypto, say)
// in every VM the harnesses make.
var extraHost []func(h *testHost)

// testHost registers host functions as the runtime does: into an object
// that __isola_adopt hands the prelude.
type testHost struct {
	t        *testing.T
	vm       *quickjs.VM
	pending  *quickjs.Value // functions registered since the last adopt
	dispatch quickjs.Value  // what the prelude handed to takeDispatch
}

// newTestHost registers what every harness gives the prelude alike: log
// lines to the test's log and random bytes.
func newTestHost(t *testing.T, vm *quickjs.VM) *testHost {
	h := &testHost{t: t, vm: vm}
	h.register("log", func(level, text string) { t.Logf("console.%s: %s", level, text) })
	h.register("takeDispatch", func(fn quickjs.Value) { h.dispatch = fn.Dup() })
	h.register("urlFast", URLFast)
	h.register("rpcEncode", jsvm.EncodeRPC)
	h.register("rpcDecode", jsvm.DecodeRPC)
	h.register("randomBytes", func(n int) quickjs.Value {
		b := make([]byte, n)
		rand.Read(b)
		return jsvm.NewArrayBuffer(vm, b)
	})
	return h
}

func (h *testHost) register(name string, fn any) {
	h.t.Helper()
	if h.pending == nil {
		o, err := h.vm.NewObjectValue()
		if err != nil {
			h.t.Fatal(err)
		}
		h.pending = &o
	}
	f, err := jsvm.NewHostFunc(h.vm, name, fn)
	if err == nil {
		err = jsvm.DefineProperty(*h.pending, name, f)
	}
	if err != nil {
		h.t.Fatal(err)
	}
}

// adopt registers __isola_adopt, which hands over the functions registered
// since its last call; call it after the first registrations.
func (h *testHost) adopt() {
	h.t.Helper()
	adopt := func() quickjs.Value {
		if h.pending == nil {
			o, _ := h.vm.NewObjectValue()
			return o
		}
		o := *h.pending
		h.pending = nil
		return o
	}
	if err := jsvm.RegisterHost(h.vm, "__isola_adopt", adopt); err != nil {
		h.t.Fatal(err)
	}
}

func TestCoreTimers(t *testing.T) {
	got := runJS(t, `
		const order = [];
		setTimeout(() => order.push("b"), 20);
		setTimeout(() => order.push("a"), 10);
		const i = setInterval(() => { order.push("i"); if (order.length > 4) clearInterval(i) }, 5);
		queueMicrotask(() => order.push("m"));
		await new Promise(r => setTimeout(r, 50));
		return order.join("");`)
	// Timers due at the same instant fire in the order they were scheduled.
	if got != "miaiib" {
		t.Fatalf("order: %s", got)
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return 0
}
