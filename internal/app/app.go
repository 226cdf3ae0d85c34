// Package app assembles a runnable worker from a project directory: config,
// bundle, bytecode, env. cmd/isola and the tests both start here.
package app

import (
	"fmt"
	"log"
	"path/filepath"
	"sort"
	"time"

	"github.com/isola-run/isola/internal/bundle"
	"github.com/isola-run/isola/internal/compat"
	"github.com/isola-run/isola/internal/config"
	"github.com/isola-run/isola/internal/logs"
	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/storage"
	"github.com/isola-run/isola/internal/workflows"
)

// App is a loaded project.
type App struct {
	// Name is the worker's name (the config's name, else "worker").
	Name   string
	Config *config.Config
	Script *runtime.Script
	Worker *runtime.Worker
	// Loaders caches the dynamic workers of the worker's loader bindings.
	Loaders *runtime.LoaderCache
	// StateDir holds the app's durable state (Options.StateDir).
	StateDir string
	// Logs keeps the recent console output and runtime messages of the
	// worker and its dynamic workers, for the dashboard; the logger given
	// to Load gets every line too.
	Logs *logs.Hub
	// Actors runs the worker's Durable Objects; nil without any.
	Actors *runtime.Actors
	// Workflows runs the worker's workflows; nil without any.
	Workflows *workflows.Engine
	// workflowWorker runs workflow instances: the same script and bindings
	// as Worker, in an isolate of its own.
	workflowWorker *runtime.Worker

	opts Options
}

// Options tune Load beyond what the project's config says.
type Options struct {
	// StateDir holds Durable Object databases and workflow journals. Empty
	// means DefaultStateDir inside the project directory. Nothing is created
	// there until an object first stores something.
	StateDir string
	// ActorIdleTimeout is how long an idle Durable Object stays in memory
	// (zero: runtime.ActorOptions' default).
	ActorIdleTimeout time.Duration
	// ActorMaxLive bounds the Durable Objects with an open database (zero:
	// runtime.ActorOptions' default).
	ActorMaxLive int
	// Workflows tunes the workflow engine (concurrency, retention, clock).
	Workflows workflows.Options
	// Loader bounds the cache of dynamic workers behind worker_loaders
	// bindings (zero fields: runtime.DefaultLoaderLimits').
	Loader runtime.LoaderLimits
}

// DefaultStateDir is where a project's durable state lives unless told
// otherwise, relative to the project directory (wrangler uses .wrangler/state).
const DefaultStateDir = ".isola/state"

// Load reads dir's wrangler config and prepares its worker. Console output
// and runtime messages go to logger, prefixed with the worker's name.
func Load(dir string, logger *log.Logger) (*App, error) {
	return LoadWith(dir, logger, Options{})
}

// LoadWith is Load with options.
func LoadWith(dir string, logger *log.Logger, opts Options) (*App, error) {
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(cfg.Dir, DefaultStateDir)
	}
	for _, f := range cfg.Ignored {
		logger.Printf("warning: %s: field %q is not used by Isola yet", cfg.File, f)
	}
	name := cfg.Name
	if name == "" {
		name = "worker"
	}
	b, err := bundle.Build(bundle.Options{Dir: cfg.Dir, Main: cfg.Main})
	if err != nil {
		return nil, err
	}
	script, err := runtime.Compile(name, b) // also compiles the prelude, once per process
	if err != nil {
		return nil, err
	}
	env, err := envJSON(cfg)
	if err != nil {
		return nil, err
	}
	limits := runtime.DefaultLimits
	if cfg.Limits.CPUMs > 0 {
		limits.CPU = time.Duration(cfg.Limits.CPUMs) * time.Millisecond
	}
	if cfg.Limits.MemoryMB > 0 {
		limits.Memory = uintptr(cfg.Limits.MemoryMB) << 20
	}
	hub := logs.New(logs.DefaultKeep)
	// emit sends a line to the terminal and to the dashboard; tenant is
	// the dynamic worker's id, "" for the app's own code.
	emit := func(tenant, level, msg string) {
		who := name
		if tenant != "" {
			who += "/" + tenant
		}
		logger.Printf("[%s] %s: %s", who, level, msg)
		hub.Publish(logs.Entry{App: name, Tenant: tenant, Level: level, Message: msg})
	}
	logf := func(level, msg string) { emit("", level, msg) }
	date := cfg.CompatibilityDate
	if date == "" {
		date = compat.NewestDate // as wrangler does, with a warning
		logger.Printf("warning: %s: no compatibility_date; using %s", cfg.File, date)
	}
	features, err := compat.Resolve(date, cfg.CompatibilityFlags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.File, err)
	}
	w := runtime.NewWorker(script, runtime.Options{
		Limits:   limits,
		Env:      runtime.Env{Vars: env},
		Log:      logf,
		Features: features,
	})
	a := &App{Name: name, Config: cfg, Script: script, Worker: w, StateDir: opts.StateDir, Logs: hub, opts: opts}
	if err := a.bind(logf, emit); err != nil {
		return nil, err
	}
	return a, nil
}

