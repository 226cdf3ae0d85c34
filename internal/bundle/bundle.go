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
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// FileName is the name the bundled script carries in stack traces; frames in
// it are mapped back to the worker's own modules through the source map.
const FileName = "isola:worker"

// Bundle is a worker ready to compile.
type Bundle struct {
	Code string
	Map  *SourceMap
}

// Options says what to bundle. Either Dir (files on disk) or Files (an
// in-memory module map, used for code handed over at runtime) holds the
// modules; Main names the entry module relative to that root.
type Options struct {
	Dir   string
	Files map[string]string
	Main  string
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
	if opts.Files != nil {
		resolveDir = "/"
		if _, ok := opts.Files[strings.TrimPrefix(main, "./")]; !ok {
			return nil, fmt.Errorf("main module %q is not among the modules", opts.Main)
		}
	} else if _, err := os.Stat(filepath.Join(opts.Dir, opts.Main)); err != nil {
		return nil, fmt.Errorf("main module %q not found in %s", opts.Main, opts.Dir)
	}
	plugins := []api.Plugin{builtinsPlugin(), dataModulesPlugin(opts.Files)}
	if opts.Files != nil {
		plugins = append(plugins, memoryFilesPlugin(opts.Files))
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

// workingDir anchors esbuild's relative paths (and so the source map's) at
// the worker's directory.
func workingDir(opts Options) string {
	if opts.Files != nil {
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
			fmt.Fprintf(&sb, "%s:%d:%d: %s", m.Location.File, m.Location.Line, m.Location.Column+1, m.Text)
			if m.Location.LineText != "" {
				fmt.Fprintf(&sb, "\n    %s", m.Location.LineText)
			}
		} else {
			sb.WriteString(m.Text)
		}
	}
	return &Error{Message: sb.String()}
}

// Error is a bundling failure: a syntax error, a missing import, an
// unsupported module type.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

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

// dataModulesPlugin gives `.bin` imports an ArrayBuffer, as wrangler's Data
// rule does, and turns WebAssembly imports into a clear error.
func dataModulesPlugin(files map[string]string) api.Plugin {
	return api.Plugin{
		Name: "isola-data",
		Setup: func(b api.PluginBuild) {
			b.OnLoad(api.OnLoadOptions{Filter: `\.bin$`}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				var data []byte
				if files != nil && a.Namespace == "isola-mem" {
					data = []byte(files[strings.TrimPrefix(a.Path, "/")])
				} else {
					var err error
					if data, err = os.ReadFile(a.Path); err != nil {
						return api.OnLoadResult{}, err
					}
				}
				src := fmt.Sprintf("export default globalThis[Symbol.for(\"isola.modules\")][\"isola:internal\"].base64ToBuffer(%q);\n",
					base64.StdEncoding.EncodeToString(data))
				return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: `\.wasm$`}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				return api.OnLoadResult{}, fmt.Errorf("WebAssembly modules are not supported yet by Isola (its JavaScript engine has no WebAssembly)")
			})
		},
	}
}

// memoryFilesPlugin resolves modules from an in-memory file map: the code a
// platform hands to a Worker Loader at runtime never touches the disk.
func memoryFilesPlugin(files map[string]string) api.Plugin {
	return api.Plugin{
		Name: "isola-memory",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if !strings.HasPrefix(a.Path, "./") && !strings.HasPrefix(a.Path, "../") && !strings.HasPrefix(a.Path, "/") {
					return api.OnResolveResult{}, nil
				}
				dir := "/"
				if a.Namespace == "isola-mem" {
					dir = filepath.Dir(a.Importer)
				}
				p := filepath.ToSlash(filepath.Clean(filepath.Join(dir, a.Path)))
				if _, ok := files[strings.TrimPrefix(p, "/")]; !ok {
					return api.OnResolveResult{}, fmt.Errorf("no such module %q (imported from %s)", strings.TrimPrefix(p, "/"), a.Importer)
				}
				return api.OnResolveResult{Path: p, Namespace: "isola-mem"}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "isola-mem"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				src := files[strings.TrimPrefix(a.Path, "/")]
				loader := api.LoaderJS
				switch filepath.Ext(a.Path) {
				case ".ts", ".mts", ".cts":
					loader = api.LoaderTS
				case ".tsx":
					loader = api.LoaderTSX
				case ".jsx":
					loader = api.LoaderJSX
				case ".json":
					loader = api.LoaderJSON
				case ".txt", ".html":
					loader = api.LoaderText
				}
				return api.OnLoadResult{Contents: &src, Loader: loader, ResolveDir: filepath.Dir(a.Path)}, nil
			})
		},
	}
}
