package runtime

import (
	"net/http"
	"sync"
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
	iso, err := NewIsolate(w.script, w.opts)
	if err != nil {
		return nil, err
	}
	w.iso = iso
	return iso, nil
}

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
