package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DevVarsFile is where `wrangler dev` reads local secrets from, next to the
// config file.
const DevVarsFile = ".dev.vars"

// LoadDevVars reads dir/.dev.vars. A missing file is not an error: it returns
// nil, nil. Apply the result with Config.MergeDevVars.
func LoadDevVars(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, DevVarsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseDevVars(DevVarsFile, data)
}

// ParseDevVars parses dotenv syntax the way wrangler's dotenv dependency
// does: KEY=value (or `export KEY=value`), values optionally in ”, "" or “
// quotes that may span lines, \n and \r expanded only inside "", # starting a
// comment outside quotes, and the last assignment of a key winning.
//
// Where dotenv silently skips a line it cannot read, this returns an error
// naming the line: a skipped secret otherwise surfaces much later as an
// undefined env value.
func ParseDevVars(filename string, data []byte) (map[string]string, error) {
	s := strings.TrimPrefix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\xEF\xBB\xBF")
	vars := map[string]string{}
	line := 1
	errAt := func(l int, format string, args ...any) error {
		return &Error{File: filename, Line: l, Msg: fmt.Sprintf(format, args...)}
	}
	endOfLine := func(from int) int {
		if n := strings.IndexByte(s[from:], '\n'); n >= 0 {
			return from + n
		}
		return len(s)
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '\n':
			line++
			i++
			continue
		case ' ', '\t', '\r':
			i++
			continue
		case '#':
			i = endOfLine(i)
			continue
		}
		badLine := func() error {
			return errAt(line, "expected KEY=value, got %q", strings.TrimSpace(s[i:endOfLine(i)]))
		}
		j := i
		if rest := s[i:endOfLine(i)]; strings.HasPrefix(rest, "export ") || strings.HasPrefix(rest, "export\t") {
			j += len("export")
			j = skipBlanks(s, j)
		}
		keyStart := j
		for j < len(s) && isDotenvKeyChar(s[j]) {
			j++
		}
		key := s[keyStart:j]
		j = skipBlanks(s, j)
		switch {
		case key == "":
			return nil, badLine()
		case j < len(s) && s[j] == '=':
			j++
		case j+1 < len(s) && s[j] == ':' && (s[j+1] == ' ' || s[j+1] == '\t'):
			j++
		default:
			return nil, badLine()
		}
		j = skipBlanks(s, j)

		if j < len(s) && (s[j] == '"' || s[j] == '\'' || s[j] == '`') {
			q := s[j]
			end := j + 1
			for end < len(s) && s[end] != q {
				if s[end] == '\\' && end+1 < len(s) && s[end+1] == q {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, errAt(line, "the value of %s opens a %c quote that is never closed", key, q)
			}
			val := s[j+1 : end]
			if q == '"' {
				val = strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(val)
			}
			startLine := line
			line += strings.Count(s[j:end], "\n")
			eol := endOfLine(end)
			if tail := strings.TrimSpace(s[end+1 : eol]); tail != "" && !strings.HasPrefix(tail, "#") {
				return nil, errAt(startLine, "unexpected %q after the quoted value of %s", tail, key)
			}
			vars[key] = val
			i = eol
			continue
		}

		eol := endOfLine(j)
		val := s[j:eol]
		if h := strings.IndexByte(val, '#'); h >= 0 {
			val = val[:h]
		}
		vars[key] = strings.TrimSpace(val)
		i = eol
	}
	return vars, nil
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isDotenvKeyChar(c byte) bool {
	return c == '_' || c == '.' || c == '-' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
