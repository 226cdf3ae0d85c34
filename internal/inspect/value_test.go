package inspect

import (
	"encoding/hex"
	"testing"
)

// nodeCases were made by running the encoder of internal/runtime/js/65_rpc.js
// under Node on each value and printing the value with util.inspect
// (depth: Infinity, breakLength: Infinity): the decoder must read what the
// encoder writes, and print it as Node would.
var nodeCases = []struct {
	name, json, want string
	bufs             []string // hex
}{
	{"str", `"hello"`, "'hello'", nil},
	{"strq", `"it's"`, "\"it's\"", nil},
	{"strboth", `"it's \"x\""`, "`it's \"x\"`", nil},
	{"strctl", `"a\nb\t\u0000\u007f\u0085é"`, "'a\\nb\\t\\x00\\x7F\\x85é'", nil},
	{"num", `1.5`, "1.5", nil},
	{"int", `42`, "42", nil},
	{"big", `1e+21`, "1e+21", nil},
	{"small", `1e-7`, "1e-7", nil},
	{"neg0", `{"$":"n","v":"-0"}`, "-0", nil},
	{"nan", `{"$":"n","v":"NaN"}`, "NaN", nil},
	{"inf", `{"$":"n","v":"-Infinity"}`, "-Infinity", nil},
	{"tiny", `5e-324`, "5e-324", nil},
	{"max", `1.7976931348623157e+308`, "1.7976931348623157e+308", nil},
	{"frac", `0.30000000000000004`, "0.30000000000000004", nil},
	{"n123e20", `1.23e+22`, "1.23e+22", nil},
	{"t", `true`, "true", nil},
	{"nul", `null`, "null", nil},
	{"undef", `{"$":"u"}`, "undefined", nil},
	{"bigint", `{"$":"b","v":"12345678901234567890"}`, "12345678901234567890n", nil},
	{"negbig", `{"$":"b","v":"-5"}`, "-5n", nil},
	{"dollarOnly", `{"$":"O","v":{"$":"u"}}`, "{ '$': 'u' }", nil},
	{"keys", `{"1":"one","2":"two","b":1,"a":2,"has space":3,"_x$":4,"9a":5}`, "{ '1': 'one', '2': 'two', b: 1, a: 2, 'has space': 3, '_x$': 4, '9a': 5 }", nil},
	{"arr", `[]`, "[]", nil},
	{"emptyObj", `{}`, "{}", nil},
	{"sparse", `[1,{"$":"_"},{"$":"_"},4,{"$":"_"},{"$":"_"},{"$":"_"},8]`, "[ 1, <2 empty items>, 4, <3 empty items>, 8 ]", nil},
	{"holesOnly", `[{"$":"_"},{"$":"_"},{"$":"_"}]`, "[ <3 empty items> ]", nil},
	{"date", `{"$":"D","v":1704164645006}`, "2024-01-02T03:04:05.006Z", nil},
	{"badDate", `{"$":"D","v":null}`, "Invalid Date", nil},
	{"oldDate", `{"$":"D","v":-62198755200000}`, "-000001-01-01T00:00:00.000Z", nil},
	{"farDate", `{"$":"D","v":8640000000000000}`, "+275760-09-13T00:00:00.000Z", nil},
	{"re", `{"$":"R","s":"a+b","f":"gi"}`, "/a+b/gi", nil},
	{"map", `{"$":"M","v":["a",1,{"k":1},[1,2]]}`, "Map(2) { 'a' => 1, { k: 1 } => [ 1, 2 ] }", nil},
	{"emptyMap", `{"$":"M","v":[]}`, "Map(0) {}", nil},
	{"set", `{"$":"S","v":[1,"a",[2]]}`, "Set(3) { 1, 'a', [ 2 ] }", nil},
	{"ab", `{"$":"A","i":0}`, "ArrayBuffer { [Uint8Contents]: <01 02 ff>, byteLength: 3 }", []string{"0102ff"}},
	{"u8", `{"$":"V","t":"Uint8Array","i":0}`, "Uint8Array(3) [ 1, 2, 3 ]", []string{"010203"}},
	{"i16", `{"$":"V","t":"Int16Array","i":0}`, "Int16Array(2) [ -1, 300 ]", []string{"ffff2c01"}},
	{"f32", `{"$":"V","t":"Float32Array","i":0}`, "Float32Array(2) [ 0.10000000149011612, -2.5 ]", []string{"cdcccc3d000020c0"}},
	{"f64", `{"$":"V","t":"Float64Array","i":0}`, "Float64Array(2) [ 1e+21, -0 ]", []string{"50efe2d6e41a4b440000000000000080"}},
	{"b64", `{"$":"V","t":"BigInt64Array","i":0}`, "BigInt64Array(2) [ -1n, 2n ]", []string{"ffffffffffffffff0200000000000000"}},
	{"bu64", `{"$":"V","t":"BigUint64Array","i":0}`, "BigUint64Array(1) [ 18446744073709551615n ]", []string{"ffffffffffffffff"}},
	{"u32", `{"$":"V","t":"Uint32Array","i":0}`, "Uint32Array(1) [ 4294967295 ]", []string{"ffffffff"}},
	{"clamped", `{"$":"V","t":"Uint8ClampedArray","i":0}`, "Uint8ClampedArray(1) [ 9 ]", []string{"09"}},
	{"dv", `{"$":"V","t":"DataView","i":0}`, "DataView { byteLength: 2, byteOffset: 0, buffer: ArrayBuffer { [Uint8Contents]: <09 08>, byteLength: 2 } }", []string{"0908"}},
	{"i8", `{"$":"V","t":"Int8Array","i":0}`, "Int8Array(1) [ -128 ]", []string{"80"}},
	{"sharedRefs", `{"a":{"x":1},"b":{"$":"r","i":1},"c":[{"$":"r","i":1}]}`, "{ a: { x: 1 }, b: { x: 1 }, c: [ { x: 1 } ] }", nil},
	{"cyc", `{"name":"c","self":{"$":"r","i":0}}`, "<ref *1> { name: 'c', self: [Circular *1] }", nil},
	{"arrCyc", `[1,{"$":"r","i":0}]`, "<ref *1> [ 1, [Circular *1] ]", nil},
	{"boxS", `{"$":"B","t":"s","v":"boxed"}`, "[String: 'boxed']", nil},
	{"boxB", `{"$":"B","t":"t","v":false}`, "[Boolean: false]", nil},
	{"boxBig", `{"$":"B","t":"b","v":"7"}`, "[BigInt: 7n]", nil},
	{"boxNaN", `{"$":"B","t":"n","v":"NaN"}`, "[Number: NaN]", nil},
	{"mapCyc", `{"$":"M","v":["me",{"$":"r","i":0}]}`, "<ref *1> Map(1) { 'me' => [Circular *1] }", nil},
	{"twoCycles", `{"n":"a","b":{"n":"b","a":{"$":"r","i":0},"b":{"$":"r","i":1}}}`, "<ref *1> { n: 'a', b: <ref *2> { n: 'b', a: [Circular *1], b: [Circular *2] } }", nil},
	{"sharedTypedBuf", `[{"$":"V","t":"Uint8Array","i":0},{"$":"r","i":1}]`, "[ Uint8Array(1) [ 5 ], Uint8Array(1) [ 5 ] ]", []string{"05"}},
}

func stored(t *testing.T, json string, hexBufs []string) []byte {
	t.Helper()
	var bufs [][]byte
	for _, h := range hexBufs {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
	}
	return EncodeStored(json, bufs...)
}

func TestRenderLikeNode(t *testing.T) {
	for _, c := range nodeCases {
		b := stored(t, c.json, c.bufs)
		if len(c.bufs) == 0 && string(b) != c.json {
			t.Fatalf("%s: a value without buffers is stored as its JSON", c.name)
		}
		v, err := DecodeStored(b)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := Render(v, RenderOptions{}); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
