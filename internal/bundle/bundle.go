// Package bundle turns a worker's modules into the one script an isolate
// evaluates. esbuild resolves relative imports, node_modules, TypeScript and
// the text/data/json module types the way wrangler does; the result is a
// single ES module with no imports left, so it compiles to bytecode once and
// every new isolate of that worker starts from that bytecode.
package bundle

import (
	"encoding/base64"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// FileName is the name the bundled script carries in stack traces; frames in
// it are mapped back to the worker's own modules through the source map.
const FileName = "isola:worker"

// Bundle is a worker ready to compile.
type Bundle struct {
	Code string
	Map  *SourceMap
	// Wasm holds the WebAssembly modules the code imports, by the names
	// the code asks the runtime for them by (wasmSource).
	Wasm map[string][]byte
}

// Options says what to bundle. Either Dir (files on disk) or Modules (an
// in-memory module map: code handed over at runtime, which never touches the
// disk) holds the modules; Main names the entry module relative to that root.
type Options struct {
	Dir     string
	Modules map[string]Module
	Main    string
}

// Module is one in-memory module.
type Module struct {
	// Type is js (ES module), cjs, text, data, json, wasm, or ts/tsx/jsx
	// (compiled, which goes beyond workerd).
	Type string
	// Source is the module's text; for data and wasm, its bytes; for json,
	// JSON text.
	Source string
}

// registerGlobal is how the bundle hands the entry module's namespace to the
// prelude, which deletes it at once so the worker never sees it.
const registerGlobal = "__isola_register"

// Build bundles the worker. Errors name the module, line and column.
func Build(opts Options) (*Bundle, error) {
	if opts.Main == "" {
		return nil, fmt.Errorf("no main module: set \"main\" in the wrangler config")
	}
	main := "./" + filepath.ToSlash(strings.TrimPrefix(opts.Main, "./"))
	entry := fmt.Sprintf("import * as m from %q;\nglobalThis.%s(m);\n", main, registerGlobal)
	resolveDir := opts.Dir
	if opts.Modules != nil {
		resolveDir = "/"
		if _, ok := opts.Modules[strings.TrimPrefix(main, "./")]; !ok {
			return nil, fmt.Errorf("main module %q is not among the modules", opts.Main)
		}
	} else if _, err := os.Stat(filepath.Join(opts.Dir, opts.Main)); err != nil {
		return nil, fmt.Errorf("main module %q not found in %s", opts.Main, opts.Dir)
	}
	plugins := []api.Plugin{builtinsPlugin()}
	wasm := &wasmModules{byName: map[string][]byte{}}
	if opts.Modules != nil {
		plugins = append(plugins, memoryModulesPlugin(opts.Modules, wasm))
	} else {
		plugins = append(plugins, dataModulesPlugin(opts.Dir, wasm))
	}
	res := api.Build(api.BuildOptions{
		Stdin: &api.StdinOptions{
			Contents:   entry,
			ResolveDir: resolveDir,
			Sourcefile: "isola-entry.js",
			Loader:     api.LoaderJS,
		},
		Bundle:        true,
		Write:         false,
		AbsWorkingDir: workingDir(opts),
		Format:        api.FormatESModule,
		Platform:      api.PlatformNeutral,
		Target:        api.ES2022,
		Outfile:       "worker.js",
		Sourcemap:     api.SourceMapExternal,
		MainFields:    []string{"browser", "module", "main"},
		Conditions:    []string{"workerd", "worker", "browser"},
		Loader: map[string]api.Loader{
			".js": api.LoaderJS, ".mjs": api.LoaderJS, ".cjs": api.LoaderJS,
			".ts": api.LoaderTS, ".mts": api.LoaderTS, ".cts": api.LoaderTS,
			".tsx": api.LoaderTSX, ".jsx": api.LoaderJSX,
			".json": api.LoaderJSON, ".txt": api.LoaderText, ".html": api.LoaderText,
			".sql": api.LoaderText,
		},
		Plugins:       plugins,
		Define:        define(opts),
		LogLevel:      api.LogLevelSilent,
		LegalComments: api.LegalCommentsNone,
		// The worker's own names stay readable in stacks and in console output.
		MinifyIdentifiers: false,
		KeepNames:         false,
	})
	if len(res.Errors) > 0 {
		return nil, buildError(res.Errors)
	}
	b := &Bundle{}
	if len(wasm.byName) > 0 {
		b.Wasm = wasm.byName
	}
	for _, f := range res.OutputFiles {
		switch {
		case strings.HasSuffix(f.Path, ".map"):
			m, err := ParseSourceMap(f.Contents)
			if err != nil {
				return nil, fmt.Errorf("bundle: source map: %w", err)
			}
			if opts.Dir != "" {
				m.relativeTo(opts.Dir)
			}
			b.Map = m
		default:
			b.Code = string(f.Contents)
		}
	}
	return b, nil
}

// define replaces what code handed over at runtime cannot know: workerd
// gives such modules no import.meta.url.
func define(opts Options) map[string]string {
	if opts.Modules == nil {
		return nil
	}
	return map[string]string{"import.meta.url": "undefined"}
}

// workingDir anchors esbuild's relative paths (and so the source map's) at
// the worker's directory.
func workingDir(opts Options) string {
	if opts.Modules != nil {
		return "/"
	}
	if abs, err := filepath.Abs(opts.Dir); err == nil {
		return abs
	}
	return opts.Dir
}

func buildError(msgs []api.Message) error {
	var sb strings.Builder
	for i, m := range msgs {
		if i > 0 {
			sb.WriteString("\n")
		}
		if m.Location != nil {
			fmt.Fprintf(&sb, "%s:%d:%d: %s", strings.TrimPrefix(m.Location.File, "isola-mem:/"), m.Location.Line, m.Location.Column+1, m.Text)
			if m.Location.LineText != "" {
				fmt.Fprintf(&sb, "\n    %s", m.Location.LineText)
			}
		} else {
			sb.WriteString(m.Text)
		}
	}
	e := &Error{Message: sb.String(), Text: msgs[0].Text}
	if l := msgs[0].Location; l != nil {
		e.File, e.Line, e.Column = strings.TrimPrefix(l.File, "isola-mem:/"), l.Line, l.Column+1
	}
	return e
}

// Error is a bundling failure: a syntax error, a missing import, an
// unsupported module type. Message lists every problem; the other fields
// describe the first.
type Error struct {
	Message      string
	Text         string
	File         string
	Line, Column int
}

func (e *Error) Error() string { return e.Message }

// Uncaught words the first problem as the exception workerd throws when a
// module fails to load: a missing module is an Error naming its importer,
// anything else a SyntaxError at the position.
func (e *Error) Uncaught() string {
	if strings.HasPrefix(e.Text, "No such module") {
		return fmt.Sprintf("Error: %s\n  imported from %q", e.Text, e.File)
	}
	if e.File == "" {
		return "SyntaxError: " + e.Text
	}
	return fmt.Sprintf("SyntaxError: %s\n  at %s:%d:%d", e.Text, e.File, e.Line, e.Column)
}

// builtinsPlugin serves the runtime's own modules. They are views of objects
// the prelude made, so a worker's import costs nothing at start-up.
func builtinsPlugin() api.Plugin {
	return api.Plugin{
		Name: "isola-builtins",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `^(cloudflare|node|isola):`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if _, ok := builtinModules[a.Path]; ok {
					return api.OnResolveResult{Path: a.Path, Namespace: "isola-builtin"}, nil
				}
				if strings.HasPrefix(a.Path, "node:") {
					return api.OnResolveResult{}, fmt.Errorf("module %q is not supported yet by Isola (Node.js compatibility is not implemented)", a.Path)
				}
				return api.OnResolveResult{}, fmt.Errorf("no such built-in module %q", a.Path)
			})
			b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "isola-builtin"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				src := builtinModules[a.Path]
				return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
			})
		},
	}
}

