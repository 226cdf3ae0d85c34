package inspect

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/isola-run/isola/internal/storage"
)

// QueryOptions control Query.
type QueryOptions struct {
	// JSON prints the rows as a JSON array of objects (keys in column
	// order; BLOBs as arrays of byte values) instead of a table.
	JSON bool
	// MaxCell cuts table cells at this many characters (0 means 100).
	MaxCell int
}

// widthRows is how many rows decide the column widths of a table; later
// rows are printed as they come, so a large result is never held whole.
const widthRows = 200

// Query runs one read-only SQL query on the target and prints its rows.
// The query is checked as ctx.storage.sql.exec checks it (no _cf_* tables,
// workerd's function and PRAGMA allow-lists), and anything that would
// write is refused.
func (p *Project) Query(w io.Writer, t *Target, query string, opts QueryOptions) error {
	if strings.TrimSpace(query) == "" {
		return errors.New("empty query: give one SQL statement, e.g. \"SELECT * FROM my_table LIMIT 10\"")
	}
	if !t.HasDatabase {
		return fmt.Errorf("%s has no database of its own, only facets (choose one with --facet)", t)
	}
	if opts.MaxCell == 0 {
		opts.MaxCell = 100
	}
	s, err := p.open(t)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := s.Exec(query)
	if err != nil {
		return queryError(t, err)
	}
	defer c.Close()
	if opts.JSON {
		err = writeJSONRows(w, c)
	} else {
		err = writeTable(w, c, opts.MaxCell)
	}
	if err != nil {
		return queryError(t, err)
	}
	return nil
}

func queryError(t *Target, err error) error {
	if errors.Is(err, storage.ErrReadOnly) {
		return fmt.Errorf("the query would change %s; isola objects sql only reads", t)
	}
	var se *storage.Error
	if errors.As(err, &se) && se.Code == sqliteAuth {
		return fmt.Errorf("%s (queries follow the rules of ctx.storage.sql: tables named _cf_* are hidden, "+
			"and only workerd's allowed functions and PRAGMAs run; isola objects show prints the KV pairs and alarm)", se.Message)
	}
	if errors.As(err, &se) {
		return fmt.Errorf("query on %s: %s", t, se.Message)
	}
	return fmt.Errorf("query on %s: %w", t, err)
}

func writeTable(w io.Writer, c *storage.Cursor, maxCell int) error {
	cols := c.Columns()
	var head [][]string
	count := 0
	var err error
	for len(head) < widthRows {
		var row []any
		var ok bool
		if row, ok, err = c.Next(); !ok {
			break
		}
		head = append(head, cells(row, maxCell))
	}
	if err != nil {
		return err
	}
	if len(cols) == 0 {
		fmt.Fprintln(w, "(the statement returns no columns)")
		return nil
	}
	widths := make([]int, len(cols))
	for i, name := range cols {
		widths[i] = utf8.RuneCountInString(name)
	}
	for _, row := range head {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	line := func(vals []string) {
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(v)
			if i < len(vals)-1 {
				b.WriteString(strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(v), 0)))
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(cols)
	rule := make([]string, len(cols))
	for i := range rule {
		rule[i] = strings.Repeat("-", widths[i])
	}
	line(rule)
	for _, row := range head {
		line(row)
		count++
	}
	for {
		row, ok, err := c.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		line(cells(row, maxCell))
		count++
	}
	fmt.Fprintf(w, "(%d row%s)\n", count, plural(count))
	return nil
}

// cells prints a row's values for a table: NULL, numbers as JavaScript
// prints them, text with control characters escaped so a row stays on one
// line, BLOBs as SQL hex literals.
func cells(row []any, maxCell int) []string {
	out := make([]string, len(row))
	for i, v := range row {
		var s string
		switch v := v.(type) {
		case nil:
			s = "NULL"
		case int64:
			s = strconv.FormatInt(v, 10)
		case float64:
			s = formatNumber(v)
		case string:
			s = escapeControl(v)
		case []byte:
			s = fmt.Sprintf("x'%X'", v[:min(len(v), maxCell)])
			if len(v) > maxCell {
				s = s[:len(s)-1] + "…'"
			}
		default:
			s = fmt.Sprint(v)
		}
		if utf8.RuneCountInString(s) > maxCell {
			s = cutRunes(s, maxCell-1) + "…"
		}
		out[i] = s
	}
	return out
}

func writeJSONRows(w io.Writer, c *storage.Cursor) error {
	cols := c.Columns()
	keys := make([]string, len(cols))
	for i, name := range cols {
		keys[i] = jsonString(name)
	}
	fmt.Fprint(w, "[")
	n := 0
	for {
		row, ok, err := c.Next()
		if err != nil {
			fmt.Fprintln(w, "]")
			return err
		}
		if !ok {
			break
		}
		if n > 0 {
			fmt.Fprint(w, ",")
		}
		n++
		var b strings.Builder
		b.WriteString("\n  {")
		for i, v := range row {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(keys[i])
			b.WriteString(": ")
			b.WriteString(jsonValue(v))
		}
		b.WriteString("}")
		fmt.Fprint(w, b.String())
	}
	if n > 0 {
		fmt.Fprint(w, "\n")
	}
	fmt.Fprintln(w, "]")
	return nil
}

func jsonValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "null" // as JSON.stringify writes them
		}
		if v == 0 {
			return "0" // JSON.stringify(-0) too
		}
		return formatNumber(v)
	case string:
		return jsonString(v)
	case []byte:
		var b strings.Builder
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(int(x)))
		}
		b.WriteByte(']')
		return b.String()
	}
	return jsonString(fmt.Sprint(v))
}

// escapeControl writes control characters as escapes, so that a table row
// stays on one line.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case isControl(c):
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func isControl(c rune) bool { return c < 0x20 || 0x7f <= c && c <= 0x9f }

// jsonString quotes s as JSON.stringify does.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
