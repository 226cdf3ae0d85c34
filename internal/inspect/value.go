package inspect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Stored values (ctx.storage KV values) are the Workers-RPC encoding of
// internal/runtime/js/65_rpc.js: JSON in which plain data stays as it is and
// other values are tagged objects {"$": tag, ...}, with binary data held in
// a side list of buffers referenced by index. On disk a value without
// buffers is just the JSON text; otherwise it is the byte 0x00, a uvarint
// count of buffers, each buffer as a uvarint length and its bytes, and then
// the JSON text. This file decodes that format into a Value tree; render.go
// prints it.

// Kind is what a Value is.
type Kind int

// The kinds of values a Durable Object can store.
const (
	KindString Kind = iota
	KindNumber
	KindBool
	KindNull
	KindUndefined
	KindBigInt      // Text holds the decimal digits
	KindHole        // a missing array element (sparse arrays)
	KindObject      // Keys and Items are its own properties, in order
	KindArray       // Items
	KindDate        // Num is milliseconds since the epoch, NaN for Invalid Date
	KindRegExp      // Text is the source, Flags the flags
	KindMap         // Items alternate keys and values
	KindSet         // Items
	KindArrayBuffer // Bytes
	KindTypedArray  // Type is the constructor ("Uint8Array", "DataView", ...), Bytes the contents
	KindError       // Type is the name, Text the message; Keys/Items its own properties
	KindBoxed       // Items[0] is the primitive inside (new String("x"), Object(1n), ...)
	KindRequest     // Text is "METHOD url"
	KindResponse    // Num is the status
	KindHeaders     // Items alternate names and values
	KindStream      // a ReadableStream's bytes
	KindCapability  // a stub: storage cannot hold one, but the encoding can
)

// Value is one decoded value. Shared references and cycles in the stored
// value are shared pointers here.
type Value struct {
	Kind  Kind
	Text  string
	Num   float64
	Bool  bool
	Type  string
	Flags string
	Bytes []byte
	Keys  []string
	Items []*Value
	// DOMException marks an Error that is a DOMException (Type is then its
	// name, e.g. "DataCloneError").
	DOMException bool
	// Cause is an Error's cause and Errors an AggregateError's errors; nil
	// when the error has none.
	Cause, Errors *Value
}

// DecodeStored decodes a value in the stored format.
func DecodeStored(stored []byte) (*Value, error) {
	text := stored
	var bufs [][]byte
	if len(stored) > 0 && stored[0] == 0 {
		r := bytes.NewReader(stored[1:])
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("bad buffer count: %w", err)
		}
		if n > uint64(len(stored)) {
			return nil, fmt.Errorf("bad buffer count %d in a value of %d bytes", n, len(stored))
		}
		for i := uint64(0); i < n; i++ {
			size, err := binary.ReadUvarint(r)
			if err != nil {
				return nil, fmt.Errorf("bad length of buffer %d: %w", i, err)
			}
			if size > uint64(r.Len()) {
				return nil, fmt.Errorf("buffer %d is %d bytes but only %d remain", i, size, r.Len())
			}
			b := make([]byte, size)
			io.ReadFull(r, b)
			bufs = append(bufs, b)
		}
		text = stored[len(stored)-r.Len():]
	}
	tree, err := parseJSON(text)
	if err != nil {
		return nil, err
	}
	d := decoder{bufs: bufs}
	v, err := d.decode(tree)
	if err != nil {
		return nil, err
	}
	if v.Kind == KindHole {
		return nil, errors.New(`an array hole ("$":"_") outside an array`)
	}
	return v, nil
}

