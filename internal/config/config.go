// Package config reads the wrangler configuration a Workers project already
// has (wrangler.jsonc, wrangler.json or wrangler.toml) so that Isola runs the
// project without a config file of its own.
//
// Fields Isola acts on are type-checked strictly; fields wrangler knows but
// Isola does not act on are accepted and listed in Config.Ignored; anything
// else is reported as an unknown field with the closest known name.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FileNames are the config files Load looks for, most preferred first.
var FileNames = []string{"wrangler.jsonc", "wrangler.json", "wrangler.toml"}

// ErrNoConfig is wrapped by Load's error when dir has none of FileNames.
var ErrNoConfig = errors.New("no wrangler config file")

// Config is a validated wrangler configuration.
type Config struct {
	Dir                string // absolute directory of the config file; empty after Parse
	File               string // config file name, e.g. "wrangler.jsonc"
	Name               string
	Main               string // path relative to Dir, as written
	CompatibilityDate  string // YYYY-MM-DD, or empty when not set
	CompatibilityFlags []string
	Vars               map[string]any // string or JSON values; never nil
	Limits             Limits
	Rules              []ModuleRule
	DurableObjects     []DurableObjectBinding
	Migrations         []Migration
	Workflows          []WorkflowBinding
	WorkerLoaders      []WorkerLoaderBinding
	Services           []ServiceBinding
	Dev                Dev
	// Ignored lists, sorted, the fields present in the file that wrangler
	// accepts but Isola does not act on (e.g. "kv_namespaces",
	// "dev.inspector_port"), so the CLI can warn about them.
	Ignored []string
	Raw     map[string]any // the whole parsed document; numbers are int64 or float64

	source []byte // the JSON(C) text, for what must keep the file's key order
}

// Limits is the `limits` table. Zero means not set.
type Limits struct {
	CPUMs    int // limits.cpu_ms
	MemoryMB int // limits.memory_mb, an Isola extension (wrangler only warns about it)
}

// Module rule types accepted in `rules[].type`.
const (
	RuleESModule     = "ESModule"
	RuleCommonJS     = "CommonJS"
	RuleCompiledWasm = "CompiledWasm"
	RuleText         = "Text"
	RuleData         = "Data"
)

var ruleTypes = []string{RuleESModule, RuleCommonJS, RuleCompiledWasm, RuleText, RuleData}

// ModuleRule is one entry of `rules`.
type ModuleRule struct {
	Type        string // one of the Rule* constants
	Globs       []string
	Fallthrough bool
}

// DurableObjectBinding is one entry of `durable_objects.bindings`.
type DurableObjectBinding struct {
	Name       string
	ClassName  string
	ScriptName string // empty when the class lives in this worker
}

// Migration is one entry of `migrations`.
type Migration struct {
	Tag              string
	NewClasses       []string
	NewSQLiteClasses []string
	RenamedClasses   []RenamedClass
	DeletedClasses   []string
}

// RenamedClass is one entry of `migrations[].renamed_classes`.
type RenamedClass struct {
	From, To string
}

// WorkflowBinding is one entry of `workflows`.
type WorkflowBinding struct {
	Name       string // the workflow's name
	Binding    string // the name in env
	ClassName  string
	ScriptName string
	Limits     WorkflowLimits
}

// WorkflowLimits is `workflows[].limits`. Zero means not set.
type WorkflowLimits struct {
	Steps int
}

// WorkerLoaderBinding is one entry of `worker_loaders`.
type WorkerLoaderBinding struct {
	Binding string
}

// ServiceBinding is one entry of `services`.
type ServiceBinding struct {
	Binding    string
	Service    string
	Entrypoint string         // named export; empty for the default export
	Props      map[string]any // nil when not set

	propsRaw json.RawMessage // Props as written (JSON sources), keeping key order
}

// PropsJSON is Props as JSON, in the order the config file wrote the keys.
func (s ServiceBinding) PropsJSON() (string, error) {
	if s.propsRaw != nil {
		return string(s.propsRaw), nil
	}
	b, err := json.Marshal(s.Props)
	return string(b), err
}

