// Package js holds the JavaScript half of Isola's web platform: the files
// that make every isolate's prelude.
//
// Every isolate pays, in start-up time and memory, for each byte of prelude
// bytecode it loads, and most workers touch only a little of the platform.
// So the prelude is split into units. The eager unit (the files listed in
// eagerFiles: timers, Request/Response, the worker glue) is loaded
// into every isolate. Every other file is a lazy unit of its own, loaded the
// first time a global it defines (URL, ReadableStream, crypto, ...) or a
// helper it declares is used.
//
// Writing a prelude file: declare top-level names at column 0 (function,
// class, const, let); install globals only with defineGlobal("Name", value)
// with a literal name. A file may use any top-level name of any other file
// as if it were in scope: esbuild's define rewrites such free names into
// reads from the shared unit table, which loads the owning unit on first
// use. Cycles at load time (two units whose top levels need each other) are
// an error.
package js

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

//go:embed *.js
var files embed.FS

// FileName is the name prelude code carries in stack traces.
const FileName = "isola:prelude"

// shared is the name of the unit table inside prelude code.
const shared = "$isola"

// eagerFiles make up the unit every isolate loads at start.
var eagerFiles = map[string]bool{
	"00_core.js": true, "60_fetch.js": true, "90_worker.js": true,
}

// Unit is one separately loaded piece of the prelude.
type Unit struct {
	Name    string   // the file name; "" for the eager unit
	Source  string   // a script whose value is function($isola) returning the unit's exports
	Exports []string // top-level names other units may use
	Globals []string // globals the unit installs
}

var (
	decl       = regexp.MustCompile(`(?m)^(?:export\s+)?(?:async\s+)?(function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)`)
	globalDecl = regexp.MustCompile(`(?m)^defineGlobal\(\s*"([A-Za-z_$][\w$]*)"`)

	unitsOnce sync.Once
	units     []Unit
	unitsErr  error
)

// Units returns the eager unit first, then the lazy ones in name order.
func Units() ([]Unit, error) {
	unitsOnce.Do(func() { units, unitsErr = buildUnits() })
	return units, unitsErr
}

type rawUnit struct {
	mutable []string // exports that are reassigned: published as getters
	name    string
	files   []string
	src     string
	exports []string
	globals []string
}

func buildUnits() ([]Unit, error) {
	names, err := fs.Glob(files, "*.js")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	eager := &rawUnit{}
	var lazy []*rawUnit
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		src := string(b)
		u := eager
		if !eagerFiles[name] {
			u = &rawUnit{name: name}
			lazy = append(lazy, u)
		}
		u.files = append(u.files, name)
		u.src += "// ---- " + name + " ----\n" + src + "\n"
		for _, m := range decl.FindAllStringSubmatch(src, -1) {
			u.exports = append(u.exports, m[2])
			if m[1] == "let" || m[1] == "var" {
				u.mutable = append(u.mutable, m[2])
			}
		}
		for _, m := range globalDecl.FindAllStringSubmatch(src, -1) {
			u.globals = append(u.globals, m[1])
		}
	}
	all := append([]*rawUnit{eager}, lazy...)
	owner := map[string]string{}
	for _, u := range all {
		for _, e := range u.exports {
			if prev, dup := owner[e]; dup {
				return nil, fmt.Errorf("prelude: %q is declared in both %s and %s", e, prev, strings.Join(u.files, ","))
			}
			owner[e] = strings.Join(u.files, ",")
		}
	}
	// Names other units declare become reads from the unit table, but only
	// where a unit mentions them: each name in the table costs every isolate
	// an entry in the table of owners at start-up.
	needed := map[string]bool{}
	defines := make([]map[string]string, len(all))
	for i, u := range all {
		defines[i] = map[string]string{}
		mine := map[string]bool{}
		for _, e := range u.exports {
			mine[e] = true
		}
		for _, o := range all {
			if o == u {
				continue
			}
			for _, e := range o.exports {
				if !mine[e] && mentions(u.src, e) {
					defines[i][e] = shared + "." + e
					needed[e] = true
				}
			}
		}
	}
	for _, u := range all {
		var kept []string
		for _, e := range u.exports {
			if needed[e] {
				kept = append(kept, e)
			}
		}
		u.exports = kept
		var keptMutable []string
		for _, e := range u.mutable {
			if needed[e] {
				keptMutable = append(keptMutable, e)
			}
		}
		u.mutable = keptMutable
	}
	var out []Unit
	for i, u := range all {
		define := defines[i]
		body := u.src
		if u.name == "" {
			body = lazyTable(lazy) + body
		}
		wrapped := "(function (" + shared + ") {\n\"use strict\";\n" + body +
			"\nreturn {" + strings.Join(u.exports, ", ") + "};\n})"
		if u.name == "" {
			// The eager unit runs at once; it publishes its names for the
			// lazy units when the first of them loads (loadUnit).
			wrapped = "(function (" + shared + ") {\n\"use strict\";\n" + body +
				"\nfunction publishEager() {\n" + publish(u) + "\n}\n})({})"
		}
		res := api.Transform(wrapped, api.TransformOptions{
			Loader:     api.LoaderJS,
			Target:     api.ESNext,
			Define:     define,
			Sourcefile: FileName,
			LogLevel:   api.LogLevelSilent,
		})
		if len(res.Errors) > 0 {
			m := res.Errors[0]
			loc := ""
			if m.Location != nil {
				loc = fmt.Sprintf(" (line %d: %s)", m.Location.Line, m.Location.LineText)
			}
			return nil, fmt.Errorf("prelude unit %s: %s%s", strings.Join(u.files, ","), m.Text, loc)
		}
		// esbuild ends the expression statement with ";\n"; the script's
		// value must be the function itself.
		out = append(out, Unit{Name: u.name, Source: string(res.Code), Exports: u.exports, Globals: u.globals})
	}
	return out, nil
}

