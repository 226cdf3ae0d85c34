package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The same worker written in each format; every format must decode to
// wantFull, so a format-specific quirk shows up as a diff here.
const fullJSONC = `// wrangler.jsonc as the Cloudflare templates write it
{
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "my-worker", // trailing comment
  "main": "src/index.js",
  /* block comment
     spanning lines */
  "compatibility_date": "2025-01-31",
  "compatibility_flags": ["nodejs_compat",],
  "account_id": "abc123",
  "vars": {
    "API_URL": "https://example.com/api", // "//" inside a string is not a comment
    "NOTE": "/* not a comment */ \" // still a string",
    "CONFIG": {"retries": 3, "ratio": 0.5, "tags": ["a", "b",],},
    "ENABLED": true,
  },
  "limits": {"cpu_ms": 50, "memory_mb": 128, "subrequests": 10},
  "rules": [
    {"type": "Text", "globs": ["**/*.txt", "**/*.md"], "fallthrough": true},
    {"type": "CompiledWasm", "globs": ["**/*.wasm"]},
  ],
  "durable_objects": {
    "bindings": [
      {"name": "COUNTER", "class_name": "Counter"},
      {"name": "REMOTE", "class_name": "Room", "script_name": "chat", "environment": "prod"},
    ],
  },
  "migrations": [
    {"tag": "v1", "new_classes": ["Counter"], "new_sqlite_classes": ["Room"]},
    {"tag": "v2", "renamed_classes": [{"from": "Counter", "to": "Counter2"}], "deleted_classes": ["Old"]},
  ],
  "workflows": [
    {"name": "signup", "binding": "SIGNUP", "class_name": "SignupFlow", "script_name": "flows", "limits": {"steps": 25}},
  ],
  "worker_loaders": [{"binding": "LOADER"}],
  "services": [
    {"binding": "AUTH", "service": "auth-worker", "entrypoint": "AuthRPC", "props": {"tenant": "t1"}},
    {"binding": "PLAIN", "service": "plain-worker"},
  ],
  "kv_namespaces": [{"binding": "KV", "id": "xyz"}],
  "dev": {"ip": "127.0.0.1", "port": 8788, "inspector_port": 9230},
}
`

const fullTOML = `# wrangler.toml as older templates write it
"$schema" = "node_modules/wrangler/config-schema.json"
name = "my-worker"
main = "src/index.js"
compatibility_date = "2025-01-31"
compatibility_flags = ["nodejs_compat"]
account_id = "abc123"
kv_namespaces = [{ binding = "KV", id = "xyz" }]

[vars]
API_URL = "https://example.com/api"
NOTE = "/* not a comment */ \" // still a string"
CONFIG = { retries = 3, ratio = 0.5, tags = ["a", "b"] }
ENABLED = true

[limits]
cpu_ms = 50
memory_mb = 128
subrequests = 10

[[rules]]
type = "Text"
globs = ["**/*.txt", "**/*.md"]
fallthrough = true

[[rules]]
type = "CompiledWasm"
globs = ["**/*.wasm"]

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[durable_objects.bindings]]
name = "REMOTE"
class_name = "Room"
script_name = "chat"
environment = "prod"

[[migrations]]
tag = "v1"
new_classes = ["Counter"]
new_sqlite_classes = ["Room"]

[[migrations]]
tag = "v2"
renamed_classes = [{ from = "Counter", to = "Counter2" }]
deleted_classes = ["Old"]

[[workflows]]
name = "signup"
binding = "SIGNUP"
class_name = "SignupFlow"
script_name = "flows"
limits = { steps = 25 }

[[worker_loaders]]
binding = "LOADER"

[[services]]
binding = "AUTH"
service = "auth-worker"
entrypoint = "AuthRPC"
props = { tenant = "t1" }

[[services]]
binding = "PLAIN"
service = "plain-worker"

[dev]
ip = "127.0.0.1"
port = 8788
inspector_port = 9230
`