// Dev is the `dev` table. Zero values mean not set.
type Dev struct {
	IP   string
	Port int
}

// Error is one problem found in a config or .dev.vars file. Line is set only
// for syntax errors; Field is the dotted path of the offending field, if any.
type Error struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Load finds wrangler.jsonc, wrangler.json or wrangler.toml in dir (in that
// order; when several exist the first wins), parses and validates it, and
// checks that `main` exists. A validation failure returns every problem found,
// joined with errors.Join, each one an *Error.
func Load(dir string) (*Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range FileNames {
		path := filepath.Join(abs, name)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.IsDir()) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return load(path, name)
	}
	return nil, fmt.Errorf("%w in %s: looked for %s, %s and %s", ErrNoConfig, abs, FileNames[0], FileNames[1], FileNames[2])
}

// LoadFile is Load for an explicitly named config file (e.g. --config).
// Errors name the file as path is written.
func LoadFile(path string) (*Config, error) {
	return load(path, path)
}

func load(path, display string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(display, data)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cfg.Dir = filepath.Dir(abs)
	entry := cfg.MainPath()
	fi, err := os.Stat(entry)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{File: display, Field: "main", Msg: fmt.Sprintf("field \"main\": %q does not exist (looked for %s)", cfg.Main, entry)}
	case err != nil:
		return nil, &Error{File: display, Field: "main", Msg: fmt.Sprintf("field \"main\": %v", err)}
	case fi.IsDir():
		return nil, &Error{File: display, Field: "main", Msg: fmt.Sprintf("field \"main\": %q is a directory; expected the entry module of the worker, e.g. \"src/index.js\"", cfg.Main)}
	}
	return cfg, nil
}

// MainPath is the entry module as an absolute path (Main resolved against
// Dir, as wrangler resolves it against the config file's directory).
func (c *Config) MainPath() string {
	if filepath.IsAbs(c.Main) {
		return c.Main
	}
	return filepath.Join(c.Dir, filepath.FromSlash(c.Main))
}

// MergeDevVars lays .dev.vars values over Vars, as `wrangler dev` does.
func (c *Config) MergeDevVars(devVars map[string]string) {
	if c.Vars == nil {
		c.Vars = map[string]any{}
	}
	for k, v := range devVars {
		c.Vars[k] = v
	}
}

// Parse parses and validates a config held in memory. The extension of
// filename picks the format (.jsonc and .json are both read as JSONC, like
// wrangler does; .toml as TOML) and filename prefixes every error. Parse does
// not touch the file system: Dir is left empty and main is not looked for.
func Parse(filename string, data []byte) (*Config, error) {
	var doc map[string]any
	var err error
	switch ext := strings.ToLower(filepath.Ext(filename)); ext {
	case ".jsonc", ".json":
		doc, err = parseJSONC(data)
	case ".toml":
		doc, err = parseTOML(data)
	default:
		return nil, &Error{File: filename, Msg: "unsupported config format: expected a .jsonc, .json or .toml file"}
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = filename
		}
		return nil, err
	}
	d := &decoder{file: filename}
	cfg := d.config(doc)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	cfg.File = filepath.Base(filename)
	if ext := strings.ToLower(filepath.Ext(filename)); ext == ".jsonc" || ext == ".json" {
		cfg.source = data
		cfg.keepServicePropsOrder()
	}
	sort.Strings(d.ignored)
	cfg.Ignored = d.ignored
	return cfg, nil
}

func parseTOML(data []byte) (map[string]any, error) {
	doc := map[string]any{}
	if _, err := toml.Decode(strings.TrimPrefix(string(data), "\xEF\xBB\xBF"), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Line: pe.Position.Line, Column: pe.Position.Col, Msg: pe.Message}
		}
		return nil, &Error{Msg: err.Error()}
	}
	return normalize(doc).(map[string]any), nil
}