// publish writes the eager unit's names into the unit table. A let binding
// can be reassigned after the table is filled (the worker's module, its
// env), so lazy units read those through getters rather than a snapshot.
func publish(u *rawUnit) string {
	mutable := map[string]bool{}
	for _, m := range u.mutable {
		mutable[m] = true
	}
	var plain, getters []string
	for _, e := range u.exports {
		if mutable[e] {
			getters = append(getters, fmt.Sprintf("%s: { get: () => %s, enumerable: true }", e, e))
		} else {
			plain = append(plain, e)
		}
	}
	out := "Object.assign(" + shared + ", {" + strings.Join(plain, ", ") + "});"
	if len(getters) > 0 {
		out += "\nObject.defineProperties(" + shared + ", {" + strings.Join(getters, ", ") + "});"
	}
	return out
}

// mentions reports whether src has name as a whole word. It may see a name
// in a comment or a string; that only costs a getter.
func mentions(src, name string) bool {
	for i := 0; ; {
		j := strings.Index(src[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !isIdent(src[j-1])) && (end == len(src) || !isIdent(src[end])) {
			return true
		}
		i = end
	}
}

func isIdent(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// lazyTable tells the eager unit which lazy unit installs which global, and
// which owns which export: the exports as a JSON string the eager unit parses
// only when a lazy name is first missed (an object of every name, built at
// start-up, cost each isolate ~100 µs).
func lazyTable(lazy []*rawUnit) string {
	globals := map[string][]string{}
	owners := map[string]string{}
	for _, u := range lazy {
		if len(u.globals) > 0 {
			globals[u.name] = append([]string{}, u.globals...)
		}
		for _, e := range u.exports {
			owners[e] = u.name
		}
	}
	g, _ := json.Marshal(globals)
	o, _ := json.Marshal(owners)
	q, _ := json.Marshal(string(o))
	return "const lazyGlobals = " + string(g) + ";\nconst lazyOwnersJSON = " + string(q) + ";\n"
}

// Compiled is the prelude as bytecode, made once per process and shared by
// every isolate.
type Compiled struct {
	Eager []byte
	Lazy  map[string][]byte

	sharedOnce sync.Once
	eager      *jsvm.Bytecode
	lazy       map[string]*jsvm.Bytecode
}

// shared returns the bytecode in C memory, copied once per process.
func (c *Compiled) shared() (*jsvm.Bytecode, map[string]*jsvm.Bytecode) {
	c.sharedOnce.Do(func() {
		c.eager = jsvm.NewBytecode(c.Eager)
		c.lazy = map[string]*jsvm.Bytecode{}
		for name, code := range c.Lazy {
			c.lazy[name] = jsvm.NewBytecode(code)
		}
	})
	return c.eager, c.lazy
}

var (
	compiledOnce sync.Once
	compiled     *Compiled
	compiledErr  error
)

// Compile returns the prelude's bytecode.
func Compile() (*Compiled, error) {
	compiledOnce.Do(func() {
		us, err := Units()
		if err != nil {
			compiledErr = err
			return
		}
		vm, err := quickjs.NewVM()
		if err != nil {
			compiledErr = err
			return
		}
		defer vm.Close()
		if compiledErr = jsvm.CheckLayout(vm); compiledErr != nil {
			return
		}
		c := &Compiled{Lazy: map[string][]byte{}}
		for _, u := range us {
			// The prelude's frames never show in a worker's stacks and its
			// source is nobody's business, so neither is kept; except for
			// the JavaScript profiler, which names anonymous functions by
			// where they start.
			strip, name := jsvm.StripSource|jsvm.StripDebug, FileName
			if os.Getenv("ISOLA_JS_PROFILE") != "" {
				strip, name = jsvm.StripSource, FileName+"-"+cmp.Or(u.Name, "eager")
			}
			code, err := jsvm.CompileStripped(vm, u.Source, name, false, strip)
			if err != nil {
				compiledErr = fmt.Errorf("prelude unit %q: %w", u.Name, err)
				return
			}
			if u.Name == "" {
				c.Eager = code
			} else {
				c.Lazy[u.Name] = code
			}
		}
		compiled = c
	})
	return compiled, compiledErr
}

// LoadUnitHost is the name of the host function Install registers for the
// eager unit to load lazy ones with (as the global __isola_loadUnit).
const LoadUnitHost = "loadUnit"

// Install loads the prelude into vm: it registers the unit loader, then runs
// the eager unit, which takes the host functions registered so far (through
// __isola_adopt). Register the other host functions before calling it.
func (c *Compiled) Install(vm *quickjs.VM) error {
	fns := c.HostFuncs()
	// Here the eager unit's runner also keeps what went wrong.
	var bootErr error
	fns["__isola_boot"] = func() {
		v, err := jsvm.EvalBytecodeInHost(vm, c.eager)
		if err != nil {
			bootErr = err
			return
		}
		v.Free()
	}
	// The loader first, then the eager unit's runner, which the unit
	// deletes: the eager unit runs from a host function so that it is read
	// from the shared copy.
	for _, name := range []string{"__isola_" + LoadUnitHost, "__isola_boot"} {
		if err := jsvm.RegisterHost(vm, name, fns[name]); err != nil {
			return err
		}
	}
	if _, err := vm.Call("__isola_boot"); err != nil {
		return err
	}
	return bootErr
}

// HostFuncs returns the host functions Install registers, by name, for VMs
// cloned from one it was installed in: each takes the VM it serves as its
// first parameter (jsvm.NewHostFunc), so one set serves them all.
func (c *Compiled) HostFuncs() map[string]any {
	eager, lazy := c.shared()
	return map[string]any{
		"__isola_" + LoadUnitHost: func(vm *quickjs.VM, name string) quickjs.Value {
			return loadUnit(vm, lazy, name)
		},
		// A clone never boots (the eager unit deleted its global in the
		// VM cloned); the binding needs a function all the same.
		"__isola_boot": func(vm *quickjs.VM) {
			if v, err := jsvm.EvalBytecodeInHost(vm, eager); err == nil {
				v.Free()
			}
		},
	}
}

// loadUnit answers undefined for a unit it cannot load; the prelude turns
// that into an exception (a Go panic here would skip the JavaScript's
// finally blocks).
func loadUnit(vm *quickjs.VM, lazy map[string]*jsvm.Bytecode, name string) quickjs.Value {
	code, ok := lazy[name]
	if !ok {
		return quickjs.UndefinedValue
	}
	v, err := jsvm.EvalBytecodeInHost(vm, code)
	if err != nil {
		return quickjs.UndefinedValue
	}
	return v
}
