package workflows

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Values for people. Stored values (params, outputs, step results, event
// payloads) are the prelude's tagged JSON (internal/runtime/js/65_rpc.js):
// plain JSON stays as it is, anything else is an object {"$": tag, ...},
// binary data lives in Value.Bufs, and a shared object or a cycle is a
// back-reference {"$":"r","i":n}. Plain turns that into ordinary JSON an
// operator can read, and ValueFromJSON turns ordinary JSON an operator typed
// into the tagged form.
//
// Plain is one way: it shows values, it does not preserve them. It maps
//
//	undefined, an array hole          null
//	NaN, Infinity, -Infinity          "NaN", "Infinity", "-Infinity"
//	-0                                0
//	bigint                            its decimal digits as a string: "123"
//	Date                              its ISO string, "2024-05-01T12:00:00.000Z" (null if invalid)
//	RegExp                            "/source/flags"
//	Map                               an object when every key is a string, else [[key, value], ...]
//	Set                               an array
//	ArrayBuffer                       {"$binary": "<base64>"}
//	typed array, DataView             {"$binary": "<base64>", "$type": "Uint8Array"}
//	Error                             {"name", "message", its own properties, "cause"?, "errors"?}
//	new String("x"), Object(1n) ...   the primitive inside, as above
//	Request                           {"method", "url"}
//	Response                          {"status", "statusText"}
//	Headers                           {name: value}, repeated names joined with ", "
//	ReadableStream                    {"$binary": "<base64>"} of its bytes
//	an RPC stub                       "[RPC stub]"
//	an object met again inside itself "[Circular]"
//
// An object met twice without a cycle is written twice. Numbers keep the
// text they were stored with, and objects the order of their keys.

// Plain returns v as plain JSON for people (see above). A nil Value is null.
func (v *Value) Plain() (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	tree, err := parseOrdered([]byte(v.JSON))
	if err != nil {
		return nil, fmt.Errorf("workflows: stored value: %w", err)
	}
	d := plainDecoder{bufs: v.Bufs}
	p, err := d.decode(tree)
	if err != nil {
		return nil, fmt.Errorf("workflows: stored value: %w", err)
	}
	w := plainWriter{onStack: map[*jnode]bool{}, budget: maxPlainBytes}
	if err := w.write(p); err != nil {
		return nil, fmt.Errorf("workflows: stored value: %w", err)
	}
	return json.RawMessage(w.buf.Bytes()), nil
}

// ValueFromJSON turns plain JSON an operator gave (params, an event's
// payload) into a stored value that the prelude decodes to what JSON.parse
// would make of raw. An object with its own "$" key is wrapped as
// {"$":"O","v":{...}}, as the encoder does, so that it is not read as a tag.
// Empty input is undefined. Invalid JSON is a *UserError.
func ValueFromJSON(raw json.RawMessage) (Value, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return Value{JSON: `{"$":"u"}`}, nil
	}
	tree, err := parseOrdered(raw)
	if err != nil {
		return Value{}, &UserError{Message: err.Error()}
	}
	var b bytes.Buffer
	writeTagged(&b, tree)
	return Value{JSON: b.String()}, nil
}

// maxPlainBytes bounds Plain's output. A stored value is at most about a
// megabyte, but one that holds the same object at every level of nesting
// is written out exponentially many times.
var maxPlainBytes = 16 << 20 // a variable for tests

// ---- ordered JSON ----

// jnode is parsed JSON that keeps the order of object keys (which
// encoding/json's maps lose) and the text of numbers.
type jnode struct {
	kind  byte   // 's' string, 'n' number, 'b' bool, '0' null, 'o' object, 'a' array
	str   string // a string's value, a number's text
	bool  bool
	keys  []string
	items []*jnode
}

func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return n.items[i]
		}
	}
	return nil
}

func (n *jnode) add(key string, v *jnode) {
	n.keys = append(n.keys, key)
	n.items = append(n.items, v)
}

// set replaces key's value, or adds it.
func (n *jnode) set(key string, v *jnode) {
	for i, k := range n.keys {
		if k == key {
			n.items[i] = v
			return
		}
	}
	n.add(key, v)
}

func jstr(s string) *jnode { return &jnode{kind: 's', str: s} }

func parseOrdered(text []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	n, err := parseJNode(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: text after the value")
	}
	return n, nil
}

// maxDepth bounds recursion on damaged or hostile input; the encoder
// refuses values nested deeper than 1000 objects, and tags add a level or
// two each.
const maxDepth = 5000

