package jsvm

import (
	"strings"
	"testing"

	"modernc.org/quickjs"
)

// encodeVM has `enc(v)`: EncodeRPC with a capIndex that numbers functions
// and instances of class Cap in the order it is asked (caps records them),
// and throws for class Bad, as the prelude's encoder throws for what it
// may not lend.
func encodeVM(t *testing.T) *quickjs.VM {
	vm := newHostVM(t)
	register(t, vm, "rpcEncode", EncodeRPC)
	if _, err := vm.Eval(`
		class Cap {}
		class Bad {}
		var caps = [];
		function capIndex(e, x) {
			if (x instanceof Bad) throw new TypeError("bad cannot be lent");
			if (typeof x !== "function" && !(x instanceof Cap)) return -1;
			e.push(x);
			return e.length - 1;
		}
		function enc(v) { caps = []; return rpcEncode(v, caps, capIndex, Object.prototype, Date.prototype); }
	`, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	return vm
}

func evalString(t *testing.T, vm *quickjs.VM, src string) string {
	t.Helper()
	v, err := vm.Eval(src, quickjs.EvalGlobal)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	s, _ := v.(string)
	return s
}

// JSON-safe data comes out byte for byte as JSON.stringify writes it:
// numbers in every notation, every escape, key order, nesting.
func TestEncodeRPCWritesPlainDataAsJSONStringify(t *testing.T) {
	vm := encodeVM(t)
	values := []string{
		`null`, `true`, `false`, `0`, `-1`, `2147483647`, `-2147483648`, `2147483648`, `0.1 + 0.2`, `1e21`, `1e20`,
		`123456789012345680000`, `1e-6`, `1e-7`, `1.5e-7`, `-2.5e-300`, `5e-324`, `1.7976931348623157e308`, `1/3`,
		`-0.000001`, `1e100`, `4.35`, `0.5`, `100`, `1e-10`,
		`""`, `"plain"`, `"quote\" backslash\\ slash/"`, `"\b\f\n\r\t\x00\x01\x1f\x7f"`, `"é ü 😀 \u2028 \u2029 \ufeff"`,
		`"a".repeat(3000) + "b".repeat(3000)`,
		`[]`, `[1, "two", [3, [4]], {}, null]`, `{}`, `{a: 1, b: "x", c: [true, false], d: {e: {f: null}}}`,
		`{2: "two", 1: "one", b: 1, a: 2, "1.5": 3}`, `{"": 1, "é": 2, "k\"q": 3, "\n": 4}`,
		`Object.create(null, {x: {value: 1, enumerable: true}, hidden: {value: 2}})`,
		`(() => { const a = [1, 2]; a.extra = 3; return a; })()`,
		`Array.from({length: 100}, (_, i) => ({i, s: "v" + i}))`,
		`{__proto__: null, z: 1}`, `JSON.parse('{"__proto__": 1}')`,
	}
	for _, v := range values {
		got := evalString(t, vm, "enc("+v+")")
		want := evalString(t, vm, "JSON.stringify("+v+")")
		if got != want {
			t.Errorf("%s:\ngot  %s\nwant %s", v, got, want)
		}
	}
}

// Values JSON cannot carry are tagged as the prelude's encoder tags them.
func TestEncodeRPCTagsWhatJSONCannotCarry(t *testing.T) {
	vm := encodeVM(t)
	for _, c := range []struct{ v, want string }{
		{`undefined`, `{"$":"u"}`},
		{`[undefined, 1]`, `[{"$":"u"},1]`},
		{`{a: undefined}`, `{"a":{"$":"u"}}`},
		{`[NaN, Infinity, -Infinity, -0, 0]`, `[{"$":"n","v":"NaN"},{"$":"n","v":"Infinity"},{"$":"n","v":"-Infinity"},{"$":"n","v":"-0"},0]`},
		{`new Date(Date.UTC(2020, 0, 2, 3, 4, 5))`, `{"$":"D","v":1577934245000}`},
		{`{t: new Date(-1), u: new Date(0.5)}`, `{"t":{"$":"D","v":-1},"u":{"$":"D","v":0}}`},
		{`[() => 1, new Cap(), {f() {}}]`, `[{"$":"c","i":0},{"$":"c","i":1},{"f":{"$":"c","i":2}}]`},
	} {
		if got := evalString(t, vm, "enc("+c.v+")"); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.v, got, c.want)
		}
	}
}

// What the prelude's encoder must do itself is given back untouched:
// undefined, and no getter run, no capability left numbered.
func TestEncodeRPCGivesUpOnWhatItDoesNotWrite(t *testing.T) {
	vm := encodeVM(t)
	for _, v := range []string{
		`new Map()`, `new Set([1])`, `/re/`, `new Uint8Array(2)`, `new ArrayBuffer(1)`, `new Error("e")`, `10n`,
		`new String("s")`, `new Proxy({}, {})`, `new Proxy([], {})`, `Symbol("s")`, `[1, , 3]`, `new Array(2)`,
		`{$: 1}`, `{a: {$: "u"}}`, `"lone \ud800"`, `{"\udc00": 1}`, `new Date(NaN)`, `Object.create(Date.prototype)`,
		`new (class Point {})()`, `(() => { const s = {}; return [s, s]; })()`,
		`(() => { const o = {}; o.self = o; return o; })()`, `(() => { const d = new Date(0); return [d, d]; })()`,
		`(() => { let o = {}; for (let i = 0; i < 1100; i++) o = {o}; return o; })()`,
		`[() => 1, new Map()]`,
	} {
		if got, err := vm.Eval("enc("+v+") === undefined", quickjs.EvalGlobal); err != nil || got != true {
			t.Errorf("%s: not given up (%v, %v)", v, got, err)
		}
	}
	got := evalString(t, vm, `
		let runs = 0;
		const o = { a: 1, get b() { runs++; return 2; } };
		[String(enc(o)), runs, enc([1, () => 2, new Map()]) === undefined ? caps.length : -1].join("|")`)
	if got != "undefined|0|1" {
		t.Errorf("getter or caps: %s", got)
	}
}

// A capIndex that throws throws out of the encoding.
func TestEncodeRPCLetsCapIndexThrow(t *testing.T) {
	vm := encodeVM(t)
	got := evalString(t, vm, `try { enc({a: [new Bad()]}); "no throw" } catch (e) { e.name + ": " + e.message }`)
	if got != "TypeError: bad cannot be lent" {
		t.Fatal(got)
	}
	// Without a capIndex every capability is given up on.
	if got, _ := vm.Eval(`rpcEncode([() => 1], null, null, Object.prototype, Date.prototype) === undefined`, quickjs.EvalGlobal); got != true {
		t.Fatal("a function encoded without capIndex")
	}
	if s := evalString(t, vm, `rpcEncode({d: new Date(5)}, null, null, Object.prototype, null) === undefined ? "given up" : "encoded"`); !strings.Contains(s, "given up") {
		t.Fatal("a Date encoded without Date.prototype")
	}
}
