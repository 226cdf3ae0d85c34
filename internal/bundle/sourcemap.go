package bundle

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SourceMap maps positions in the bundle back to the worker's modules, so an
// error's stack names src/index.ts:12 rather than a line of the bundle.
type SourceMap struct {
	sources []string
	lines   [][]segment // by generated line (0-based)
}

type segment struct {
	genCol  int
	source  int
	srcLine int
	srcCol  int
}

// ParseSourceMap reads a version 3 source map.
func ParseSourceMap(data []byte) (*SourceMap, error) {
	var raw struct {
		Version  int      `json:"version"`
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw.Version != 3 {
		return nil, fmt.Errorf("unsupported source map version %d", raw.Version)
	}
	m := &SourceMap{sources: raw.Sources}
	var src, srcLine, srcCol int
	for _, line := range strings.Split(raw.Mappings, ";") {
		var segs []segment
		genCol := 0
		for _, field := range strings.Split(line, ",") {
			if field == "" {
				continue
			}
			vals, err := decodeVLQ(field)
			if err != nil {
				return nil, err
			}
			genCol += vals[0]
			if len(vals) < 4 {
				continue
			}
			src += vals[1]
			srcLine += vals[2]
			srcCol += vals[3]
			segs = append(segs, segment{genCol, src, srcLine, srcCol})
		}
		m.lines = append(m.lines, segs)
	}
	return m, nil
}

const vlqChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func decodeVLQ(s string) ([]int, error) {
	var out []int
	shift, value := 0, 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(vlqChars, s[i])
		if d < 0 {
			return nil, fmt.Errorf("bad VLQ character %q", s[i])
		}
		value += (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		if value&1 != 0 {
			out = append(out, -(value >> 1))
		} else {
			out = append(out, value>>1)
		}
		shift, value = 0, 0
	}
	return out, nil
}

// relativeTo rewrites source paths, which esbuild makes relative to the
// output file, into paths relative to the worker directory.
func (m *SourceMap) relativeTo(dir string) {
	for i, s := range m.sources {
		s = strings.TrimPrefix(s, "isola-mem:")
		s = strings.TrimPrefix(s, "/")
		if filepath.IsAbs(s) {
			if r, err := filepath.Rel(dir, s); err == nil {
				s = r
			}
		}
		m.sources[i] = filepath.ToSlash(s)
	}
}

// Lookup maps a 1-based line and column of the bundle to a module and a
// 1-based line and column in it.
func (m *SourceMap) Lookup(line, col int) (source string, srcLine, srcCol int, ok bool) {
	if m == nil || line < 1 || line > len(m.lines) {
		return "", 0, 0, false
	}
	segs := m.lines[line-1]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].genCol > col-1 }) - 1
	if i < 0 {
		if len(segs) == 0 {
			return "", 0, 0, false
		}
		i = 0
	}
	s := segs[i]
	if s.source < 0 || s.source >= len(m.sources) {
		return "", 0, 0, false
	}
	return m.sources[s.source], s.srcLine + 1, s.srcCol + 1, true
}

var stackPosition = regexp.MustCompile(regexp.QuoteMeta(FileName) + `:(\d+)(?::(\d+))?`)

// MapStack rewrites every "isola:worker:L:C" in a stack trace or message into
// the module position it came from, and drops the runtime's own frames.
func (m *SourceMap) MapStack(stack string) string {
	if m == nil || !strings.Contains(stack, "at ") {
		return stack
	}
	stack = dropRuntimeFrames(stack)
	if !strings.Contains(stack, FileName) {
		return stack
	}
	return stackPosition.ReplaceAllStringFunc(stack, func(pos string) string {
		sub := stackPosition.FindStringSubmatch(pos)
		line, _ := strconv.Atoi(sub[1])
		col := 1
		if sub[2] != "" {
			col, _ = strconv.Atoi(sub[2])
		}
		src, l, c, ok := m.Lookup(line, col)
		if !ok {
			return pos
		}
		return fmt.Sprintf("%s:%d:%d", src, l, c)
	})
}

// MapText is MapStack for text that may hold a stack, such as a console
// line: only text with a frame of the worker's is taken for one, so that a
// line of the worker's own that reads like a frame ("    at home") stays.
func (m *SourceMap) MapText(text string) string {
	if !strings.Contains(text, "("+FileName+":") {
		return text
	}
	return m.MapStack(text)
}

// framePrefix starts every frame line of the engine's stack traces.
const framePrefix = "    at "

// dropRuntimeFrames removes stack frames inside Isola's own prelude: they
// say nothing about the worker's code, and workerd shows none of its own.
// The prelude is compiled without positions, so its frames are the ones
// that name no place ("    at dispatch"). A builtin's frame ("    at apply
// (native)") goes with them unless a frame of the worker's comes after it:
// then the worker called the builtin (`[].map(f)`), not the prelude.
func dropRuntimeFrames(stack string) string {
	if !strings.Contains(stack, framePrefix) {
		return stack
	}
	lines := strings.Split(stack, "\n")
	keep := make([]bool, len(lines))
	callerIsWorker := false // the frame after this one (its caller) is the worker's
	dropped := false
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if !strings.HasPrefix(l, framePrefix) {
			keep[i], callerIsWorker = true, false
			continue
		}
		switch {
		case !strings.HasSuffix(l, ")") || strings.Contains(l, "(isola:prelude"):
			callerIsWorker = false
		case strings.HasSuffix(l, "(native)"):
			keep[i] = callerIsWorker
		default:
			keep[i], callerIsWorker = true, true
		}
		dropped = dropped || !keep[i]
	}
	if !dropped {
		return stack
	}
	out := lines[:0]
	for i, l := range lines {
		if keep[i] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