func parseJNode(dec *json.Decoder, depth int) (*jnode, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case string:
		return jstr(t), nil
	case json.Number:
		return &jnode{kind: 'n', str: string(t)}, nil
	case bool:
		return &jnode{kind: 'b', bool: t}, nil
	case nil:
		return &jnode{kind: '0'}, nil
	case json.Delim:
		if t != '{' && t != '[' {
			return nil, fmt.Errorf("unexpected %q", t)
		}
		n := &jnode{kind: 'a'}
		if t == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			key := ""
			if n.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key = k.(string)
			}
			item, err := parseJNode(dec, depth+1)
			if err != nil {
				return nil, err
			}
			if n.kind == 'o' {
				n.keys = append(n.keys, key)
			}
			n.items = append(n.items, item)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// ---- tagged → plain ----

// plainDecoder mirrors RpcDecoder in 65_rpc.js, making plain JSON nodes
// instead of JavaScript values. It numbers the objects it makes in the order
// the JavaScript decoder does, so that {"$":"r","i":n} finds the right one;
// a reference back to an object still being filled makes a cycle of nodes,
// which the writer shows as "[Circular]".
type plainDecoder struct {
	bufs [][]byte
	objs []*jnode
}

func (d *plainDecoder) reg(n *jnode) *jnode {
	d.objs = append(d.objs, n)
	return n
}

var nullNode = &jnode{kind: '0'}

func (d *plainDecoder) decode(n *jnode) (*jnode, error) {
	switch n.kind {
	case 's', 'n', 'b', '0':
		return n, nil
	case 'a':
		out := d.reg(&jnode{kind: 'a'})
		for _, item := range n.items {
			x, err := d.decode(item)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, x)
		}
		return out, nil
	}
	tag := n.get("$")
	if tag == nil {
		return d.object(n)
	}
	if tag.kind != 's' {
		return nil, errors.New(`a tag ("$") that is not a string`)
	}
	switch tag.str {
	case "O":
		inner := n.get("v")
		if inner == nil || inner.kind != 'o' {
			return nil, errors.New(`tag "O" needs an object "v"`)
		}
		return d.object(inner)
	case "u", "_":
		return nullNode, nil
	case "r":
		i, err := intField(n, "i")
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(d.objs) {
			return nil, fmt.Errorf("reference to object %d, but only %d came before it", i, len(d.objs))
		}
		return d.objs[i], nil
	case "c":
		return jstr("[RPC stub]"), nil
	case "n":
		s, err := strField(n, "v")
		if err != nil {
			return nil, err
		}
		return numberNode(s), nil
	case "b":
		s, err := strField(n, "v")
		if err != nil {
			return nil, err
		}
		return jstr(s), nil
	case "D":
		out := d.reg(&jnode{kind: '0'})
		if t := n.get("v"); t != nil && t.kind == 'n' {
			if ms, err := strconv.ParseFloat(t.str, 64); err == nil {
				if s, ok := isoDate(ms); ok {
					*out = *jstr(s)
				}
			}
		}
		return out, nil
	case "R":
		src, err := strField(n, "s")
		if err != nil {
			return nil, err
		}
		flags, err := strField(n, "f")
		if err != nil {
			return nil, err
		}
		return d.reg(jstr("/" + src + "/" + flags)), nil
	case "M":
		items, err := arrField(n, "v")
		if err != nil {
			return nil, err
		}
		if len(items)%2 != 0 {
			return nil, errors.New(`tag "M" needs an even number of items (key, value, ...)`)
		}
		out := d.reg(&jnode{kind: 'o'})
		var pairs []*jnode
		for i := 0; i < len(items); i += 2 {
			k, err := d.decode(items[i])
			if err != nil {
				return nil, err
			}
			v, err := d.decode(items[i+1])
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, k, v)
		}
		// An object when every key is a string (a Map's keys are distinct,
		// so no key is lost), else an array of [key, value] pairs.
		strKeys := true
		for i := 0; i < len(pairs); i += 2 {
			if pairs[i].kind != 's' || wasTagged(items[i]) {
				strKeys = false
				break
			}
		}
		for i := 0; i < len(pairs); i += 2 {
			if strKeys {
				out.add(pairs[i].str, pairs[i+1])
			} else {
				out.items = append(out.items, &jnode{kind: 'a', items: []*jnode{pairs[i], pairs[i+1]}})
			}
		}
		if !strKeys {
			out.kind = 'a'
		}
		return out, nil
	case "S":
		items, err := arrField(n, "v")
		if err != nil {
			return nil, err
		}
		out := d.reg(&jnode{kind: 'a'})
		for _, item := range items {
			x, err := d.decode(item)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, x)
		}
		return out, nil
	case "A", "RS":
		b, err := d.buf(n)
		if err != nil {
			return nil, err
		}
		return d.reg(binaryNode(b, "")), nil
	case "V":
		b, err := d.buf(n)
		if err != nil {
			return nil, err
		}
		t, _ := strField(n, "t")
		if !typedArrayTypes[t] {
			t = "Uint8Array" // what the JavaScript decoder makes of an unknown type
		}
		return d.reg(binaryNode(b, t)), nil
	case "E":
		return d.error(n)
	case "B":
		t, err := strField(n, "t")
		if err != nil {
			return nil, err
		}
		inner := n.get("v")
		if inner == nil {
			return nil, errors.New(`tag "B" needs a "v"`)
		}
		var x *jnode
		switch {
		case (t == "s" || t == "b") && inner.kind == 's':
			x = jstr(inner.str)
		case t == "n" && inner.kind == 's':
			x = numberNode(inner.str)
		case t == "t" && inner.kind == 'b':
			x = inner
		default:
			return nil, fmt.Errorf("a boxed value of unknown type %q", t)
		}
		return d.reg(x), nil
	case "Q":
		m, _ := strField(n, "m")
		u, _ := strField(n, "u")
		out := &jnode{kind: 'o'}
		out.add("method", jstr(m))
		out.add("url", jstr(u))
		return d.reg(out), nil
	case "P":
		out := &jnode{kind: 'o'}
		status := &jnode{kind: 'n', str: "200"}
		if s := n.get("s"); s != nil && s.kind == 'n' {
			status = s
		}
		t, _ := strField(n, "t")
		out.add("status", status)
		out.add("statusText", jstr(t))
		return d.reg(out), nil
	case "H":
		pairs, err := arrField(n, "v")
		if err != nil {
			return nil, err
		}
		out := d.reg(&jnode{kind: 'o'})
		for _, p := range pairs {
			if p.kind != 'a' || len(p.items) != 2 || p.items[0].kind != 's' || p.items[1].kind != 's' {
				return nil, errors.New(`tag "H" needs [name, value] pairs of strings`)
			}
			name, value := p.items[0].str, p.items[1].str
			if prev := out.get(name); prev != nil {
				prev.str += ", " + value
				continue
			}
			out.add(name, jstr(value))
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown tag %q", tag.str)
}