// bind gives the worker the bindings its config declares.
func (a *App) bind(logf func(level, msg string), emit func(tenant, level, msg string)) error {
	cfg := a.Config
	var bs []runtime.Binding
	if len(cfg.WorkerLoaders) > 0 {
		a.Loaders = runtime.NewLoaderCache(a.opts.Loader, logf)
		a.Loaders.SetTenantLog(func(loader, id, level, msg string) {
			if id == "" {
				id = "(" + loader + ".load)"
			}
			emit(id, level, msg)
		})
	}
	for _, l := range cfg.WorkerLoaders {
		bs = append(bs, runtime.Binding{Name: l.Binding, Target: &runtime.LoaderBinding{Name: l.Binding, Cache: a.Loaders, Parent: a.Worker}})
	}
	for i, s := range cfg.Services {
		if s.Service != cfg.Name {
			return fmt.Errorf("%s: services[%d].service %q: Isola serves one worker per project for now, so a service binding can only name this worker (%q)", cfg.File, i, s.Service, cfg.Name)
		}
		var props *runtime.Message
		if s.Props != nil {
			b, err := s.PropsJSON()
			if err != nil {
				return fmt.Errorf("%s: services[%d].props: %w", cfg.File, i, err)
			}
			props = &runtime.Message{JSON: b}
		}
		bs = append(bs, runtime.Binding{Name: s.Binding, Target: &runtime.EntryTarget{Worker: a.Worker, Name: s.Entrypoint, Props: props}})
	}
	a.Worker.Bind(bs...)
	if err := a.bindActors(logf); err != nil {
		return err
	}
	return a.bindWorkflows(logf)
}

// bindWorkflows opens the workflow journal (one SQLite database for all of
// the app's workflows) and binds the config's workflows to the engine.
func (a *App) bindWorkflows(logf func(level, msg string)) error {
	cfg := a.Config
	if len(cfg.Workflows) == 0 {
		return nil
	}
	store, err := workflows.OpenStore(filepath.Join(a.StateDir, "workflows", "workflows.sqlite"))
	if err != nil {
		return err
	}
	opts := a.opts.Workflows
	if opts.Log == nil {
		opts.Log = logf
	}
	e := workflows.New(store, opts)
	runner := &runtime.WorkflowRunner{} // its worker is made once every binding is known
	var bs []runtime.Binding
	for i, w := range cfg.Workflows {
		field := fmt.Sprintf("workflows[%d]", i)
		if w.ScriptName != "" && w.ScriptName != cfg.Name {
			store.Close()
			return fmt.Errorf("%s: %s.script_name %q: Isola serves one worker per project for now, so a workflow can only name a class of this worker (%q)", cfg.File, field, w.ScriptName, cfg.Name)
		}
		if err := e.Register(workflows.Workflow{Name: w.Name, ClassName: w.ClassName, StepLimit: w.Limits.Steps, Runner: runner}); err != nil {
			store.Close()
			return fmt.Errorf("%s: %s: %w", cfg.File, field, err)
		}
		bs = append(bs, runtime.Binding{Name: w.Binding, Target: &runtime.WorkflowBinding{Engine: e, Name: w.Name}})
	}
	a.Worker.Bind(bs...)
	// Instances run in an isolate apart from the one serving requests, as
	// on Cloudflare, where a workflow's steps run in invocations of their
	// own: creating instances and running them then use two cores, and
	// module state is not shared between a request and a run there either.
	a.workflowWorker = runtime.NewWorker(a.Script, a.Worker.Options())
	runner.Worker = a.workflowWorker
	if err := e.Start(); err != nil {
		store.Close()
		return err
	}
	a.Workflows = e
	return nil
}