// describeTOMLTime names TOML date/time values, which JSON cannot produce.
// They mostly appear as an unquoted compatibility_date, and saying "a TOML
// date" tells the user the fix is quoting it.
func describeTOMLTime(v any) (string, bool) {
	t, ok := v.(time.Time)
	if !ok {
		return "", false
	}
	switch t.Location().String() {
	case "date-local":
		return "a TOML date " + t.Format("2006-01-02"), true
	case "time-local":
		return "a TOML time " + t.Format("15:04:05.999999999"), true
	case "datetime-local":
		return "a TOML date-time " + t.Format("2006-01-02T15:04:05.999999999"), true
	}
	return "a TOML date-time " + t.Format(time.RFC3339Nano), true
}

// decoder turns the generic document into a Config, collecting every error
// rather than stopping at the first, so one run shows all that needs fixing.
type decoder struct {
	file    string
	errs    []error
	ignored []string
}

func (d *decoder) errorf(field, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) typeErr(field, want string, got any) {
	d.errorf(field, "field %q: expected %s, got %s", field, want, describe(got))
}

func (d *decoder) required(field, what string) {
	d.errorf(field, "field %q is required: %s", field, what)
}

var identRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

// join appends key to a field path. Keys that would be ambiguous after a dot
// (spaces, dots, empty) are written in brackets instead.
func join(path, key string) string {
	if path == "" {
		return key
	}
	if identRe.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keys checks the keys of the object at path: use are read by Isola, ignore
// are wrangler fields Isola does not act on, anything else is an error.
func (d *decoder) keys(path string, obj map[string]any, use, ignore []string) {
	for _, k := range sortedKeys(obj) {
		switch {
		case slices.Contains(use, k):
		case slices.Contains(ignore, k):
			d.ignored = append(d.ignored, join(path, k))
		default:
			d.unknown(path, k, slices.Concat(use, ignore))
		}
	}
}

func (d *decoder) unknown(path, key string, known []string) {
	field := join(path, key)
	if s := closest(key, known); s != "" {
		d.errorf(field, "unknown field %q (did you mean %q?)", field, join(path, s))
		return
	}
	if path == "" {
		d.errorf(field, "unknown field %q: not a wrangler configuration field", field)
		return
	}
	known = slices.Clone(known)
	sort.Strings(known)
	d.errorf(field, "unknown field %q: %s takes %s", field, path, strings.Join(known, ", "))
}

func (d *decoder) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.typeErr(path, "a string", v)
	}
	return s, ok
}

func (d *decoder) strs(path string, v any) []string {
	list, ok := v.([]any)
	if !ok {
		d.typeErr(path, "an array of strings", v)
		return nil
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		if s, ok := d.str(index(path, i), e); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) boolean(path string, v any) bool {
	b, ok := v.(bool)
	if !ok {
		d.typeErr(path, "true or false", v)
	}
	return b
}

// integer accepts whole numbers in [lo, hi]; want describes them for the
// error. Integral floats (8787.0) are accepted because JavaScript, and so
// wrangler, cannot tell them apart from integers.
func (d *decoder) integer(path string, v any, lo, hi int64, want string) int {
	var n int64
	switch v := v.(type) {
	case int64:
		n = v
	case float64:
		if v != float64(int64(v)) {
			d.typeErr(path, want, v)
			return 0
		}
		n = int64(v)
	default:
		d.typeErr(path, want, v)
		return 0
	}
	if n < lo || n > hi {
		d.typeErr(path, want, v)
		return 0
	}
	return int(n)
}

func (d *decoder) object(path string, v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.typeErr(path, "an object", v)
	}
	return m, ok
}

// objects reads an array of objects, calling fn for each valid element.
func (d *decoder) objects(path string, v any, fn func(path string, obj map[string]any)) {
	list, ok := v.([]any)
	if !ok {
		d.typeErr(path, "an array of objects", v)
		return
	}
	for i, e := range list {
		p := index(path, i)
		if obj, ok := d.object(p, e); ok {
			fn(p, obj)
		}
	}
}

// reqStr reads a required non-empty string field; what explains the field
// in the "is required" error.
func (d *decoder) reqStr(path string, obj map[string]any, key, what string) string {
	field := join(path, key)
	v, ok := obj[key]
	if !ok || v == "" {
		d.required(field, what)
		return ""
	}
	s, _ := d.str(field, v)
	return s
}

