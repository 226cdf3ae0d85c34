// Package app assembles a runnable worker from a project directory: config,
// bundle, bytecode, env. cmd/isola and the tests both start here.
package app

import (
	"log"
	"os"
	"time"

	"github.com/isola-run/isola/internal/bundle"
	"github.com/isola-run/isola/internal/config"
	"github.com/isola-run/isola/internal/runtime"
)

// App is a loaded project.
type App struct {
	Config *config.Config
	Script *runtime.Script
	Worker *runtime.Worker
}

// Load reads dir's wrangler config and prepares its worker. Console output
// and runtime messages go to logger, prefixed with the worker's name.
func Load(dir string, logger *log.Logger) (*App, error) {
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
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
	script, err := runtime.Compile(name, b)
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
	w := runtime.NewWorker(script, runtime.Options{
		Limits:  limits,
		EnvJSON: env,
		Log: func(level, msg string) {
			logger.Printf("[%s] %s: %s", name, level, msg)
		},
	})
	return &App{Config: cfg, Script: script, Worker: w}, nil
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

// Exists reports whether path exists; used by the CLI for friendlier errors.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
