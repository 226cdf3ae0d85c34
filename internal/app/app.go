// Package app assembles a runnable worker from a project directory: config,
// bundle, bytecode, env. cmd/isola and the tests both start here.
package app

import (
	"fmt"
	"log"
	"path/filepath"
	"time"

	"github.com/isola-run/isola/internal/bundle"
	"github.com/isola-run/isola/internal/compat"
	"github.com/isola-run/isola/internal/config"
	"github.com/isola-run/isola/internal/runtime"
)

// App is a loaded project.
type App struct {
	Config *config.Config
	Script *runtime.Script
	Worker *runtime.Worker
	// Loaders caches the dynamic workers of the worker's loader bindings.
	Loaders *runtime.LoaderCache
	// StateDir holds the app's durable state (Options.StateDir).
	StateDir string
}

// Options tune Load beyond what the project's config says.
type Options struct {
	// StateDir holds Durable Object databases and workflow journals. Empty
	// means DefaultStateDir inside the project directory. Nothing is created
	// there until an object first stores something.
	StateDir string
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
	logf := func(level, msg string) {
		logger.Printf("[%s] %s: %s", name, level, msg)
	}
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
	a := &App{Config: cfg, Script: script, Worker: w, StateDir: opts.StateDir}
	if err := a.bind(logf); err != nil {
		return nil, err
	}
	return a, nil
}

// bind gives the worker the bindings its config declares.
func (a *App) bind(logf func(level, msg string)) error {
	cfg := a.Config
	var bs []runtime.Binding
	if len(cfg.WorkerLoaders) > 0 {
		a.Loaders = runtime.NewLoaderCache(runtime.DefaultLoaderLimits, logf)
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
	return nil
}

// Close stops the worker and every dynamic worker it loaded.
func (a *App) Close() {
	a.Worker.Close()
	if a.Loaders != nil {
		a.Loaders.Close()
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