func (d *decoder) optStr(path string, obj map[string]any, key string) string {
	v, ok := obj[key]
	if !ok {
		return ""
	}
	s, _ := d.str(join(path, key), v)
	return s
}

func (d *decoder) optStrs(path string, obj map[string]any, key string) []string {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	return d.strs(join(path, key), v)
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

const dateWant = `a date like "2025-01-31"`

func (d *decoder) date(path string, v any) string {
	s, ok := v.(string)
	if !ok || !dateRe.MatchString(s) {
		d.typeErr(path, dateWant, v)
		return ""
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		d.errorf(path, "field %q: expected %s, got %q, which is not a real date", path, dateWant, s)
		return ""
	}
	return s
}

// jsonValue rejects what JSON cannot carry (TOML dates and times), because
// vars reach the worker as JSON.
func (d *decoder) jsonValue(path string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			d.jsonValue(join(path, k), v[k])
		}
	case []any:
		for i, e := range v {
			d.jsonValue(index(path, i), e)
		}
	case nil, string, bool, int64, float64:
	default:
		d.typeErr(path, "a string or a JSON value (quote dates in TOML)", v)
	}
}

const (
	maxInt     = int64(math.MaxInt)
	nameWhat   = "the name the worker sees in env, e.g. "
	classWhat  = "the exported class that implements it, e.g. "
	mainWhat   = `the entry module of the worker, e.g. "src/index.js"`
	globsWhat  = `the files the rule applies to, e.g. ["**/*.txt"]`
	ruleTypeOK = `"ESModule", "CommonJS", "CompiledWasm", "Text" or "Data"`
)

// topLevel lists the fields Isola reads, in the order they are decoded.
var topLevel = []string{
	"name", "main", "compatibility_date", "compatibility_flags", "vars",
	"limits", "rules", "durable_objects", "migrations", "workflows",
	"worker_loaders", "services", "dev",
}

func (d *decoder) config(doc map[string]any) *Config {
	c := &Config{Raw: doc, Vars: map[string]any{}}
	d.keys("", doc, topLevel, ignoredTopLevel)

	if v, ok := doc["name"]; ok {
		c.Name, _ = d.str("name", v)
	}
	if v, ok := doc["main"]; !ok || v == "" {
		d.required("main", mainWhat)
	} else {
		c.Main, _ = d.str("main", v)
	}
	if v, ok := doc["compatibility_date"]; ok {
		c.CompatibilityDate = d.date("compatibility_date", v)
	}
	if v, ok := doc["compatibility_flags"]; ok {
		c.CompatibilityFlags = d.strs("compatibility_flags", v)
	}
	if v, ok := doc["vars"]; ok {
		if vars, ok := d.object("vars", v); ok {
			for _, k := range sortedKeys(vars) {
				d.jsonValue(join("vars", k), vars[k])
				c.Vars[k] = vars[k]
			}
		}
	}
	if v, ok := doc["limits"]; ok {
		c.Limits = d.limits(v)
	}
	if v, ok := doc["rules"]; ok {
		d.objects("rules", v, func(p string, obj map[string]any) {
			c.Rules = append(c.Rules, d.rule(p, obj))
		})
	}
	if v, ok := doc["durable_objects"]; ok {
		c.DurableObjects = d.durableObjects(v)
	}
	if v, ok := doc["migrations"]; ok {
		d.objects("migrations", v, func(p string, obj map[string]any) {
			c.Migrations = append(c.Migrations, d.migration(p, obj))
		})
	}
	if v, ok := doc["workflows"]; ok {
		d.objects("workflows", v, func(p string, obj map[string]any) {
			c.Workflows = append(c.Workflows, d.workflow(p, obj))
		})
	}
	if v, ok := doc["worker_loaders"]; ok {
		d.objects("worker_loaders", v, func(p string, obj map[string]any) {
			d.keys(p, obj, []string{"binding"}, nil)
			c.WorkerLoaders = append(c.WorkerLoaders, WorkerLoaderBinding{
				Binding: d.reqStr(p, obj, "binding", nameWhat+`"LOADER"`),
			})
		})
	}
	if v, ok := doc["services"]; ok {
		d.objects("services", v, func(p string, obj map[string]any) {
			c.Services = append(c.Services, d.service(p, obj))
		})
	}
	if v, ok := doc["dev"]; ok {
		c.Dev = d.dev(v)
	}
	d.uniqueBindings(c)
	d.uniqueTags(c)
	return c
}