// builtinModules re-export what the prelude keeps under a registry symbol.
var builtinModules = map[string]string{
	"cloudflare:workers": builtinSource("cloudflare:workers",
		"WorkerEntrypoint", "DurableObject", "WorkflowEntrypoint", "RpcTarget", "RpcStub", "RpcPromise", "RpcProperty",
		"ServiceStub", "env", "exports", "waitUntil", "withEnv", "withExports", "withEnvAndExports", "platform"),
	"cloudflare:workflows": builtinSource("cloudflare:workflows", "NonRetryableError"),
	"cloudflare:sockets":   builtinSource("cloudflare:sockets", "connect"),
}

func builtinSource(name string, exports ...string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "const m = globalThis[Symbol.for(\"isola.modules\")][%q];\n", name)
	for _, e := range exports {
		fmt.Fprintf(&sb, "export const %s = m.%s;\n", e, e)
	}
	sb.WriteString("export default m;\n")
	return sb.String()
}

// wasmModules collects the WebAssembly modules a bundle imports (esbuild
// loads modules on several goroutines).
type wasmModules struct {
	mu     sync.Mutex
	byName map[string][]byte
}

// add keeps b under name and returns the source of the JavaScript module
// that stands for it: its default export is the compiled
// WebAssembly.Module, as wrangler's CompiledWasm rule and workerd's wasm
// modules give. The runtime compiles the bytes when it compiles the
// bundle, so a module that does not compile fails the load.
func (w *wasmModules) add(name string, b []byte) string {
	w.mu.Lock()
	w.byName[name] = b
	w.mu.Unlock()
	return fmt.Sprintf("export default WebAssembly[Symbol.for(\"isola.wasm\")](%q);\n", name)
}

