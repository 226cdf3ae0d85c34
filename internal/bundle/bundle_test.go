package bundle

import (
	"os"
	"path/filepath"
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

// WebAssembly modules leave the bundle's code as bytes beside it, by the
// names the code asks the runtime for them, from a module map and from
// files (also imported as "x.wasm?module", as some packages do).
func TestWasmModules(t *testing.T) {
	bin := "\x00asm\x01\x00\x00\x00"
	b, err := Build(Options{Main: "a.js", Modules: map[string]Module{
		"a.js":       {Type: "js", Source: "import w from './lib/w.wasm'; export default w;"},
		"lib/w.wasm": {Type: "wasm", Source: bin},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Wasm["lib/w.wasm"]) != bin || !strings.Contains(b.Code, `"lib/w.wasm"`) {
		t.Errorf("from a module map: %q in %q", b.Wasm, b.Code)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"main.js":     "import a from './wasm/a.wasm'; import b from './wasm/b.wasm?module'; export default [a, b];",
		"wasm/a.wasm": bin,
		"wasm/b.wasm": bin + "\x00",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err = Build(Options{Dir: dir, Main: "main.js"})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Wasm) != 2 || string(b.Wasm["wasm/a.wasm"]) != bin || string(b.Wasm["wasm/b.wasm"]) != bin+"\x00" {
		t.Errorf("from files: %q", b.Wasm)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		mods     map[string]Module
		uncaught string
	}{
		{map[string]Module{"a.js": {Type: "js", Source: "import './b.js';"}}, "Error: No such module \"b.js\".\n  imported from \"a.js\""},
		{map[string]Module{"a.js": {Type: "js", Source: "import 'left-pad';"}}, "Error: No such module \"left-pad\".\n  imported from \"a.js\""},
		{map[string]Module{"a.js": {Type: "js", Source: "let = ;"}}, "SyntaxError: Unexpected \";\"\n  at a.js:1:7"},
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

func TestMapStackDropsRuntimeFrames(t *testing.T) {
	var m SourceMap // no mappings: positions stay as they are
	cases := []struct{ in, want string }{
		// The prelude's frames name no place; the builtin it called goes too.
		{"    at inner (isola:worker:13:22)\n    at fetch (isola:worker:17:10)\n    at callFetchHandler\n    at <anonymous>\n    at apply (native)\n    at dispatch\n",
			"    at inner (isola:worker:13:22)\n    at fetch (isola:worker:17:10)\n"},
		// A builtin the worker called stays, however deep.
		{"    at f (isola:worker:2:3)\n    at map (native)\n    at forEach (native)\n    at g (isola:worker:9:1)\n    at dispatch",
			"    at f (isola:worker:2:3)\n    at map (native)\n    at forEach (native)\n    at g (isola:worker:9:1)"},
		// A stack made entirely inside the runtime (an error decoded from RPC).
		{"Uncaught SyntaxError: bad\n    at error\n    at decode\n    at rpcDecodeParts", "Uncaught SyntaxError: bad"},
		// A prelude callback in the middle: the worker's frames on both sides stay.
		{"    at pull (isola:worker:5:1)\n    at call (native)\n    at streamPull\n    at main (isola:worker:8:2)",
			"    at pull (isola:worker:5:1)\n    at main (isola:worker:8:2)"},
		// Positions from before the prelude lost its own.
		{"    at x (isola:worker:1:1)\n    at y (isola:prelude:10:2)", "    at x (isola:worker:1:1)"},
		// Text that is not a stack is left alone, lines starting "at" too.
		{"at noon\n  at the station", "at noon\n  at the station"},
		{"no stack here", "no stack here"},
	}
	for _, c := range cases {
		if got := m.MapStack(c.in); got != c.want {
			t.Errorf("MapStack(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	// Console text is taken for a stack only when it holds a frame of the
	// worker's.
	for _, c := range []struct{ in, want string }{
		{"at noon\n    at home", "at noon\n    at home"},
		{"Error: x\n    at f (isola:worker:1:2)\n    at dispatch", "Error: x\n    at f (isola:worker:1:2)"},
	} {
		if got := m.MapText(c.in); got != c.want {
			t.Errorf("MapText(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