func (d *decoder) limits(v any) Limits {
	var l Limits
	obj, ok := d.object("limits", v)
	if !ok {
		return l
	}
	d.keys("limits", obj, []string{"cpu_ms", "memory_mb"}, []string{"subrequests"})
	if v, ok := obj["cpu_ms"]; ok {
		l.CPUMs = d.integer("limits.cpu_ms", v, 1, maxInt, "a whole number of milliseconds greater than 0")
	}
	if v, ok := obj["memory_mb"]; ok {
		l.MemoryMB = d.integer("limits.memory_mb", v, 1, maxInt, "a whole number of megabytes greater than 0")
	}
	return l
}

func (d *decoder) rule(p string, obj map[string]any) ModuleRule {
	var r ModuleRule
	d.keys(p, obj, []string{"type", "globs", "fallthrough"}, nil)
	field := join(p, "type")
	if v, ok := obj["type"]; !ok {
		d.required(field, "one of "+ruleTypeOK)
	} else if s, ok := d.str(field, v); ok {
		switch {
		case slices.Contains(ruleTypes, s):
			r.Type = s
		case s == "PythonModule" || s == "PythonRequirement":
			d.errorf(field, "field %q: %q modules are not supported by Isola; expected one of %s", field, s, ruleTypeOK)
		default:
			d.typeErr(field, "one of "+ruleTypeOK, s)
		}
	}
	if v, ok := obj["globs"]; !ok {
		d.required(join(p, "globs"), globsWhat)
	} else {
		r.Globs = d.strs(join(p, "globs"), v)
	}
	if v, ok := obj["fallthrough"]; ok {
		r.Fallthrough = d.boolean(join(p, "fallthrough"), v)
	}
	return r
}

func (d *decoder) durableObjects(v any) []DurableObjectBinding {
	obj, ok := d.object("durable_objects", v)
	if !ok {
		return nil
	}
	d.keys("durable_objects", obj, []string{"bindings"}, nil)
	var out []DurableObjectBinding
	if v, ok := obj["bindings"]; ok {
		d.objects("durable_objects.bindings", v, func(p string, b map[string]any) {
			d.keys(p, b, []string{"name", "class_name", "script_name"}, []string{"environment"})
			out = append(out, DurableObjectBinding{
				Name:       d.reqStr(p, b, "name", nameWhat+`"COUNTER"`),
				ClassName:  d.reqStr(p, b, "class_name", classWhat+`"Counter"`),
				ScriptName: d.optStr(p, b, "script_name"),
			})
		})
	}
	return out
}

func (d *decoder) migration(p string, obj map[string]any) Migration {
	d.keys(p, obj, []string{"tag", "new_classes", "new_sqlite_classes", "renamed_classes", "deleted_classes"},
		[]string{"transferred_classes"})
	m := Migration{
		Tag:              d.reqStr(p, obj, "tag", `a unique name for this migration, e.g. "v1"`),
		NewClasses:       d.optStrs(p, obj, "new_classes"),
		NewSQLiteClasses: d.optStrs(p, obj, "new_sqlite_classes"),
		DeletedClasses:   d.optStrs(p, obj, "deleted_classes"),
	}
	if v, ok := obj["renamed_classes"]; ok {
		d.objects(join(p, "renamed_classes"), v, func(rp string, r map[string]any) {
			d.keys(rp, r, []string{"from", "to"}, nil)
			m.RenamedClasses = append(m.RenamedClasses, RenamedClass{
				From: d.reqStr(rp, r, "from", `the old class name, e.g. "OldCounter"`),
				To:   d.reqStr(rp, r, "to", `the new class name, e.g. "Counter"`),
			})
		})
	}
	return m
}

