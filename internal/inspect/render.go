package inspect

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Values print the way Node's util.inspect (and so console.log in Isola and
// wrangler dev) prints them, except that a string at the top is quoted too,
// so that "1" and 1 look different.

// RenderOptions control Render.
type RenderOptions struct {
	// MaxLen cuts the output at this many characters, ending it with "…".
	// Zero means no limit.
	MaxLen int
	// Multiline breaks objects wider than 72 characters over several
	// indented lines, as console.log does. Otherwise the output is one line.
	Multiline bool
	// MaxItems is how many elements of an array, typed array, Map or Set are
	// shown before "... N more items" (100 when zero; -1 for all).
	MaxItems int
}

// Render prints v.
func Render(v *Value, opts RenderOptions) string {
	r := renderer{opts: opts, budget: math.MaxInt, work: maxWork, onStack: map[*Value]bool{}, circular: map[*Value]int{}}
	if opts.MaxLen > 0 {
		r.budget = 4 * (opts.MaxLen + 1) // bytes; MaxLen counts characters
	}
	if r.opts.MaxItems == 0 {
		r.opts.MaxItems = 100
	}
	out := r.value(v)
	if r.cut || opts.MaxLen > 0 && utf8.RuneCountInString(out) > opts.MaxLen {
		out = cutRunes(out, opts.MaxLen) + "…"
	}
	return out
}

// maxWork bounds the bytes Render copies while it builds the output (each
// level of nesting copies what it holds). A value is at most a few
// megabytes, but one that holds the same object at every level of nesting
// prints it exponentially many times, as console.log would.
const maxWork = 32 << 20

// RenderStored decodes and prints a stored value; a value that does not
// decode prints as a description of the problem and its first bytes.
func RenderStored(stored []byte, opts RenderOptions) string {
	v, err := DecodeStored(stored)
	if err != nil {
		const show = 32
		head := stored
		if len(head) > show {
			head = head[:show]
		}
		more := ""
		if len(stored) > show {
			more = " ..."
		}
		return fmt.Sprintf("<undecodable value, %d bytes: %v: % x%s>", len(stored), err, head, more)
	}
	return Render(v, opts)
}