// wasTagged reports whether an encoded Map key was a tagged value (a
// bigint, a Date, a boxed string...), which must not pass for a string key
// even though it is shown as a string.
func wasTagged(n *jnode) bool { return n.kind == 'o' }

func (d *plainDecoder) object(n *jnode) (*jnode, error) {
	out := d.reg(&jnode{kind: 'o'})
	for i, k := range n.keys {
		x, err := d.decode(n.items[i])
		if err != nil {
			return nil, err
		}
		out.add(k, x)
	}
	return out, nil
}

// error decodes an "E" tag in the JavaScript decoder's order: the error is
// numbered before its properties, cause and errors are decoded.
func (d *plainDecoder) error(n *jnode) (*jnode, error) {
	name, err := strField(n, "n")
	if err != nil {
		return nil, err
	}
	msg, err := strField(n, "m")
	if err != nil {
		return nil, err
	}
	out := d.reg(&jnode{kind: 'o'})
	out.add("name", jstr(name))
	out.add("message", jstr(msg))
	if p := n.get("p"); p != nil {
		if p.kind != 'o' {
			return nil, errors.New(`tag "E" needs an object "p"`)
		}
		for i, k := range p.keys {
			x, err := d.decode(p.items[i])
			if err != nil {
				return nil, err
			}
			if k == "name" || k == "message" {
				continue
			}
			out.add(k, x)
		}
	}
	for _, f := range [...]struct{ key, name string }{{"c", "cause"}, {"e", "errors"}} {
		if c := n.get(f.key); c != nil {
			x, err := d.decode(c)
			if err != nil {
				return nil, err
			}
			out.set(f.name, x) // the decoder's defineProperty replaces an own "cause"
		}
	}
	return out, nil
}

func (d *plainDecoder) buf(n *jnode) ([]byte, error) {
	i, err := intField(n, "i")
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(d.bufs) {
		return nil, fmt.Errorf("buffer %d does not exist (the value has %d)", i, len(d.bufs))
	}
	return d.bufs[i], nil
}

func binaryNode(b []byte, typ string) *jnode {
	out := &jnode{kind: 'o'}
	out.add("$binary", jstr(base64.StdEncoding.EncodeToString(b)))
	if typ != "" {
		out.add("$type", jstr(typ))
	}
	return out
}

