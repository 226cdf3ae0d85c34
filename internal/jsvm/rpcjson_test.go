package jsvm

import (
	"encoding/json"
	"strings"
	"testing"

	"modernc.org/quickjs"
)

// encodeVM has `enc(v)`: EncodeRPC with a capIndex that numbers functions
// and instances of class Cap in the order it is asked (caps records them),
// and throws for class Bad, as the prelude's encoder throws for what it
// may not lend.
func encodeVM(t testing.TB) *quickjs.VM {
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
		// Past 1 MiB of text the prelude's encoder, under the isolate's
		// memory limit, does the value.
		`"\x01".repeat(200000)`, `"a".repeat(1100000)`, `Array.from({length: 300000}, () => "abcd")`,
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

// decodeVM has `dec(json)`: DecodeRPC with caps [f, g] and GIVEUP as the
// give-up value.
func decodeVM(t testing.TB) *quickjs.VM {
	vm := encodeVM(t)
	register(t, vm, "rpcDecode", DecodeRPC)
	if _, err := vm.Eval(`
		var GIVEUP = Symbol("give up");
		var f = () => "f", g = () => "g";
		function dec(json) { return rpcDecode(json, [f, g], GIVEUP); }
		function same(a, b) {
			if (typeof a !== typeof b) return false;
			if (typeof a !== "object" || a === null || b === null) return Object.is(a, b);
			if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
			if (a instanceof Date) return Object.is(a.getTime(), b.getTime());
			const ka = Object.keys(a), kb = Object.keys(b);
			return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
		}
	`, quickjs.EvalGlobal); err != nil {
		t.Fatal(err)
	}
	return vm
}

// JSON decodes as JSON.parse makes it: types, key order, escapes, numbers.
func TestDecodeRPCMakesWhatJSONParseMakes(t *testing.T) {
	vm := decodeVM(t)
	for _, j := range []string{
		`null`, `true`, `false`, `0`, `-0`, `-1`, `2147483648`, `1.5e-7`, `1e21`, `0.30000000000000004`,
		`""`, `"plain"`, `"q\"b\\s\/\b\f\n\r\t\u0000\u001f"`, `"\u00e9 é 😀 \ud83d\ude00"`, `[]`, `{}`,
		`[1, "two", [3, [4]], {}, null]`, `{"a": 1, "b": {"c": [true]}, "2": "two", "1": "one"}`,
		`{"": 1, "é": 2, "k\"q": 3}`, `{"__proto__": {"x": 1}}`, ` { "a" : [ 1 , 2 ] } `,
	} {
		src := "same(dec(" + jsQuote(j) + "), JSON.parse(" + jsQuote(j) + "))"
		if got, err := vm.Eval(src, quickjs.EvalGlobal); err != nil || got != true {
			t.Errorf("%s: differs from JSON.parse (%v, %v)", j, got, err)
		}
	}
	if got := evalString(t, vm, `const p = dec('{"__proto__": {"x": 1}}'); String(Object.getPrototypeOf(p) === Object.prototype && p.x === undefined)`); got != "true" {
		t.Error(`"__proto__" set the prototype`)
	}
}

// Tags become the values the prelude's decoder makes of them.
func TestDecodeRPCMakesTaggedValues(t *testing.T) {
	vm := decodeVM(t)
	got := evalString(t, vm, `
		const v = dec('[{"$":"u"},{"$":"n","v":"NaN"},{"$":"n","v":"Infinity"},{"$":"n","v":"-Infinity"},{"$":"n","v":"-0"},{"$":"D","v":1577934245000},{"$":"c","i":1},{"a":{"$":"c","i":0}},{"$":"D","v":0.5}]');
		[v.length, 0 in v && v[0] === undefined, Number.isNaN(v[1]), v[2] === Infinity, v[3] === -Infinity, Object.is(v[4], -0),
		 v[5] instanceof Date && v[5].toISOString(), v[6] === g, v[7].a === f, v[8].getTime()].join("|")`)
	if want := "9|true|true|true|true|true|2020-01-02T03:04:05.000Z|true|true|0"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// What Go encodes, Go decodes to the same value.
	for _, v := range []string{`{a: [1, {b: "c"}], d: new Date(86400000), u: undefined, n: -0, f}`, `["x", [[[]]], {}]`} {
		src := "(() => { const v = " + v + "; return same(dec(enc(v)), v); })()"
		if got, err := vm.Eval(src, quickjs.EvalGlobal); err != nil || got != true {
			t.Errorf("%s: round trip differs (%v, %v)", v, got, err)
		}
	}
}

// Anything else is the prelude's to decode.
func TestDecodeRPCGivesUpOnTheRest(t *testing.T) {
	vm := decodeVM(t)
	for _, j := range []string{
		`{"$":"r","i":0}`, `{"$":"M","v":[]}`, `{"$":"O","v":{"$":1}}`, `{"$":"E","n":"Error","m":"x"}`, `{"a":1,"$":2}`,
		`{"$":"n","v":"1"}`, `{"$":"D","v":null}`, `{"$":"c","i":-1}`, `{"$":"u","x":1}`, `"\ud800"`, `"\udc00x"`,
		`"\ud800\u0041"`, `[1,]`, `{"a" 1}`, `[1] 2`, `nul`, `01x`, `"unterminated`, `{"a":1`, `[`, ``,
	} {
		if got, err := vm.Eval("dec("+jsQuote(j)+") === GIVEUP", quickjs.EvalGlobal); err != nil || got != true {
			t.Errorf("%s: not given up (%v, %v)", j, got, err)
		}
	}
}

// jsQuote is s as a JavaScript string literal (JSON's is one).
func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// BenchmarkRPCCodec: a workflow event as a dispatcher hands it to a
// tenant (a Date, a capability), written and read by Go, against the
// engine's own JSON.stringify and JSON.parse of it (RATIONALE.md, "RPC
// values as tagged JSON").
func BenchmarkRPCCodec(b *testing.B) {
	vm := decodeVM(b)
	if _, err := vm.Eval(`
		var ev = [{payload: {__dispatcherMetadata: {tenant: "t-42"}, params: {name: "Alice"}}, timestamp: new Date(), instanceId: "i-1"}, f];
		var evJSON = enc(ev);
		var loops = {
			encode(n) { for (let i = 0; i < n; i++) enc(ev); },
			decode(n) { for (let i = 0; i < n; i++) dec(evJSON); },
			"JSON.stringify": (n) => { for (let i = 0; i < n; i++) JSON.stringify(ev[0]); },
			"JSON.parse": (n) => { for (let i = 0; i < n; i++) JSON.parse(evJSON); },
		};
	`, quickjs.EvalGlobal); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"encode", "decode", "JSON.stringify", "JSON.parse"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i += 100 {
				if _, err := vm.Eval(`loops["`+name+`"](100)`, quickjs.EvalGlobal); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
