package runtime

import (
	"container/list"
	"net/http"
	"sync"
	"time"
)

// Worker serves one compiled script from one live isolate at a time, the
// way workerd does: requests share the isolate's globals. When an isolate
// dies (a limit, a fatal error) the next request gets a fresh one, built
// from the same bytecode.
type Worker struct {
	script *Script
	opts   Options

	mu  sync.Mutex
	iso *Isolate

	// onStart, when set, hears of each new isolate (a loader cache counts
	// them against its budget). It is called without w.mu held.
	onStart func(*Worker)
	live    *list.Element // the cache's entry for the live isolate; the cache owns it
	// roomy, when set, says whether the worker's isolate may stay busy a
	// while for something that could let go of it: a workflow run waiting
	// out a sleep in memory keeps the isolates it runs in busy, and a loader
	// cache near its budget wants them idle, to evict.
	roomy func() bool

	// code names a dynamic worker's code, "<loader id>@<version>"; empty
	// for the app's own workers. Workflow instances record it (RanOn).
	code string
}

// NewWorker prepares a worker; its first isolate starts on first use.
func NewWorker(s *Script, opts Options) *Worker {
	return &Worker{script: s, opts: opts}
}

// Isolate returns the live isolate, starting one if there is none.
func (w *Worker) Isolate() (*Isolate, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.iso != nil && w.iso.Err() == nil {
		return w.iso, nil
	}
	iso, err := newIsolate(w.script, w.opts, w)
	if err != nil {
		return nil, err
	}
	w.iso = iso
	if w.onStart != nil {
		// Without w.mu: the hook may close other workers' isolates.
		w.mu.Unlock()
		w.onStart(w)
		w.mu.Lock()
	}
	return iso, nil
}

// hasLiveIsolate reports whether the worker has a live isolate now.
func (w *Worker) hasLiveIsolate() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.iso != nil && w.iso.Err() == nil
}

// closeIsolate lets the live isolate go; the worker starts a new one when
// next used. An isolate still serving something is left alone. It reports
// whether the worker is now without an isolate.
func (w *Worker) closeIsolate() bool {
	w.mu.Lock()
	iso := w.iso
	if iso != nil && iso.Err() == nil && !iso.closeIfIdle() {
		w.mu.Unlock()
		return false
	}
	w.iso = nil
	w.mu.Unlock()
	if iso != nil {
		go iso.Close()
	}
	return true
}

// lastUsed is when the live isolate last served something.
func (w *Worker) lastUsed() time.Time {
	w.mu.Lock()
	iso := w.iso
	w.mu.Unlock()
	if iso == nil {
		return time.Time{}
	}
	return iso.LastUsed()
}

// memory is the live isolate's engine heap, 0 without one.
func (w *Worker) memory() int64 {
	w.mu.Lock()
	iso := w.iso
	w.mu.Unlock()
	if iso == nil {
		return 0
	}
	m, _ := iso.Memory()
	return m.MallocSize
}

// Bind adds bindings to the worker's env. It exists because a binding may
// refer to the worker itself (a service binding to its own entrypoint); call
// it before the worker serves anything.
func (w *Worker) Bind(bs ...Binding) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opts.Env.Bindings = append(w.opts.Env.Bindings, bs...)
}

// BindClasses gives the worker the namespaces of its own Durable Object
// classes (ctx.exports.<Class>). Call it before the worker serves anything.
func (w *Worker) BindClasses(bs ...Binding) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opts.Env.Classes = append(w.opts.Env.Classes, bs...)
}

// Options returns the options the worker's isolates start with.
func (w *Worker) Options() Options { return w.opts }

// ServeHTTP answers r with the worker's fetch handler.
func (w *Worker) ServeHTTP(rw http.ResponseWriter, r *http.Request, opts ServeOptions) error {
	iso, err := w.Isolate()
	if err != nil {
		if w.opts.Log != nil {
			w.opts.Log("error", "Uncaught "+errorText(err))
		}
		writeFailure(rw, err, opts.DevErrors)
		return &RequestError{err}
	}
	return iso.ServeHTTP(rw, r, opts)
}

// Close shuts the live isolate down.
func (w *Worker) Close() {
	w.mu.Lock()
	iso := w.iso
	w.iso = nil
	w.mu.Unlock()
	if iso != nil {
		iso.Close()
	}
}