// numberNode is a number written as a string by the encoder (String(n)):
// -0 becomes 0, what JSON cannot hold stays a string.
func numberNode(s string) *jnode {
	if s == "-0" {
		return &jnode{kind: 'n', str: "0"}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && json.Valid([]byte(s)) {
		return &jnode{kind: 'n', str: s}
	}
	return jstr(s)
}

// isoDate is Date.prototype.toISOString; false for an invalid date.
func isoDate(ms float64) (string, bool) {
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return "", false
	}
	t := time.UnixMilli(int64(ms)).UTC()
	rest := t.Format("-01-02T15:04:05.000Z")
	y := t.Year()
	switch {
	case y >= 0 && y <= 9999:
		return fmt.Sprintf("%04d%s", y, rest), true
	case y < 0:
		return fmt.Sprintf("-%06d%s", -y, rest), true
	}
	return fmt.Sprintf("+%06d%s", y, rest), true
}

func intField(n *jnode, key string) (int, error) {
	f := n.get(key)
	if f != nil && f.kind == 'n' {
		if i, err := strconv.Atoi(f.str); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("tag %q needs an integer %q", n.get("$").str, key)
}

func strField(n *jnode, key string) (string, error) {
	f := n.get(key)
	if f == nil || f.kind != 's' {
		return "", fmt.Errorf("tag %q needs a string %q", n.get("$").str, key)
	}
	return f.str, nil
}

func arrField(n *jnode, key string) ([]*jnode, error) {
	f := n.get(key)
	if f == nil || f.kind != 'a' {
		return nil, fmt.Errorf("tag %q needs an array %q", n.get("$").str, key)
	}
	return f.items, nil
}

var typedArrayTypes = map[string]bool{
	"Int8Array": true, "Uint8Array": true, "Uint8ClampedArray": true, "Int16Array": true, "Uint16Array": true,
	"Int32Array": true, "Uint32Array": true, "Float32Array": true, "Float64Array": true,
	"BigInt64Array": true, "BigUint64Array": true, "DataView": true,
}

// ---- writing ----

type plainWriter struct {
	buf     bytes.Buffer
	onStack map[*jnode]bool
	budget  int
}

func (w *plainWriter) write(n *jnode) error {
	if w.buf.Len() > w.budget {
		return fmt.Errorf("too large to show as JSON (over %d MiB written out)", w.budget>>20)
	}
	switch n.kind {
	case 's':
		writeString(&w.buf, n.str)
	case 'n':
		w.buf.WriteString(n.str)
	case 'b':
		w.buf.WriteString(strconv.FormatBool(n.bool))
	case '0':
		w.buf.WriteString("null")
	case 'a', 'o':
		if w.onStack[n] {
			writeString(&w.buf, "[Circular]")
			return nil
		}
		w.onStack[n] = true
		defer delete(w.onStack, n)
		open, end := byte('['), byte(']')
		if n.kind == 'o' {
			open, end = '{', '}'
		}
		w.buf.WriteByte(open)
		for i, item := range n.items {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			if n.kind == 'o' {
				writeString(&w.buf, n.keys[i])
				w.buf.WriteByte(':')
			}
			if err := w.write(item); err != nil {
				return err
			}
		}
		w.buf.WriteByte(end)
	}
	return nil
}

// writeString writes s as a JSON string, without encoding/json's escaping
// of <, > and &, which people need not read.
func writeString(b *bytes.Buffer, s string) {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			simple = false
			break
		}
	}
	if simple {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.WriteString(strings.TrimSuffix(sb.String(), "\n"))
}

// writeTagged writes plain JSON in the encoder's form: the same JSON,
// except that objects with their own "$" key are wrapped.
func writeTagged(b *bytes.Buffer, n *jnode) {
	switch n.kind {
	case 's':
		writeString(b, n.str)
	case 'n':
		b.WriteString(n.str)
	case 'b':
		b.WriteString(strconv.FormatBool(n.bool))
	case '0':
		b.WriteString("null")
	case 'a':
		b.WriteByte('[')
		for i, item := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTagged(b, item)
		}
		b.WriteByte(']')
	case 'o':
		wrap := n.get("$") != nil
		if wrap {
			b.WriteString(`{"$":"O","v":`)
		}
		b.WriteByte('{')
		for i, item := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, n.keys[i])
			b.WriteByte(':')
			writeTagged(b, item)
		}
		b.WriteByte('}')
		if wrap {
			b.WriteByte('}')
		}
	}
}
