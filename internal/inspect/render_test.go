package inspect

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func render(t *testing.T, json string, opts RenderOptions) string {
	t.Helper()
	v, err := DecodeStored([]byte(json))
	if err != nil {
		t.Fatalf("%s: %v", json, err)
	}
	return Render(v, opts)
}

// Errors print as console.log prints an error without a stack (a stored
// error keeps none).
func TestRenderErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"$":"E","n":"TypeError","m":"bad thing","p":{"code":42}}`, "[TypeError: bad thing] { code: 42 }"},
		{`{"$":"E","n":"Error","m":"outer","c":{"$":"E","n":"RangeError","m":"inner"}}`, "[Error: outer] { [cause]: [RangeError: inner] }"},
		{`{"$":"E","n":"MyError","m":"custom"}`, "[MyError: custom]"},
		{`{"$":"E","n":"AggregateError","m":"many","e":[{"$":"E","n":"Error","m":"a"},1]}`, "[AggregateError: many] { [errors]: [ [Error: a], 1 ] }"},
		{`{"$":"E","n":"DataCloneError","m":"nope","x":1}`, "[DOMException [DataCloneError]: nope]"},
		{`{"$":"E","n":"Error","m":""}`, "[Error]"},
		{`{"$":"E","n":"Error","m":"loop","p":{"self":{"$":"r","i":0}}}`, "<ref *1> [Error: loop] { self: [Circular *1] }"},
		{`{"$":"E","n":"Error","m":"undefined cause","c":{"$":"u"}}`, "[Error: undefined cause] { [cause]: undefined }"},
	} {
		if got := render(t, c.json, RenderOptions{}); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.json, got, c.want)
		}
	}
}

func TestRenderOther(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"$":"Q","m":"POST","u":"https://example.com/","h":[],"r":"follow","b":-1}`, "Request { method: 'POST', url: 'https://example.com/' }"},
		{`{"$":"P","s":404,"t":"Not Found","h":[],"b":-1}`, "Response { status: 404, statusText: 'Not Found' }"},
		{`{"$":"H","v":[["a","1"],["b","2"]]}`, "Headers { 'a': '1', 'b': '2' }"},
		{`{"$":"c","i":0}`, "[RPC stub]"},
		{`{"$":"B","t":"n","v":"-2.5"}`, "[Number: -2.5]"},
		{`{"$":"B","t":"n","v":"-Infinity"}`, "[Number: -Infinity]"},
		{`{"$":"V","t":"NoSuchArray","i":0}`, "Uint8Array(2) [ 1, 2 ]"},
		{`"a'b\"c` + "`" + `"`, `'a\'b"c` + "`'"},
	} {
		b := []byte(c.json)
		if strings.Contains(c.json, `"i":0`) && !strings.Contains(c.json, `"$":"c"`) {
			b = EncodeStored(c.json, []byte{1, 2})
		}
		v, err := DecodeStored(b)
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if got := Render(v, RenderOptions{}); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.json, got, c.want)
		}
	}
}

func TestRenderMultiline(t *testing.T) {
	json := `{"$":"O","v":{"a":1,"b-c":[1,"x"],"$":"dollar","nested":{"deep":{"deeper":[null]}}}}`
	want := "{\n  a: 1,\n  'b-c': [ 1, 'x' ],\n  '$': 'dollar',\n  nested: { deep: { deeper: [ null ] } }\n}"
	if got := render(t, json, RenderOptions{Multiline: true}); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := render(t, json, RenderOptions{}); strings.Contains(got, "\n") {
		t.Errorf("one-line output has a line break: %s", got)
	}
}

