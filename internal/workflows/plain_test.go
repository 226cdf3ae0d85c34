package workflows

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The encoded values below are what the prelude's RpcEncoder (65_rpc.js)
// writes for the JavaScript value named in each case.
func TestPlain(t *testing.T) {
	cases := []struct {
		name string
		json string
		bufs []string // base64
		want string
	}{
		{"plain JSON", `{"a":[1,2.50,"x"],"b":null,"c":true}`, nil, `{"a":[1,2.50,"x"],"b":null,"c":true}`},
		{"key order", `{"z":1,"a":2,"m":3}`, nil, `{"z":1,"a":2,"m":3}`},
		{"string", `"hi <&>"`, nil, `"hi <&>"`},
		{"undefined", `{"$":"u"}`, nil, `null`},
		{"NaN", `{"$":"n","v":"NaN"}`, nil, `"NaN"`},
		{"-Infinity", `{"$":"n","v":"-Infinity"}`, nil, `"-Infinity"`},
		{"-0", `{"$":"n","v":"-0"}`, nil, `0`},
		{"bigint", `{"$":"b","v":"12345678901234567890"}`, nil, `"12345678901234567890"`},
		{"Date", `{"$":"D","v":1714564800005}`, nil, `"2024-05-01T12:00:00.005Z"`},
		{"Date before 1970", `{"$":"D","v":-1}`, nil, `"1969-12-31T23:59:59.999Z"`},
		{"Date of a large year", `{"$":"D","v":8640000000000000}`, nil, `"+275760-09-13T00:00:00.000Z"`},
		{"Date of a negative year", `{"$":"D","v":-62198755200000}`, nil, `"-000001-01-01T00:00:00.000Z"`},
		{"invalid Date", `{"$":"D","v":null}`, nil, `null`},
		{"RegExp", `{"$":"R","s":"a+b","f":"gi"}`, nil, `"/a+b/gi"`},
		{"Map with string keys", `{"$":"M","v":["a",1,"b",{"$":"D","v":0}]}`, nil, `{"a":1,"b":"1970-01-01T00:00:00.000Z"}`},
		{"Map with other keys", `{"$":"M","v":[1,"one","x",{"$":"b","v":"2"}]}`, nil, `[[1,"one"],["x","2"]]`},
		{"Map with a bigint key", `{"$":"M","v":[{"$":"b","v":"1"},"one"]}`, nil, `[["1","one"]]`},
		{"empty Map", `{"$":"M","v":[]}`, nil, `{}`},
		{"Set", `{"$":"S","v":[1,"two",{"$":"u"}]}`, nil, `[1,"two",null]`},
		{"ArrayBuffer", `{"$":"A","i":0}`, []string{"AQID"}, `{"$binary":"AQID"}`},
		{"Uint16Array", `{"$":"V","t":"Uint16Array","i":0}`, []string{"AQAAAQ=="}, `{"$binary":"AQAAAQ==","$type":"Uint16Array"}`},
		{"unknown view type", `{"$":"V","t":"Nope","i":0}`, []string{""}, `{"$binary":"","$type":"Uint8Array"}`},
		{"second buffer", `[{"$":"A","i":1},{"$":"A","i":0}]`, []string{"AA==", "/w=="}, `[{"$binary":"/w=="},{"$binary":"AA=="}]`},
		{"object with a $ key", `{"$":"O","v":{"$":"x","inner":{"$":"O","v":{"$":1}}}}`, nil, `{"$":"x","inner":{"$":1}}`},
		{"shared object", `{"a":{"x":1},"b":{"$":"r","i":1},"c":[{"$":"r","i":1}]}`, nil, `{"a":{"x":1},"b":{"x":1},"c":[{"x":1}]}`},
		{"cycle", `{"a":1,"self":{"$":"r","i":0}}`, nil, `{"a":1,"self":"[Circular]"}`},
		{"shared Date", `[{"$":"D","v":0},{"$":"r","i":1}]`, nil, `["1970-01-01T00:00:00.000Z","1970-01-01T00:00:00.000Z"]`},
		{"array hole", `[1,{"$":"_"},3]`, nil, `[1,null,3]`},
		{"Error", `{"$":"E","n":"TypeError","m":"bad","p":{"code":7,"cause":{"$":"E","n":"Error","m":"root"}},"c":{"$":"r","i":1}}`, nil,
			`{"name":"TypeError","message":"bad","code":7,"cause":{"name":"Error","message":"root"}}`},
		{"AggregateError", `{"$":"E","n":"AggregateError","m":"all","e":[{"$":"E","n":"Error","m":"one"}]}`, nil,
			`{"name":"AggregateError","message":"all","errors":[{"name":"Error","message":"one"}]}`},
		{"boxed", `[{"$":"B","t":"s","v":"s"},{"$":"B","t":"b","v":"1"},{"$":"B","t":"n","v":"NaN"},{"$":"B","t":"n","v":"2"},{"$":"B","t":"t","v":false}]`, nil,
			`["s","1","NaN",2,false]`},
		{"Request", `{"$":"Q","m":"POST","u":"https://x/","h":[],"r":"follow","b":-1}`, nil, `{"method":"POST","url":"https://x/"}`},
		{"Response", `{"$":"P","s":404,"t":"Not Found","h":[],"b":-1}`, nil, `{"status":404,"statusText":"Not Found"}`},
		{"Headers", `{"$":"H","v":[["a","1"],["b","2"],["a","3"]]}`, nil, `{"a":"1, 3","b":"2"}`},
		{"stream", `{"$":"RS","i":0}`, []string{"aGk="}, `{"$binary":"aGk="}`},
		{"RPC stub", `{"$":"c","i":0}`, nil, `"[RPC stub]"`},
		{"nested", `{"when":{"$":"D","v":86400000},"tags":{"$":"S","v":["a"]},"n":1.5e+300}`, nil,
			`{"when":"1970-01-02T00:00:00.000Z","tags":["a"],"n":1.5e+300}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &Value{JSON: c.json}
			for _, s := range c.bufs {
				v.Bufs = append(v.Bufs, b64(t, s))
			}
			got, err := v.Plain()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Plain(%s)\n got %s\nwant %s", c.json, got, c.want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestPlainNil(t *testing.T) {
	var v *Value
	got, err := v.Plain()
	if err != nil || string(got) != "null" {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestPlainErrors(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"not JSON", `{"a":`, "not valid JSON"},
		{"trailing text", `1 2`, "text after the value"},
		{"unknown tag", `{"$":"zz"}`, `unknown tag "zz"`},
		{"tag not a string", `{"$":1}`, "not a string"},
		{"reference ahead", `[{"$":"r","i":5}]`, "reference to object 5"},
		{"missing buffer", `{"$":"A","i":0}`, "buffer 0 does not exist"},
		{"odd Map", `{"$":"M","v":[1]}`, "even number"},
		{"bad Headers", `{"$":"H","v":[["a"]]}`, "pairs of strings"},
		{"too deep", strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2), "nested too deep"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&Value{JSON: c.json}).Plain()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestPlainTooLarge: an object shared at every level is written out once per
// path to it; past the budget Plain gives up instead of growing without end.
func TestPlainTooLarge(t *testing.T) {
	defer func(n int) { maxPlainBytes = n }(maxPlainBytes)
	maxPlainBytes = 1 << 20
	var b strings.Builder
	b.WriteString(`[{"x":"` + strings.Repeat("a", 1000) + `"}`)
	// Each array holds the previous one twice: object i+1 is array i.
	for i := 0; i < 40; i++ {
		b.WriteString(`,[{"$":"r","i":` + itoa(i+1) + `},{"$":"r","i":` + itoa(i+1) + `}]`)
	}
	b.WriteString(`]`)
	// Object 1 is {"x":...}; object n+1 is the array that holds object n
	// twice. Every reference points at an object already complete.
	_, err := (&Value{JSON: b.String()}).Plain()
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestValueFromJSON(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty is undefined", ``, `{"$":"u"}`},
		{"blank is undefined", " \n", `{"$":"u"}`},
		{"null", `null`, `null`},
		{"number text kept", `1.50e3`, `1.50e3`},
		{"string", `"a\u003cb"`, `"a<b"`},
		{"compacted", "{ \"a\" : [ 1 , 2 ] }", `{"a":[1,2]}`},
		{"key order", `{"z":1,"a":{"y":2,"b":3}}`, `{"z":1,"a":{"y":2,"b":3}}`},
		{"$ key wrapped", `{"$":"u"}`, `{"$":"O","v":{"$":"u"}}`},
		{"nested $ keys", `{"a":[{"$":1,"b":{"$":null}}]}`, `{"a":[{"$":"O","v":{"$":1,"b":{"$":"O","v":{"$":null}}}}]}`},
		{"other $ names left alone", `{"$binary":"AA==","$x":1}`, `{"$binary":"AA==","$x":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := ValueFromJSON(json.RawMessage(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if v.JSON != c.want || len(v.Bufs) != 0 {
				t.Errorf("ValueFromJSON(%s) = %s, want %s", c.in, v.JSON, c.want)
			}
		})
	}
}

func TestValueFromJSONInvalid(t *testing.T) {
	for _, in := range []string{`{`, `{"a":1,}`, `1 2`, `[1]]`, `nope`} {
		_, err := ValueFromJSON(json.RawMessage(in))
		var ue *UserError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("%q: got %v, want a *UserError about invalid JSON", in, err)
		}
	}
}

// TestPlainOfValueFromJSON: what an operator sends comes back unchanged.
func TestPlainOfValueFromJSON(t *testing.T) {
	for _, in := range []string{
		`null`, `true`, `-0`, `"x"`, `[]`, `{}`, `{"$":"u"}`, `{"$":"O","v":{"a":1}}`,
		`{"order":[{"$":"r","i":0}],"q":1e-7,"s":"\u2028 <b>"}`,
	} {
		v, err := ValueFromJSON(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Plain()
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want bytes.Buffer
		json.Compact(&want, []byte(in))
		var gotC bytes.Buffer
		json.Compact(&gotC, got)
		// Compare as decoded JSON: string escapes may differ.
		var a, b any
		json.Unmarshal(want.Bytes(), &a)
		json.Unmarshal(gotC.Bytes(), &b)
		if ja, _ := json.Marshal(a); string(ja) != string(mustMarshal(b)) {
			t.Errorf("%s: came back as %s", in, got)
		}
	}
}

func mustMarshal(v any) []byte { b, _ := json.Marshal(v); return b }