func wantFull(file string) *Config {
	return &Config{
		File:               file,
		Name:               "my-worker",
		Main:               "src/index.js",
		CompatibilityDate:  "2025-01-31",
		CompatibilityFlags: []string{"nodejs_compat"},
		Vars: map[string]any{
			"API_URL": "https://example.com/api",
			"NOTE":    `/* not a comment */ " // still a string`,
			"CONFIG":  map[string]any{"retries": int64(3), "ratio": 0.5, "tags": []any{"a", "b"}},
			"ENABLED": true,
		},
		Limits: Limits{CPUMs: 50, MemoryMB: 128},
		Rules: []ModuleRule{
			{Type: RuleText, Globs: []string{"**/*.txt", "**/*.md"}, Fallthrough: true},
			{Type: RuleCompiledWasm, Globs: []string{"**/*.wasm"}},
		},
		DurableObjects: []DurableObjectBinding{
			{Name: "COUNTER", ClassName: "Counter"},
			{Name: "REMOTE", ClassName: "Room", ScriptName: "chat"},
		},
		Migrations: []Migration{
			{Tag: "v1", NewClasses: []string{"Counter"}, NewSQLiteClasses: []string{"Room"}},
			{Tag: "v2", RenamedClasses: []RenamedClass{{From: "Counter", To: "Counter2"}}, DeletedClasses: []string{"Old"}},
		},
		Workflows: []WorkflowBinding{
			{Name: "signup", Binding: "SIGNUP", ClassName: "SignupFlow", ScriptName: "flows", Limits: WorkflowLimits{Steps: 25}},
		},
		WorkerLoaders: []WorkerLoaderBinding{{Binding: "LOADER"}},
		Services: []ServiceBinding{
			{Binding: "AUTH", Service: "auth-worker", Entrypoint: "AuthRPC", Props: map[string]any{"tenant": "t1"}},
			{Binding: "PLAIN", Service: "plain-worker"},
		},
		Dev: Dev{IP: "127.0.0.1", Port: 8788},
		Ignored: []string{
			"$schema",
			"account_id",
			"dev.inspector_port",
			"durable_objects.bindings[1].environment",
			"kv_namespaces",
			"limits.subrequests",
		},
	}
}

func TestParseEveryFormat(t *testing.T) {
	for _, tc := range []struct{ file, src string }{
		{"wrangler.jsonc", fullJSONC},
		// wrangler reads .json with the same lenient parser, so comments
		// and trailing commas must work there too.
		{"wrangler.json", fullJSONC},
		{"wrangler.toml", fullTOML},
		// Parse is given a path when the CLI takes --config; only the base
		// name belongs in File.
		{"conf/wrangler.toml", fullTOML},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Parse(tc.file, []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if got.Raw["name"] != "my-worker" {
				t.Errorf("Raw[name] = %v, want the parsed document", got.Raw["name"])
			}
			got.Raw, got.source = nil, nil
			for i := range got.Services {
				// The order-keeping copy of props is checked by TestServicePropsKeepOrder.
				got.Services[i].propsRaw = nil
			}
			want := wantFull(filepath.Base(tc.file))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse mismatch\n got: %#v\nwant: %#v", got, want)
			}
		})
	}
}

func TestParseMinimal(t *testing.T) {
	got, err := Parse("wrangler.jsonc", []byte(`{"main": "index.js"}`))
	if err != nil {
		t.Fatal(err)
	}
	// Callers range over Vars and merge .dev.vars into it without a nil check.
	if got.Vars == nil || len(got.Vars) != 0 {
		t.Errorf("Vars = %#v, want empty non-nil map", got.Vars)
	}
	if got.Ignored != nil || got.CompatibilityDate != "" || got.Limits != (Limits{}) {
		t.Errorf("unexpected defaults: %#v", got)
	}
}