func (d *decoder) workflow(p string, obj map[string]any) WorkflowBinding {
	d.keys(p, obj, []string{"name", "binding", "class_name", "script_name", "limits"}, []string{"remote"})
	w := WorkflowBinding{
		Binding:    d.reqStr(p, obj, "binding", nameWhat+`"MY_WORKFLOW"`),
		Name:       d.reqStr(p, obj, "name", `the name of the workflow, e.g. "my-workflow"`),
		ClassName:  d.reqStr(p, obj, "class_name", classWhat+`"MyWorkflow"`),
		ScriptName: d.optStr(p, obj, "script_name"),
	}
	if v, ok := obj["limits"]; ok {
		lp := join(p, "limits")
		if l, ok := d.object(lp, v); ok {
			d.keys(lp, l, []string{"steps"}, nil)
			if v, ok := l["steps"]; ok {
				w.Limits.Steps = d.integer(join(lp, "steps"), v, 1, maxInt, "a whole number of steps greater than 0")
			}
		}
	}
	return w
}

func (d *decoder) service(p string, obj map[string]any) ServiceBinding {
	d.keys(p, obj, []string{"binding", "service", "entrypoint", "props"}, []string{"environment", "remote"})
	s := ServiceBinding{
		Binding:    d.reqStr(p, obj, "binding", nameWhat+`"AUTH"`),
		Service:    d.reqStr(p, obj, "service", `the name of the worker to call, e.g. "auth-worker"`),
		Entrypoint: d.optStr(p, obj, "entrypoint"),
	}
	if v, ok := obj["props"]; ok {
		pp := join(p, "props")
		if props, ok := d.object(pp, v); ok {
			d.jsonValue(pp, props)
			s.Props = props
		}
	}
	return s
}

func (d *decoder) dev(v any) Dev {
	var dev Dev
	obj, ok := d.object("dev", v)
	if !ok {
		return dev
	}
	d.keys("dev", obj, []string{"ip", "port"}, []string{
		"inspector_port", "local_protocol", "upstream_protocol", "host",
		"enable_containers", "container_engine", "generate_types",
	})
	if v, ok := obj["ip"]; ok {
		dev.IP, _ = d.str("dev.ip", v)
	}
	if v, ok := obj["port"]; ok {
		dev.Port = d.integer("dev.port", v, 1, 65535, "a port number from 1 to 65535")
	}
	return dev
}

// uniqueBindings rejects two bindings with the same name, as wrangler does:
// env can hold only one of them.
func (d *decoder) uniqueBindings(c *Config) {
	seen := map[string]string{}
	add := func(name, field string) {
		if name == "" {
			return
		}
		if prev, ok := seen[name]; ok {
			d.errorf(field, "field %q: binding name %q is already used by %q", field, name, prev)
			return
		}
		seen[name] = field
	}
	for _, k := range sortedKeys(c.Vars) {
		add(k, join("vars", k))
	}
	for i, b := range c.DurableObjects {
		add(b.Name, index("durable_objects.bindings", i)+".name")
	}
	for i, w := range c.Workflows {
		add(w.Binding, index("workflows", i)+".binding")
	}
	for i, l := range c.WorkerLoaders {
		add(l.Binding, index("worker_loaders", i)+".binding")
	}
	for i, s := range c.Services {
		add(s.Binding, index("services", i)+".binding")
	}
}

// uniqueTags rejects repeated migration tags: tags identify which migrations
// already ran, so a repeat would make one of them never apply.
func (d *decoder) uniqueTags(c *Config) {
	seen := map[string]int{}
	for i, m := range c.Migrations {
		if m.Tag == "" {
			continue
		}
		if prev, ok := seen[m.Tag]; ok {
			field := index("migrations", i) + ".tag"
			d.errorf(field, "field %q: tag %q is already used by migrations[%d]", field, m.Tag, prev)
			continue
		}
		seen[m.Tag] = i
	}
}