func TestRenderLimits(t *testing.T) {
	var nums []string
	for i := 0; i < 150; i++ {
		nums = append(nums, fmt.Sprint(i))
	}
	arr := "[" + strings.Join(nums, ",") + "]"
	if got := render(t, arr, RenderOptions{}); !strings.HasSuffix(got, ", 98, 99, ... 50 more items ]") {
		t.Errorf("long array: %s", got)
	}
	if got := render(t, arr, RenderOptions{MaxItems: -1}); !strings.HasSuffix(got, ", 148, 149 ]") {
		t.Errorf("long array, all items: %s", got)
	}
	if got := render(t, arr, RenderOptions{MaxLen: 20}); got != "[ 0, 1, 2, 3, 4, 5, …" {
		t.Errorf("cut array: %q", got)
	}
	long := `"` + strings.Repeat("é", 5000) + `"`
	if got := render(t, long, RenderOptions{MaxLen: 10}); got != "'ééééééééé…" {
		t.Errorf("cut string: %q", got)
	}
	buf := EncodeStored(`{"$":"A","i":0}`, make([]byte, 300))
	v, err := DecodeStored(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := Render(v, RenderOptions{}); !strings.HasSuffix(got, "00 00 ... 200 more bytes>, byteLength: 300 }") {
		t.Errorf("long buffer: %s", got)
	}

	// An object shared at every level prints 2^40 times in full; the
	// output and the work stop at the limit.
	var b strings.Builder
	var level func(k int)
	level = func(k int) {
		if k == 0 {
			b.WriteString(`{"x":1}`)
			return
		}
		b.WriteString("[")
		level(k - 1)
		fmt.Fprintf(&b, `,{"$":"r","i":%d}]`, 40-(k-1))
	}
	level(40)
	start := time.Now()
	if got := render(t, b.String(), RenderOptions{MaxLen: 200}); len([]rune(got)) != 201 || !strings.HasSuffix(got, "…") {
		t.Errorf("shared DAG, cut: %d runes: %s", len([]rune(got)), got)
	}
	if got := render(t, b.String(), RenderOptions{MaxItems: -1}); !strings.HasSuffix(got, "…") {
		t.Errorf("shared DAG, all: not cut (%d bytes)", len(got))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("rendering a shared DAG took %s", d)
	}
}

func TestDecodeBadValues(t *testing.T) {
	for _, c := range []struct {
		stored []byte
		want   string
	}{
		{[]byte(``), "not valid JSON"},
		{[]byte(`{"a":`), "not valid JSON"},
		{[]byte(`1 2`), "text after the value"},
		{[]byte(`{"$":"zz"}`), `unknown tag "zz"`},
		{[]byte(`{"$":"r","i":3}`), "reference to object 3"},
		{[]byte(`{"$":"A","i":0}`), "buffer 0 does not exist"},
		{[]byte(`{"$":"M","v":[1]}`), "even number"},
		{[]byte(`{"$":"n","v":"12"}`), "unknown number"},
		{[]byte(`{"$":"_"}`), "hole"},
		{[]byte{0, 5, 1}, "buffer"},
		{[]byte{0, 1, 10, 1, 2}, "buffer 0 is 10 bytes"},
		{[]byte{0, 0x80}, "bad buffer count"},
		{[]byte(strings.Repeat("[", 6000) + strings.Repeat("]", 6000)), "nested too deep"},
	} {
		_, err := DecodeStored(c.stored)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("% x: got %v, want an error with %q", c.stored, err, c.want)
		}
	}
	got := RenderStored([]byte(`{"$":"zz"}`), RenderOptions{})
	if !strings.HasPrefix(got, `<undecodable value, 10 bytes: unknown tag "zz": 7b 22`) {
		t.Errorf("undecodable: %s", got)
	}
}

func TestFormatNumber(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -1: "-1", 0.5: "0.5", 123456789012345680000: "123456789012345680000",
		1e21: "1e+21", 1.5e-7: "1.5e-7", 0.000001: "0.000001", 1e-6 / 2: "5e-7", 1.25e300: "1.25e+300",
		-0.001: "-0.001", 100: "100",
	} {
		if got := formatNumber(f); got != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func TestFormatAlarm(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	if got := FormatAlarm(now.Add(90*time.Second), now); got != "2025-03-04T05:07:37.000Z (in 1m30s)" {
		t.Error(got)
	}
	if got := FormatAlarm(now.Add(-time.Hour), now); got != "2025-03-04T04:06:07.000Z (overdue by 1h0m)" {
		t.Error(got)
	}
	if got := FormatAlarm(now.Add(1000*time.Hour), now); got != "2025-04-14T21:06:07.000Z (in 41 days)" {
		t.Error(got)
	}
	if got := FormatAlarm(now.Add(time.Millisecond), now); got != "2025-03-04T05:06:07.001Z (now)" {
		t.Error(got)
	}
}