// bindActors makes a namespace for every Durable Object class the
// migrations give storage, and binds durable_objects.bindings to them.
func (a *App) bindActors(logf func(level, msg string)) error {
	cfg := a.Config
	classes, err := a.migrate(logf)
	if err != nil {
		return err
	}
	for i, b := range cfg.DurableObjects {
		field := fmt.Sprintf("durable_objects.bindings[%d]", i)
		if b.ScriptName != "" && b.ScriptName != cfg.Name {
			return fmt.Errorf("%s: %s.script_name %q: Isola serves one worker per project for now, so a Durable Object binding can only name a class of this worker (%q)", cfg.File, field, b.ScriptName, cfg.Name)
		}
		if _, ok := classes[b.ClassName]; !ok {
			logf("warn", fmt.Sprintf("%s: %s: class %q has no migration (new_sqlite_classes); it gets SQLite storage", cfg.File, field, b.ClassName))
			classes[b.ClassName] = false
		}
	}
	if len(classes) == 0 {
		return nil
	}
	a.Actors = runtime.NewActors(runtime.ActorOptions{Dir: filepath.Join(a.StateDir, "objects"), IdleTimeout: a.opts.ActorIdleTimeout, MaxLive: a.opts.ActorMaxLive, Log: logf})
	byClass := map[string]*runtime.ActorNamespace{}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	var cls []runtime.Binding
	for _, c := range names {
		ns, err := a.Actors.Namespace(a.Worker, c, a.Script.Name+"/"+c, classes[c])
		if err != nil {
			return err
		}
		byClass[c] = ns
		cls = append(cls, runtime.Binding{Name: c, Target: ns})
	}
	a.Worker.BindClasses(cls...)
	var bs []runtime.Binding
	for _, b := range cfg.DurableObjects {
		bs = append(bs, runtime.Binding{Name: b.Name, Target: byClass[b.ClassName]})
	}
	a.Worker.Bind(bs...)
	return a.Actors.Start()
}

// migrate applies the config's migrations in order and returns the classes
// with storage (true for key-value-backed ones, new_classes). A renamed
// class's data moves with it on disk; a deleted class's data is left where
// it is (Isola never deletes stored data on its own).
func (a *App) migrate(logf func(level, msg string)) (map[string]bool, error) {
	cfg := a.Config
	classes := map[string]bool{}
	for i, m := range cfg.Migrations {
		field := fmt.Sprintf("migrations[%d]", i)
		for _, c := range m.NewSQLiteClasses {
			classes[c] = false
		}
		for _, c := range m.NewClasses {
			classes[c] = true
		}
		for _, r := range m.RenamedClasses {
			legacy, ok := classes[r.From]
			if !ok {
				return nil, fmt.Errorf("%s: %s.renamed_classes: class %q is renamed but no earlier migration creates it", cfg.File, field, r.From)
			}
			delete(classes, r.From)
			classes[r.To] = legacy
			if err := renameClassDir(filepath.Join(a.StateDir, "objects"), r.From, r.To); err != nil {
				return nil, fmt.Errorf("%s: %s.renamed_classes: %w", cfg.File, field, err)
			}
		}
		for _, c := range m.DeletedClasses {
			if _, ok := classes[c]; ok {
				delete(classes, c)
				logf("warn", fmt.Sprintf("%s: %s deletes class %q; its stored objects stay on disk under %s until you remove them", cfg.File, field, c, filepath.Join(a.StateDir, "objects")))
			}
		}
	}
	return classes, nil
}

// OwnWorkers are the app's workers other than dynamic ones, by role: the
// one serving requests ("fetch") and the one running workflow instances
// ("workflows", when the app has workflows).
func (a *App) OwnWorkers() map[string]*runtime.Worker {
	ws := map[string]*runtime.Worker{"fetch": a.Worker}
	if a.workflowWorker != nil {
		ws["workflows"] = a.workflowWorker
	}
	return ws
}

// Close stops the worker and every dynamic worker it loaded.
func (a *App) Close() {
	if a.Workflows != nil {
		a.Workflows.Close()
	}
	if a.Actors != nil {
		a.Actors.Close()
	}
	a.Worker.Close()
	if a.workflowWorker != nil {
		a.workflowWorker.Close()
	}
	if a.Loaders != nil {
		a.Loaders.Close()
	}
	if a.Workflows != nil {
		a.Workflows.Store().Close()
	}
}

// envJSON is the worker's env: vars, overridden by .dev.vars as wrangler
// does.
func envJSON(cfg *config.Config) (string, error) {
	dev, err := config.LoadDevVars(cfg.Dir)
	if err != nil {
		return "", err
	}
	return cfg.EnvJSON(dev)
}

// renameClassDir moves a renamed class's objects to the new name, once: a
// later start finds the old directory gone and leaves the new one alone.
func renameClassDir(root, from, to string) error {
	d := storage.NewDirectory(root)
	fromNS, err := d.Namespace(from)
	if err != nil {
		return err
	}
	toNS, err := d.Namespace(to)
	if err != nil {
		return err
	}
	return fromNS.MoveTo(toNS)
}