func cutRunes(s string, n int) string {
	if n <= 0 {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

type renderer struct {
	opts    RenderOptions
	budget  int // output bytes still worth producing
	work    int // bytes that may still be copied
	cut     bool
	onStack map[*Value]bool
	// circular numbers the objects that were found inside themselves, in
	// the order found: they print as "<ref *N> ..." and the inner
	// occurrence as "[Circular *N]".
	circular map[*Value]int
}

func (r *renderer) spend(s string) string {
	r.budget -= len(s)
	return s
}

// exhausted reports whether rendering should stop, noting that the output
// was cut.
func (r *renderer) exhausted() bool {
	if r.budget <= 0 || r.work <= 0 {
		r.cut = true
		return true
	}
	return false
}

func (r *renderer) value(v *Value) string {
	switch v.Kind {
	case KindString:
		s := v.Text
		if len(s) > r.budget {
			n := max(r.budget, 0)
			for n > 0 && !utf8.RuneStart(s[n]) {
				n--
			}
			s, r.cut = s[:n], true
		}
		return r.spend(quote(s))
	case KindNumber:
		return r.spend(formatNumber(v.Num))
	case KindBool:
		return r.spend(strconv.FormatBool(v.Bool))
	case KindNull:
		return r.spend("null")
	case KindUndefined:
		return r.spend("undefined")
	case KindBigInt:
		return r.spend(v.Text + "n")
	case KindHole:
		return r.spend("<1 empty item>")
	case KindCapability:
		return r.spend("[RPC stub]")
	case KindDate:
		return r.spend(formatDate(v.Num))
	case KindRegExp:
		return r.spend("/" + v.Text + "/" + v.Flags)
	}
	if r.onStack[v] {
		n, ok := r.circular[v]
		if !ok {
			n = len(r.circular) + 1
			r.circular[v] = n
		}
		return r.spend(fmt.Sprintf("[Circular *%d]", n))
	}
	r.onStack[v] = true
	out := r.composite(v)
	delete(r.onStack, v)
	if n, ok := r.circular[v]; ok {
		out = fmt.Sprintf("<ref *%d> %s", n, out)
	}
	return out
}

func (r *renderer) composite(v *Value) string {
	inner := r.value
	switch v.Kind {
	case KindObject:
		return r.wrap("", "{", r.props(v.Keys, v.Items, inner), "}", "{}")
	case KindArray:
		return r.wrap("", "[", r.arrayItems(v.Items, inner), "]", "[]")
	case KindMap:
		var items []string
		for i := 0; i+1 < len(v.Items); i += 2 {
			if r.full(&items, i/2, len(v.Items)/2) {
				break
			}
			items = append(items, inner(v.Items[i])+" => "+inner(v.Items[i+1]))
		}
		return r.wrap(fmt.Sprintf("Map(%d) ", len(v.Items)/2), "{", items, "}", "{}")
	case KindSet:
		var items []string
		for i, x := range v.Items {
			if r.full(&items, i, len(v.Items)) {
				break
			}
			items = append(items, inner(x))
		}
		return r.wrap(fmt.Sprintf("Set(%d) ", len(v.Items)), "{", items, "}", "{}")
	case KindArrayBuffer:
		return r.spend(r.arrayBuffer(v.Bytes))
	case KindTypedArray:
		if v.Type == "DataView" {
			return r.spend(fmt.Sprintf("DataView { byteLength: %d, byteOffset: 0, buffer: %s }", len(v.Bytes), r.arrayBuffer(v.Bytes)))
		}
		size := elementSizes[v.Type]
		n := len(v.Bytes) / size
		var items []string
		for i := 0; i < n; i++ {
			if r.full(&items, i, n) {
				break
			}
			items = append(items, r.spend(element(v.Type, v.Bytes[i*size:(i+1)*size])))
		}
		return r.wrap(fmt.Sprintf("%s(%d) ", v.Type, n), "[", items, "]", "[]")
	case KindError:
		return r.error(v, inner)
	case KindBoxed:
		x := v.Items[0]
		name := map[Kind]string{KindString: "String", KindNumber: "Number", KindBool: "Boolean", KindBigInt: "BigInt"}[x.Kind]
		return r.spend("[" + name + ": " + inner(x) + "]")
	case KindRequest:
		method, url, _ := strings.Cut(v.Text, " ")
		return r.spend(fmt.Sprintf("Request { method: %s, url: %s }", quote(method), quote(url)))
	case KindResponse:
		return r.spend(fmt.Sprintf("Response { status: %s, statusText: %s }", formatNumber(v.Num), quote(v.Text)))
	case KindHeaders:
		var items []string
		for i := 0; i+1 < len(v.Items); i += 2 {
			items = append(items, r.spend(quote(v.Items[i].Text)+": "+quote(v.Items[i+1].Text)))
		}
		return r.wrap("Headers ", "{", items, "}", "{}")
	case KindStream:
		return r.spend(fmt.Sprintf("ReadableStream { <%d bytes> }", len(v.Bytes)))
	}
	return r.spend(fmt.Sprintf("<kind %d>", v.Kind))
}

// full reports whether no more items should be shown, adding the line that
// says how many were left out.
func (r *renderer) full(items *[]string, i, n int) bool {
	if r.exhausted() {
		*items = append(*items, "…")
		return true
	}
	if r.opts.MaxItems >= 0 && i >= r.opts.MaxItems {
		*items = append(*items, r.spend(fmt.Sprintf("... %d more item%s", n-i, plural(n-i))))
		return true
	}
	return false
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)

func propKey(k string) string {
	if identifier.MatchString(k) {
		return k
	}
	return quote(k)
}

func (r *renderer) props(keys []string, vals []*Value, inner func(*Value) string) []string {
	var items []string
	for i, k := range keys {
		if r.exhausted() {
			items = append(items, "…")
			break
		}
		items = append(items, r.spend(propKey(k)+": ")+inner(vals[i]))
	}
	return items
}

// arrayItems lists array elements, runs of holes as "<N empty items>".
func (r *renderer) arrayItems(elems []*Value, inner func(*Value) string) []string {
	var items []string
	for i := 0; i < len(elems); i++ {
		if r.full(&items, len(items), len(items)+len(elems)-i) {
			break
		}
		if elems[i].Kind == KindHole {
			j := i
			for j < len(elems) && elems[j].Kind == KindHole {
				j++
			}
			items = append(items, r.spend(fmt.Sprintf("<%d empty item%s>", j-i, plural(j-i))))
			i = j - 1
			continue
		}
		items = append(items, inner(elems[i]))
	}
	return items
}

func (r *renderer) error(v *Value, inner func(*Value) string) string {
	head := v.Type
	if v.DOMException {
		head = "DOMException [" + v.Type + "]"
	}
	if v.Text != "" {
		head += ": " + v.Text
	}
	head = r.spend("[" + head + "]")
	items := r.props(v.Keys, v.Items, inner)
	if v.Cause != nil {
		items = append(items, r.spend("[cause]: ")+inner(v.Cause))
	}
	if v.Errors != nil {
		items = append(items, r.spend("[errors]: ")+inner(v.Errors))
	}
	if len(items) == 0 {
		return head
	}
	return r.wrap(head+" ", "{", items, "}", "{}")
}

func (r *renderer) arrayBuffer(b []byte) string {
	n := len(b)
	limit := n
	if r.opts.MaxItems >= 0 && limit > r.opts.MaxItems {
		limit = r.opts.MaxItems
	}
	if limit > r.budget/3+1 {
		limit, r.cut = max(r.budget/3+1, 0), true
	}
	hex := fmt.Sprintf("% x", b[:limit])
	if limit < n {
		hex += fmt.Sprintf(" ... %d more byte%s", n-limit, plural(n-limit))
	}
	return fmt.Sprintf("ArrayBuffer { [Uint8Contents]: <%s>, byteLength: %d }", hex, n)
}

// wrap joins items as console.log does: on one line when that fits in 72
// characters (or when one-line output was asked for), else one item per
// line, indented.
func (r *renderer) wrap(prefix, open string, items []string, close, empty string) string {
	if len(items) == 0 {
		return r.spend(prefix + empty)
	}
	one := prefix + open + " " + strings.Join(items, ", ") + " " + close
	r.spend(prefix + open + close)
	r.work -= len(one)
	if !r.opts.Multiline || len(one) <= 72 && !strings.Contains(one, "\n") {
		return one
	}
	r.work -= 2 * len(one)
	return prefix + open + "\n  " + strings.ReplaceAll(strings.Join(items, ",\n"), "\n", "\n  ") + "\n" + close
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func element(typ string, b []byte) string {
	le := binary.LittleEndian
	switch typ {
	case "Int8Array":
		return strconv.Itoa(int(int8(b[0])))
	case "Uint8Array", "Uint8ClampedArray":
		return strconv.Itoa(int(b[0]))
	case "Int16Array":
		return strconv.Itoa(int(int16(le.Uint16(b))))
	case "Uint16Array":
		return strconv.Itoa(int(le.Uint16(b)))
	case "Int32Array":
		return strconv.Itoa(int(int32(le.Uint32(b))))
	case "Uint32Array":
		return strconv.FormatUint(uint64(le.Uint32(b)), 10)
	case "Float32Array":
		return formatNumber(float64(math.Float32frombits(le.Uint32(b))))
	case "Float64Array":
		return formatNumber(math.Float64frombits(le.Uint64(b)))
	case "BigInt64Array":
		return strconv.FormatInt(int64(le.Uint64(b)), 10) + "n"
	case "BigUint64Array":
		return strconv.FormatUint(le.Uint64(b), 10) + "n"
	}
	return strconv.Itoa(int(b[0]))
}

// quote quotes a string as util.inspect does: in single quotes unless the
// string holds some and no double quotes (then double quotes; holding both,
// backquotes if it holds none of those), with control characters escaped.
func quote(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 {
		if strings.IndexByte(s, '"') < 0 {
			q = '"'
		} else if strings.IndexByte(s, '`') < 0 && !strings.Contains(s, "${") {
			q = '`'
		}
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for _, c := range s {
		switch {
		case c == rune(q) || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20 || 0x7f <= c && c <= 0x9f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// formatNumber prints a number as JavaScript's String(n) does, except that
// -0 prints as "-0" (as util.inspect shows it).
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// The shortest digits that round-trip, which is what JavaScript prints
	// too; only the placement of the decimal point and exponent differs.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // n: where the decimal point goes
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	ev := strconv.Itoa(abs(n - 1))
	if k == 1 {
		return sign + digits + "e" + es + ev
	}
	return sign + digits[:1] + "." + digits[1:] + "e" + es + ev
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// formatDate prints a Date as toISOString does, or "Invalid Date".
func formatDate(ms float64) string {
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return "Invalid Date"
	}
	t := time.UnixMilli(int64(ms)).UTC()
	y := t.Year()
	year := fmt.Sprintf("%04d", y)
	if y < 0 || y > 9999 {
		sign := "+"
		if y < 0 {
			sign, y = "-", -y
		}
		year = fmt.Sprintf("%s%06d", sign, y)
	}
	return year + t.Format("-01-02T15:04:05.000Z")
}

// FormatAlarm prints an alarm time, with how far it is from now.
func FormatAlarm(t, now time.Time) string {
	iso := formatDate(float64(t.UnixMilli()))
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%s (in %s)", iso, roughDuration(d))
	case d <= -time.Second:
		return fmt.Sprintf("%s (overdue by %s)", iso, roughDuration(-d))
	}
	return iso + " (now)"
}

// roughDuration prints a duration to the precision a person wants to know.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
