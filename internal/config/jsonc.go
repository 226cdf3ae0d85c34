package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// StripJSONC turns JSONC (comments, trailing commas) into JSON, as wrangler
// reads it. Offsets in the result are offsets in the input.
func StripJSONC(data []byte) ([]byte, error) { return stripJSONC(data) }

// stripJSONC blanks out comments and trailing commas. Every removed byte
// becomes a space (newlines are kept), so an offset reported by encoding/json
// on the result is the same offset in the file the user wrote, and line and
// column numbers stay right.
func stripJSONC(data []byte) ([]byte, error) {
	out := bytes.Clone(data)
	// A comma is only known to be trailing once the next significant byte
	// turns out to be a closing bracket, so remember where the last one was.
	pendingComma := -1
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case c == '"':
			pendingComma = -1
			i++
			for i < len(out) && out[i] != '"' {
				if out[i] == '\\' {
					i++
				}
				i++
			}
			// An unterminated string is left for the JSON parser to report.
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				if out[i] != '\r' {
					out[i] = ' '
				}
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			start := i
			out[i], out[i+1] = ' ', ' '
			i += 2
			for ; ; i++ {
				if i+1 >= len(out) {
					line, col := lineCol(data, start)
					return nil, &Error{Line: line, Column: col, Msg: "unterminated /* comment"}
				}
				if out[i] == '*' && out[i+1] == '/' {
					out[i], out[i+1] = ' ', ' '
					i++
					break
				}
				if out[i] != '\n' && out[i] != '\r' {
					out[i] = ' '
				}
			}
		case c == ',':
			pendingComma = i
		case c == ']' || c == '}':
			if pendingComma >= 0 {
				out[pendingComma] = ' '
			}
			pendingComma = -1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			pendingComma = -1
		}
	}
	return out, nil
}

// lineCol turns a byte offset into a 1-based line and a 1-based column
// counted in characters, which is what editors show.
func lineCol(data []byte, offset int) (int, int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line := 1 + bytes.Count(before, []byte{'\n'})
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[lineStart:])
}

// parseJSONC parses wrangler.jsonc / wrangler.json. Wrangler reads both with
// the same lenient parser, so comments and trailing commas are accepted in
// either.
func parseJSONC(data []byte) (map[string]any, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	clean, err := stripJSONC(data)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(clean)) == 0 {
		return nil, &Error{Msg: "the file is empty: expected a JSON object like {\"main\": \"src/index.js\"}"}
	}
	dec := json.NewDecoder(bytes.NewReader(clean))
	// Numbers are decoded as json.Number so integers such as ports and
	// cpu_ms survive exactly instead of going through float64 formatting.
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// Offset counts the offending byte as read.
			line, col := lineCol(data, int(se.Offset)-1)
			return nil, &Error{Line: line, Column: col, Msg: se.Error()}
		case errors.Is(err, io.ErrUnexpectedEOF):
			line, col := lineCol(data, len(bytes.TrimRight(data, " \t\r\n")))
			return nil, &Error{Line: line, Column: col, Msg: "unexpected end of file: a closing } or ] is missing"}
		default:
			return nil, &Error{Msg: err.Error()}
		}
	}
	if rest := dec.InputOffset(); len(bytes.TrimSpace(clean[rest:])) > 0 {
		off := int(rest) + len(clean[rest:]) - len(bytes.TrimLeft(clean[rest:], " \t\r\n"))
		line, col := lineCol(data, off)
		return nil, &Error{Line: line, Column: col, Msg: "unexpected content after the top-level object"}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &Error{Msg: "expected a JSON object at the top level, got " + describe(normalize(doc))}
	}
	return normalize(obj).(map[string]any), nil
}

// normalize gives JSON and TOML documents one shape: objects are
// map[string]any, arrays []any, numbers int64 when integral (float64
// otherwise), so validation does not care which format a value came from.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
		return v
	case []map[string]any: // TOML arrays of tables
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		// Out-of-range numbers come back as ±Inf, the same value JavaScript
		// would give them.
		f, _ := v.Float64()
		return f
	case int:
		return int64(v)
	default:
		return v
	}
}

// describe renders a value the way the user would have written it, for "got
// ..." in error messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case bool:
		return fmt.Sprint(v)
	case int64:
		return fmt.Sprint(v)
	case float64:
		return fmt.Sprint(jsonFloat(v))
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		if s, ok := describeTOMLTime(v); ok {
			return s
		}
		return fmt.Sprintf("%v", v)
	}
}

// jsonFloat formats like JavaScript would print the number (no exponent for
// ordinary magnitudes), because users wrote it in that style.
func jsonFloat(f float64) string {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Sprint(f)
	}
	return string(b)
}
