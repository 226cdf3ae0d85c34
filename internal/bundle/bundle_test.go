package bundle

import (
	"strconv"
	"strings"
	"testing"
)

func TestModulesAndSourceMap(t *testing.T) {
	b, err := Build(Options{Main: "src/main.js", Modules: map[string]Module{
		"src/main.js": {Type: "js", Source: "import msg from './msg.txt';\nimport { f } from '../lib/f.js';\nimport data from './d.bin';\nexport default { fetch() {\n  throw new Error(msg + f());\n} };\n"},
		"src/msg.txt": {Type: "text", Source: "hi"},
		"src/d.bin":   {Type: "data", Source: "\x00\x01"},
		"lib/f.js":    {Type: "ts", Source: "export const f = (): string => 'there';"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Code, `var msg_default = "hi"`) || !strings.Contains(b.Code, "base64ToBuffer") || !strings.Contains(b.Code, "__isola_register") {
		t.Fatalf("bundle lacks a module:\n%s", b.Code)
	}
	// The throw on line 5 of src/main.js must map back there.
	line := 0
	for i, l := range strings.Split(b.Code, "\n") {
		if strings.Contains(l, "throw new Error") {
			line = i + 1
		}
	}
	got := b.Map.MapStack("    at fetch (isola:worker:" + itoa(line) + ":5)")
	if !strings.Contains(got, "src/main.js:5:") {
		t.Fatalf("mapped stack %q", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		mods     map[string]Module
		uncaught string
	}{
		{map[string]Module{"a.js": {Type: "js", Source: "import './b.js';"}}, "Error: No such module \"b.js\".\n  imported from \"a.js\""},
		{map[string]Module{"a.js": {Type: "js", Source: "import 'left-pad';"}}, "Error: No such module \"left-pad\".\n  imported from \"a.js\""},
		{map[string]Module{"a.js": {Type: "js", Source: "let = ;"}}, "SyntaxError: Unexpected \";\"\n  at a.js:1:7"},
		{map[string]Module{"a.js": {Type: "js", Source: "import x from './w.wasm';"}, "w.wasm": {Type: "wasm"}}, "WebAssembly"},
	}
	for _, c := range cases {
		_, err := Build(Options{Main: "a.js", Modules: c.mods})
		be, ok := err.(*Error)
		if !ok {
			t.Errorf("%v: got %v", c.mods, err)
			continue
		}
		if !strings.Contains(be.Uncaught(), c.uncaught) {
			t.Errorf("got %q, want it to contain %q", be.Uncaught(), c.uncaught)
		}
	}
	if _, err := Build(Options{Main: "nope.js", Modules: map[string]Module{"a.js": {Type: "js"}}}); err == nil || !strings.Contains(err.Error(), "not among the modules") {
		t.Errorf("missing main: %v", err)
	}
}