func TestStripJSONCKeepsOffsets(t *testing.T) {
	in := "{\"a\\\"//b\": 1, // c\n/* d\n*/ \"e\": [1,2,/*x*/],}"
	out, err := stripJSONC([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	// Same length and same newlines: that is what keeps line numbers right.
	want := "{\"a\\\"//b\": 1,     \n    \n   \"e\": [1,2      ] }"
	if string(out) != want {
		t.Errorf("stripJSONC:\n got %q\nwant %q", out, want)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, src, want string
	}{
		{
			name: "syntax error keeps line numbers past comments",
			file: "wrangler.jsonc",
			src:  "{\n  // one\n  /* two\n     three */\n  \"main\": \"a.js\"\n  \"name\": \"x\",\n}",
			want: `wrangler.jsonc:6:3: invalid character '"' after object key:value pair`,
		},
		{
			name: "unterminated block comment",
			file: "wrangler.jsonc",
			src:  "{\n  \"main\": \"a.js\", /* oops\n}",
			want: "wrangler.jsonc:2:19: unterminated /* comment",
		},
		{
			name: "truncated file",
			file: "wrangler.json",
			src:  "{\n  \"main\": \"a.js\",\n",
			want: "wrangler.json:2:18: unexpected end of file: a closing } or ] is missing",
		},
		{
			name: "content after the object",
			file: "wrangler.jsonc",
			src:  "{\"main\": \"a.js\"}\n{}",
			want: "wrangler.jsonc:2:1: unexpected content after the top-level object",
		},
		{
			name: "empty file",
			file: "wrangler.jsonc",
			src:  "// nothing here\n",
			want: `wrangler.jsonc: the file is empty: expected a JSON object like {"main": "src/index.js"}`,
		},
		{
			name: "top level is not an object",
			file: "wrangler.json",
			src:  `["main"]`,
			want: "wrangler.json: expected a JSON object at the top level, got an array",
		},
		{
			name: "toml syntax error",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\nname = \n",
			want: "wrangler.toml:2:8: expected value but found '\\n' instead",
		},
		{
			name: "unsupported extension",
			file: "wrangler.yaml",
			src:  "main: a.js",
			want: "wrangler.yaml: unsupported config format: expected a .jsonc, .json or .toml file",
		},
		{
			name: "main missing",
			file: "wrangler.jsonc",
			src:  `{"name": "x"}`,
			want: `wrangler.jsonc: field "main" is required: the entry module of the worker, e.g. "src/index.js"`,
		},
		{
			name: "main empty",
			file: "wrangler.toml",
			src:  `main = ""`,
			want: `wrangler.toml: field "main" is required: the entry module of the worker, e.g. "src/index.js"`,
		},
		{
			name: "main wrong type",
			file: "wrangler.jsonc",
			src:  `{"main": ["a.js"]}`,
			want: `wrangler.jsonc: field "main": expected a string, got an array`,
		},
		{
			name: "compatibility_date as a number",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "compatibility_date": 20250131}`,
			want: `wrangler.jsonc: field "compatibility_date": expected a date like "2025-01-31", got 20250131`,
		},
		{
			name: "compatibility_date without zero padding",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "compatibility_date": "2025-1-31"}`,
			want: `wrangler.jsonc: field "compatibility_date": expected a date like "2025-01-31", got "2025-1-31"`,
		},
		{
			name: "compatibility_date that is not a real day",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "compatibility_date": "2025-02-30"}`,
			want: `wrangler.jsonc: field "compatibility_date": expected a date like "2025-01-31", got "2025-02-30", which is not a real date`,
		},
		{
			name: "compatibility_date as an unquoted TOML date",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\ncompatibility_date = 2025-01-31\n",
			want: `wrangler.toml: field "compatibility_date": expected a date like "2025-01-31", got a TOML date 2025-01-31`,
		},
		{
			name: "compatibility_flags element",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "compatibility_flags": ["nodejs_compat", 3]}`,
			want: `wrangler.jsonc: field "compatibility_flags[1]": expected a string, got 3`,
		},
		{
			name: "compatibility_flags not a list",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "compatibility_flags": "nodejs_compat"}`,
			want: `wrangler.jsonc: field "compatibility_flags": expected an array of strings, got "nodejs_compat"`,
		},
		{
			name: "name wrong type",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\nname = 42\n",
			want: `wrangler.toml: field "name": expected a string, got 42`,
		},
		{
			name: "typo of a top-level field",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "compatability_date": "2025-01-31"}`,
			want: `wrangler.jsonc: unknown field "compatability_date" (did you mean "compatibility_date"?)`,
		},
		{
			name: "typo with a dash",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\ncompatibility-flags = []\n",
			want: `wrangler.toml: unknown field "compatibility-flags" (did you mean "compatibility_flags"?)`,
		},
		{
			name: "typo of an ignored field still gets a suggestion",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "kv_namespace": []}`,
			want: `wrangler.jsonc: unknown field "kv_namespace" (did you mean "kv_namespaces"?)`,
		},
		{
			name: "unknown field with nothing close",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "frobnicate": 1}`,
			want: `wrangler.jsonc: unknown field "frobnicate": not a wrangler configuration field`,
		},
		{
			name: "typo inside a binding",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "durable_objects": {"bindings": [{"name": "C", "class_name": "C", "scirpt_name": "x"}]}}`,
			want: `wrangler.jsonc: unknown field "durable_objects.bindings[0].scirpt_name" (did you mean "durable_objects.bindings[0].script_name"?)`,
		},
		{
			name: "unknown nested field lists the accepted ones",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\n[limits]\nwall_time = 5\n",
			want: `wrangler.toml: unknown field "limits.wall_time": limits takes cpu_ms, memory_mb, subrequests`,
		},
		{
			name: "vars not an object",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "vars": "API_KEY=1"}`,
			want: `wrangler.jsonc: field "vars": expected an object, got "API_KEY=1"`,
		},
		{
			name: "vars value that JSON cannot carry",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\n[vars]\nAPI_KEY = 2025-01-31T10:00:00\n",
			want: `wrangler.toml: field "vars.API_KEY": expected a string or a JSON value (quote dates in TOML), got a TOML date-time 2025-01-31T10:00:00`,
		},
		{
			name: "durable object without class_name",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "durable_objects": {"bindings": [{"name": "COUNTER"}]}}`,
			want: `wrangler.jsonc: field "durable_objects.bindings[0].class_name" is required: the exported class that implements it, e.g. "Counter"`,
		},
		{
			name: "durable object class_name wrong type",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "durable_objects": {"bindings": [{"name": "COUNTER", "class_name": 7}]}}`,
			want: `wrangler.jsonc: field "durable_objects.bindings[0].class_name": expected a string, got 7`,
		},
		{
			name: "durable_objects written as a list",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "durable_objects": [{"name": "COUNTER", "class_name": "Counter"}]}`,
			want: `wrangler.jsonc: field "durable_objects": expected an object, got an array`,
		},
		{
			name: "rule type unknown",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "rules": [{"type": "Wasm", "globs": ["*.wasm"]}]}`,
			want: `wrangler.jsonc: field "rules[0].type": expected one of "ESModule", "CommonJS", "CompiledWasm", "Text" or "Data", got "Wasm"`,
		},
		{
			name: "python rules are wrangler's but not Isola's",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "rules": [{"type": "PythonModule", "globs": ["*.py"]}]}`,
			want: `wrangler.jsonc: field "rules[0].type": "PythonModule" modules are not supported by Isola; expected one of "ESModule", "CommonJS", "CompiledWasm", "Text" or "Data"`,
		},
		{
			name: "rule without globs",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\n[[rules]]\ntype = \"Text\"\n",
			want: `wrangler.toml: field "rules[0].globs" is required: the files the rule applies to, e.g. ["**/*.txt"]`,
		},
		{
			name: "fallthrough wrong type",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "rules": [{"type": "Text", "globs": ["*.txt"], "fallthrough": "yes"}]}`,
			want: `wrangler.jsonc: field "rules[0].fallthrough": expected true or false, got "yes"`,
		},
		{
			name: "cpu_ms fractional",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "limits": {"cpu_ms": 12.5}}`,
			want: `wrangler.jsonc: field "limits.cpu_ms": expected a whole number of milliseconds greater than 0, got 12.5`,
		},
		{
			name: "memory_mb negative",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\nlimits = { memory_mb = -1 }\n",
			want: `wrangler.toml: field "limits.memory_mb": expected a whole number of megabytes greater than 0, got -1`,
		},
		{
			name: "dev port out of range",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "dev": {"port": 70000}}`,
			want: `wrangler.jsonc: field "dev.port": expected a port number from 1 to 65535, got 70000`,
		},
		{
			name: "dev port as a string",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "dev": {"port": "8787"}}`,
			want: `wrangler.jsonc: field "dev.port": expected a port number from 1 to 65535, got "8787"`,
		},
		{
			name: "service without service",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "services": [{"binding": "AUTH"}]}`,
			want: `wrangler.jsonc: field "services[0].service" is required: the name of the worker to call, e.g. "auth-worker"`,
		},
		{
			name: "service props not an object",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "services": [{"binding": "AUTH", "service": "auth", "props": [1]}]}`,
			want: `wrangler.jsonc: field "services[0].props": expected an object, got an array`,
		},
		{
			name: "workflow steps",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "workflows": [{"name": "w", "binding": "W", "class_name": "W", "limits": {"steps": 0}}]}`,
			want: `wrangler.jsonc: field "workflows[0].limits.steps": expected a whole number of steps greater than 0, got 0`,
		},
		{
			name: "worker loader without binding",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "worker_loaders": [{}]}`,
			want: `wrangler.jsonc: field "worker_loaders[0].binding" is required: the name the worker sees in env, e.g. "LOADER"`,
		},
		{
			name: "migration renamed_classes entry",
			file: "wrangler.toml",
			src:  "main = \"a.js\"\n[[migrations]]\ntag = \"v1\"\nrenamed_classes = [{ from = \"A\" }]\n",
			want: `wrangler.toml: field "migrations[0].renamed_classes[0].to" is required: the new class name, e.g. "Counter"`,
		},
		{
			name: "duplicate migration tag",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "migrations": [{"tag": "v1"}, {"tag": "v1"}]}`,
			want: `wrangler.jsonc: field "migrations[1].tag": tag "v1" is already used by migrations[0]`,
		},
		{
			name: "binding name used twice",
			file: "wrangler.jsonc",
			src:  `{"main": "a.js", "vars": {"AUTH": "x"}, "services": [{"binding": "AUTH", "service": "auth"}]}`,
			want: `wrangler.jsonc: field "services[0].binding": binding name "AUTH" is already used by "vars.AUTH"`,
		},
		{
			name: "every problem is reported at once",
			file: "wrangler.jsonc",
			src:  `{"name": 1, "compatibility_date": "soon"}`,
			want: `wrangler.jsonc: field "name": expected a string, got 1` + "\n" +
				`wrangler.jsonc: field "main" is required: the entry module of the worker, e.g. "src/index.js"` + "\n" +
				`wrangler.jsonc: field "compatibility_date": expected a date like "2025-01-31", got "soon"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(tc.file, []byte(tc.src))
			checkErr(t, err, tc.want)
			if cfg != nil {
				t.Errorf("Parse returned a config along with the error")
			}
		})
	}
}

// The CLI reports field errors by path, so the typed error must survive
// errors.Join.
func TestErrorIsTyped(t *testing.T) {
	_, err := Parse("wrangler.jsonc", []byte(`{"main": "a.js", "dev": {"port": 0}}`))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if e.File != "wrangler.jsonc" || e.Field != "dev.port" {
		t.Errorf("Error = %+v, want File wrangler.jsonc and Field dev.port", e)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadPreference(t *testing.T) {
	all := map[string]string{
		"wrangler.jsonc": `{"name": "from-jsonc", "main": "index.js"}`,
		"wrangler.json":  `{"name": "from-json", "main": "index.js"}`,
		"wrangler.toml":  "name = \"from-toml\"\nmain = \"index.js\"\n",
		"index.js":       "export default {}",
	}
	// Remove the preferred file each round so every step of the order is
	// exercised, not just the winner.
	order := []string{"wrangler.jsonc", "wrangler.json", "wrangler.toml"}
	for i, want := range order {
		dir := t.TempDir()
		files := map[string]string{"index.js": all["index.js"]}
		for _, name := range order[i:] {
			files[name] = all[name]
		}
		writeFiles(t, dir, files)
		cfg, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		wantName := "from-" + strings.TrimPrefix(filepath.Ext(want), ".")
		if cfg.File != want || cfg.Name != wantName || cfg.Dir != dir {
			t.Errorf("Load picked File=%q Name=%q Dir=%q, want %q %q %q", cfg.File, cfg.Name, cfg.Dir, want, wantName, dir)
		}
		if cfg.MainPath() != filepath.Join(dir, "index.js") {
			t.Errorf("MainPath = %q", cfg.MainPath())
		}
	}
}

func TestLoadRelativeDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app/wrangler.toml": "main = \"src/index.js\"\n",
		"app/src/index.js":  "export default {}",
	})
	t.Chdir(dir)
	cfg, err := Load("app")
	if err != nil {
		t.Fatal(err)
	}
	// Dir must be absolute so the runtime can resolve modules after the
	// process changes directory.
	if cfg.Dir != filepath.Join(dir, "app") {
		t.Errorf("Dir = %q, want %q", cfg.Dir, filepath.Join(dir, "app"))
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("no config file", func(t *testing.T) {
		dir := t.TempDir()
		// A directory named like a config file must not be taken for one.
		if err := os.Mkdir(filepath.Join(dir, "wrangler.jsonc"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		checkErr(t, err, "no wrangler config file in "+dir+": looked for wrangler.jsonc, wrangler.json and wrangler.toml")
		if !errors.Is(err, ErrNoConfig) {
			t.Errorf("error does not wrap ErrNoConfig")
		}
	})
	t.Run("main does not exist", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"wrangler.jsonc": `{"main": "src/index.js"}`})
		_, err := Load(dir)
		checkErr(t, err, `wrangler.jsonc: field "main": "src/index.js" does not exist (looked for `+filepath.Join(dir, "src", "index.js")+`)`)
	})
	t.Run("main is a directory", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"wrangler.toml": `main = "src"`, "src/index.js": ""})
		_, err := Load(dir)
		checkErr(t, err, `wrangler.toml: field "main": "src" is a directory; expected the entry module of the worker, e.g. "src/index.js"`)
	})
	t.Run("validation errors name the file", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"wrangler.json": `{"main": "a.js", "compatibility_date": 20250131}`})
		_, err := Load(dir)
		checkErr(t, err, `wrangler.json: field "compatibility_date": expected a date like "2025-01-31", got 20250131`)
	})
	t.Run("LoadFile names the file as given", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "staging.toml")
		writeFiles(t, dir, map[string]string{"staging.toml": "main = 1\n"})
		_, err := LoadFile(path)
		checkErr(t, err, path+`: field "main": expected a string, got 1`)
	})
}

func TestParseDevVars(t *testing.T) {
	src := "# secrets for local dev\r\n" +
		"API_KEY=abc123\r\n" +
		"  SPACED = padded value   # trailing comment\n" +
		"export EXPORTED=yes\n" +
		"EMPTY=\n" +
		"HASH=abc#def\n" +
		"SINGLE='keep \\n literal # not a comment'\n" +
		"DOUBLE=\"line1\\nline2\" # comment\n" +
		"BACKTICK=`it's \"quoted\"`\n" +
		"MULTI=\"first\n" +
		"second\"\n" +
		"URL=https://example.com/?a=b\n" +
		"COLON: value\n" +
		"dotted.key-name=1\n" +
		"API_KEY=override\n"
	got, err := ParseDevVars(".dev.vars", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"API_KEY":         "override",
		"SPACED":          "padded value",
		"EXPORTED":        "yes",
		"EMPTY":           "",
		"HASH":            "abc",
		"SINGLE":          `keep \n literal # not a comment`,
		"DOUBLE":          "line1\nline2",
		"BACKTICK":        `it's "quoted"`,
		"MULTI":           "first\nsecond",
		"URL":             "https://example.com/?a=b",
		"COLON":           "value",
		"dotted.key-name": "1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseDevVars:\n got %#v\nwant %#v", got, want)
	}
}

func TestParseDevVarsErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{
			name: "line without =",
			src:  "A=1\n\nJUST_A_WORD\n",
			want: `.dev.vars:3: expected KEY=value, got "JUST_A_WORD"`,
		},
		{
			name: "bad key",
			src:  "A=1\n$B=2\n",
			want: `.dev.vars:2: expected KEY=value, got "$B=2"`,
		},
		{
			// The line number must count the newlines inside the earlier
			// multi-line value.
			name: "unclosed quote after a multi-line value",
			src:  "A=\"x\ny\"\nB='open\n",
			want: `.dev.vars:3: the value of B opens a ' quote that is never closed`,
		},
		{
			name: "junk after quotes",
			src:  "A=\"x\" y\n",
			want: `.dev.vars:1: unexpected "y" after the quoted value of A`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDevVars(".dev.vars", []byte(tc.src))
			checkErr(t, err, tc.want)
		})
	}
}

func TestLoadDevVarsAndMerge(t *testing.T) {
	dir := t.TempDir()
	vars, err := LoadDevVars(dir)
	if err != nil || vars != nil {
		t.Fatalf("missing .dev.vars: got %v, %v; want nil, nil", vars, err)
	}

	writeFiles(t, dir, map[string]string{
		"wrangler.jsonc": `{"main": "index.js", "vars": {"API_URL": "https://prod", "LEVEL": 3, "KEEP": "k"}}`,
		"index.js":       "",
		".dev.vars":      "API_URL=http://localhost\nLEVEL=debug\nSECRET=s\n",
	})
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	vars, err = LoadDevVars(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MergeDevVars(vars)
	want := map[string]any{"API_URL": "http://localhost", "LEVEL": "debug", "KEEP": "k", "SECRET": "s"}
	if !reflect.DeepEqual(cfg.Vars, want) {
		t.Errorf("merged Vars = %#v, want %#v", cfg.Vars, want)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"main", "name", "vars", "compatibility_date", "compatibility_flags"}
	for _, tc := range []struct{ in, want string }{
		{"mian", "main"},    // swapped letters count as one edit
		{"Main", "main"},    // case is not a different field
		{"compat_date", ""}, // too far to be a typo
		{"var", "vars"},     // short names tolerate one edit
		{"xx", ""},          // and nothing more
		{"compatibilty_flag", "compatibility_flags"},
	} {
		if got := closest(tc.in, known); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEnvJSONKeepsFileOrder(t *testing.T) {
	cfg, err := Parse("wrangler.jsonc", []byte(`{ "name": "w", "main": "w.js",
		// order matters: workers see keys as written
		"vars": { "Z": "last?", "A": { "b": 1, "a": [2, {"y": 1, "x": 0}] }, "M": true, } }`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.EnvJSON(map[string]string{"A": "overridden", "NEW": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Z":"last?","A":"overridden","M":true,"NEW":"dev"}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	got, _ = cfg.EnvJSON(nil)
	if want := `{"Z":"last?","A":{"b":1,"a":[2,{"y":1,"x":0}]},"M":true}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestServicePropsKeepOrder(t *testing.T) {
	cfg, err := Parse("wrangler.jsonc", []byte(`{ "name": "w", "main": "w.js",
		"services": [{ "binding": "S", "service": "w", "props": { "z": 1, "a": { "y": 2, "b": 3 } } }] }`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Services[0].PropsJSON()
	if err != nil || got != `{"z":1,"a":{"y":2,"b":3}}` {
		t.Fatalf("got %s, %v", got, err)
	}
}