// EncodeStored is the inverse of DecodeStored's framing: text is the
// RPC-encoded JSON and bufs the buffers it refers to. Tests use it to write
// values as the runtime does.
func EncodeStored(text string, bufs ...[]byte) []byte {
	if len(bufs) == 0 {
		return []byte(text)
	}
	out := []byte{0}
	out = binary.AppendUvarint(out, uint64(len(bufs)))
	for _, b := range bufs {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return append(out, text...)
}

// jsonNode is parsed JSON that keeps the order of object keys, which
// encoding/json's maps lose and which a JavaScript object shows.
type jsonNode struct {
	kind  byte // 's' string, 'n' number, 'b' bool, '0' null, 'o' object, 'a' array
	str   string
	num   float64
	bool  bool
	keys  []string
	items []*jsonNode
}

func (n *jsonNode) get(key string) *jsonNode {
	for i, k := range n.keys {
		if k == key {
			return n.items[i]
		}
	}
	return nil
}

func parseJSON(text []byte) (*jsonNode, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	n, err := parseNode(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: text after the value")
	}
	return n, nil
}

// maxNesting bounds recursion on damaged input; the encoder refuses values
// nested deeper than 1000 objects, and tagged values add a level or two each.
const maxNesting = 5000

func parseNode(dec *json.Decoder, depth int) (*jsonNode, error) {
	if depth > maxNesting {
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
		return &jsonNode{kind: 's', str: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return &jsonNode{kind: 'n', num: f}, nil
	case bool:
		return &jsonNode{kind: 'b', bool: t}, nil
	case nil:
		return &jsonNode{kind: '0'}, nil
	case json.Delim:
		n := &jsonNode{kind: 'a'}
		if t == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			if n.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			item, err := parseNode(dec, depth+1)
			if err != nil {
				return nil, err
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

// decoder mirrors RpcDecoder in 65_rpc.js. It numbers the objects it makes
// in the order the JavaScript decoder does, which is the order the encoder
// met them in, so that {"$":"r","i":n} finds the right one.
type decoder struct {
	bufs [][]byte
	objs []*Value
}

func (d *decoder) reg(v *Value) *Value {
	d.objs = append(d.objs, v)
	return v
}

func (d *decoder) buf(n *jsonNode, key string) ([]byte, error) {
	i, err := intField(n, key)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(d.bufs) {
		return nil, fmt.Errorf("buffer %d does not exist (the value has %d)", i, len(d.bufs))
	}
	return d.bufs[i], nil
}

func intField(n *jsonNode, key string) (int, error) {
	f := n.get(key)
	if f == nil || f.kind != 'n' || f.num != math.Trunc(f.num) || math.Abs(f.num) > 1<<31 {
		return 0, fmt.Errorf("tag %q needs an integer %q", n.get("$").str, key)
	}
	return int(f.num), nil
}

func strField(n *jsonNode, key string) (string, error) {
	f := n.get(key)
	if f == nil || f.kind != 's' {
		return "", fmt.Errorf("tag %q needs a string %q", n.get("$").str, key)
	}
	return f.str, nil
}

func arrField(n *jsonNode, key string) ([]*jsonNode, error) {
	f := n.get(key)
	if f == nil || f.kind != 'a' {
		return nil, fmt.Errorf("tag %q needs an array %q", n.get("$").str, key)
	}
	return f.items, nil
}

func (d *decoder) decode(n *jsonNode) (*Value, error) {
	switch n.kind {
	case 's':
		return &Value{Kind: KindString, Text: n.str}, nil
	case 'n':
		return &Value{Kind: KindNumber, Num: n.num}, nil
	case 'b':
		return &Value{Kind: KindBool, Bool: n.bool}, nil
	case '0':
		return &Value{Kind: KindNull}, nil
	case 'a':
		v := d.reg(&Value{Kind: KindArray})
		for _, item := range n.items {
			x, err := d.decode(item)
			if err != nil {
				return nil, err
			}
			v.Items = append(v.Items, x)
		}
		return v, nil
	}
	tag := n.get("$")
	if tag == nil {
		return d.plain(n)
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
		return d.plain(inner)
	case "u":
		return &Value{Kind: KindUndefined}, nil
	case "_":
		return &Value{Kind: KindHole}, nil
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
		return &Value{Kind: KindCapability}, nil
	case "n":
		s, err := strField(n, "v")
		if err != nil {
			return nil, err
		}
		switch s {
		case "-0":
			return &Value{Kind: KindNumber, Num: math.Copysign(0, -1)}, nil
		case "NaN":
			return &Value{Kind: KindNumber, Num: math.NaN()}, nil
		case "Infinity":
			return &Value{Kind: KindNumber, Num: math.Inf(1)}, nil
		case "-Infinity":
			return &Value{Kind: KindNumber, Num: math.Inf(-1)}, nil
		}
		return nil, fmt.Errorf("tag \"n\" with an unknown number %q", s)
	case "b":
		s, err := strField(n, "v")
		if err != nil {
			return nil, err
		}
		return &Value{Kind: KindBigInt, Text: s}, nil
	case "D":
		v := d.reg(&Value{Kind: KindDate, Num: math.NaN()})
		if t := n.get("v"); t != nil && t.kind == 'n' {
			v.Num = t.num // an Invalid Date's NaN time was written as null
		}
		return v, nil
	case "R":
		src, err := strField(n, "s")
		if err != nil {
			return nil, err
		}
		flags, err := strField(n, "f")
		if err != nil {
			return nil, err
		}
		return d.reg(&Value{Kind: KindRegExp, Text: src, Flags: flags}), nil
	case "M", "S":
		items, err := arrField(n, "v")
		if err != nil {
			return nil, err
		}
		v := d.reg(&Value{Kind: KindMap})
		if tag.str == "S" {
			v.Kind = KindSet
		} else if len(items)%2 != 0 {
			return nil, errors.New(`tag "M" needs an even number of items (key, value, ...)`)
		}
		for _, item := range items {
			x, err := d.decode(item)
			if err != nil {
				return nil, err
			}
			v.Items = append(v.Items, x)
		}
		return v, nil
	case "A":
		b, err := d.buf(n, "i")
		if err != nil {
			return nil, err
		}
		return d.reg(&Value{Kind: KindArrayBuffer, Bytes: b}), nil
	case "V":
		b, err := d.buf(n, "i")
		if err != nil {
			return nil, err
		}
		t, _ := strField(n, "t")
		if _, ok := elementSizes[t]; !ok {
			t = "Uint8Array" // what the JavaScript decoder makes of an unknown type
		}
		return d.reg(&Value{Kind: KindTypedArray, Type: t, Bytes: b}), nil
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
		var x *Value
		switch {
		case t == "s" && inner.kind == 's':
			x = &Value{Kind: KindString, Text: inner.str}
		case t == "n" && inner.kind == 's':
			// String(n): ParseFloat reads "NaN" and "Infinity" too.
			f, err := strconv.ParseFloat(inner.str, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("a boxed number %q", inner.str)
			}
			x = &Value{Kind: KindNumber, Num: f}
		case t == "t" && inner.kind == 'b':
			x = &Value{Kind: KindBool, Bool: inner.bool}
		case t == "b" && inner.kind == 's':
			x = &Value{Kind: KindBigInt, Text: inner.str}
		default:
			return nil, fmt.Errorf("a boxed value of unknown type %q", t)
		}
		return d.reg(&Value{Kind: KindBoxed, Items: []*Value{x}}), nil
	case "Q":
		m, _ := strField(n, "m")
		u, _ := strField(n, "u")
		return d.reg(&Value{Kind: KindRequest, Text: m + " " + u}), nil
	case "P":
		v := d.reg(&Value{Kind: KindResponse})
		if s := n.get("s"); s != nil && s.kind == 'n' {
			v.Num = s.num
		}
		v.Text, _ = strField(n, "t")
		return v, nil
	case "H":
		pairs, err := arrField(n, "v")
		if err != nil {
			return nil, err
		}
		v := d.reg(&Value{Kind: KindHeaders})
		for _, p := range pairs {
			if p.kind != 'a' || len(p.items) != 2 || p.items[0].kind != 's' || p.items[1].kind != 's' {
				return nil, errors.New(`tag "H" needs [name, value] pairs of strings`)
			}
			v.Items = append(v.Items, &Value{Kind: KindString, Text: p.items[0].str}, &Value{Kind: KindString, Text: p.items[1].str})
		}
		return v, nil
	case "RS":
		b, err := d.buf(n, "i")
		if err != nil {
			return nil, err
		}
		return d.reg(&Value{Kind: KindStream, Bytes: b}), nil
	}
	return nil, fmt.Errorf("unknown tag %q", tag.str)
}

func (d *decoder) plain(n *jsonNode) (*Value, error) {
	v := d.reg(&Value{Kind: KindObject})
	for i, k := range n.keys {
		x, err := d.decode(n.items[i])
		if err != nil {
			return nil, err
		}
		v.Keys = append(v.Keys, k)
		v.Items = append(v.Items, x)
	}
	return v, nil
}

// error decodes an "E" tag in the JavaScript decoder's order: the error is
// numbered before its properties, cause and errors are decoded.
func (d *decoder) error(n *jsonNode) (*Value, error) {
	name, err := strField(n, "n")
	if err != nil {
		return nil, err
	}
	msg, err := strField(n, "m")
	if err != nil {
		return nil, err
	}
	v := d.reg(&Value{Kind: KindError, Type: name, Text: msg})
	if x := n.get("x"); x != nil && x.kind == 'n' && x.num != 0 {
		v.DOMException = true
	}
	if p := n.get("p"); p != nil {
		if p.kind != 'o' {
			return nil, errors.New(`tag "E" needs an object "p"`)
		}
		for i, k := range p.keys {
			x, err := d.decode(p.items[i])
			if err != nil {
				return nil, err
			}
			v.Keys = append(v.Keys, k)
			v.Items = append(v.Items, x)
		}
	}
	if c := n.get("c"); c != nil {
		if v.Cause, err = d.decode(c); err != nil {
			return nil, err
		}
	}
	if e := n.get("e"); e != nil {
		if v.Errors, err = d.decode(e); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// elementSizes are the typed array constructors the encoder may name, with
// their element sizes (DataView's is 1: it is shown as bytes).
var elementSizes = map[string]int{
	"Int8Array": 1, "Uint8Array": 1, "Uint8ClampedArray": 1, "Int16Array": 2, "Uint16Array": 2,
	"Int32Array": 4, "Uint32Array": 4, "Float32Array": 4, "Float64Array": 8,
	"BigInt64Array": 8, "BigUint64Array": 8, "DataView": 1,
}