// dataModulesPlugin gives `.bin` imports an ArrayBuffer, as wrangler's Data
// rule does, and `.wasm` imports (also as `x.wasm?module`, the form some
// packages use for workers) a WebAssembly.Module.
func dataModulesPlugin(dir string, wasm *wasmModules) api.Plugin {
	return api.Plugin{
		Name: "isola-data",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `\.wasm\?module$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				p := strings.TrimSuffix(a.Path, "?module")
				if !filepath.IsAbs(p) {
					p = filepath.Join(a.ResolveDir, p)
				}
				return api.OnResolveResult{Path: p}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: `\.bin$`}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				data, err := os.ReadFile(a.Path)
				if err != nil {
					return api.OnLoadResult{}, err
				}
				src := dataModule(data)
				return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: `\.wasm$`}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				data, err := os.ReadFile(a.Path)
				if err != nil {
					return api.OnLoadResult{}, err
				}
				name := a.Path
				if rel, err := filepath.Rel(dir, a.Path); err == nil && !strings.HasPrefix(rel, "..") {
					name = filepath.ToSlash(rel)
				}
				src := wasm.add(name, data)
				return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
			})
		},
	}
}

// dataModule is the source of a module whose default export is an
// ArrayBuffer holding data.
func dataModule(data []byte) string {
	return fmt.Sprintf("export default globalThis[Symbol.for(\"isola.modules\")][\"isola:internal\"].base64ToBuffer(%q);\n",
		base64.StdEncoding.EncodeToString(data))
}

// memoryModulesPlugin resolves modules from an in-memory map. Relative
// specifiers resolve against the importer's name; a specifier that is
// exactly a module's name names that module, as workerd allows.
func memoryModulesPlugin(mods map[string]Module, wasm *wasmModules) api.Plugin {
	return api.Plugin{
		Name: "isola-memory",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if _, ok := mods[a.Path]; ok && !strings.HasPrefix(a.Path, ".") {
					return api.OnResolveResult{Path: "/" + a.Path, Namespace: "isola-mem"}, nil
				}
				if !strings.HasPrefix(a.Path, "./") && !strings.HasPrefix(a.Path, "../") && !strings.HasPrefix(a.Path, "/") {
					if a.Kind == api.ResolveEntryPoint || strings.Contains(a.Path, ":") {
						return api.OnResolveResult{}, nil
					}
					// Code handed over at runtime has no node_modules.
					return api.OnResolveResult{}, fmt.Errorf("No such module %q.", a.Path)
				}
				dir := "/"
				if a.Namespace == "isola-mem" {
					dir = path.Dir(a.Importer)
				}
				p := path.Clean(path.Join(dir, a.Path))
				if _, ok := mods[strings.TrimPrefix(p, "/")]; !ok {
					return api.OnResolveResult{}, fmt.Errorf("No such module %q.", strings.TrimPrefix(p, "/"))
				}
				return api.OnResolveResult{Path: p, Namespace: "isola-mem"}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "isola-mem"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				m := mods[strings.TrimPrefix(a.Path, "/")]
				src := m.Source
				var loader api.Loader
				switch m.Type {
				case "js", "cjs":
					loader = api.LoaderJS
				case "ts":
					loader = api.LoaderTS
				case "tsx":
					loader = api.LoaderTSX
				case "jsx":
					loader = api.LoaderJSX
				case "text":
					loader = api.LoaderText
				case "json":
					loader = api.LoaderJSON
				case "data":
					src, loader = dataModule([]byte(m.Source)), api.LoaderJS
				case "wasm":
					src, loader = wasm.add(strings.TrimPrefix(a.Path, "/"), []byte(m.Source)), api.LoaderJS
				default:
					return api.OnLoadResult{}, fmt.Errorf("module %q has unknown type %q", a.Path, m.Type)
				}
				return api.OnLoadResult{Contents: &src, Loader: loader, ResolveDir: path.Dir(a.Path)}, nil
			})
		},
	}
}
