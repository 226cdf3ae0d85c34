package runtime

import (
	"errors"
	"strings"
	"time"

	"github.com/isola-run/isola/internal/storage"
)

// What operators see of a running app: the dynamic workers a loader holds,
// the live Durable Objects, and their data while they run. The dashboard
// (internal/webui) is the reader; nothing here changes what it looks at.

// memoryWait bounds how long a listing waits for a busy isolate to report
// its heap: a worker deep in a long turn must not stall the dashboard.
const memoryWait = 200 * time.Millisecond

// LoadedWorker is one dynamic worker a loader cache holds.
type LoadedWorker struct {
	Loader string // the binding's name
	ID     string // the id given to get(); "" for load()
	Code   string // "<id>@<version>", as workflow instances record it
	Live   bool   // it has a live isolate now
	// Memory is the live isolate's engine heap in bytes: 0 without one,
	// -1 when the isolate was too busy to say.
	Memory   int64
	LastUsed time.Time // zero when it has not served anything yet
}

// Workers lists the cached dynamic workers, most recently used first.
func (c *LoaderCache) Workers() []LoadedWorker {
	c.mu.Lock()
	type entry struct {
		key  string
		w    *Worker
		used time.Time
	}
	entries := make([]entry, 0, c.lru.Len())
	for e := c.lru.Front(); e != nil; e = e.Next() {
		l := e.Value.(*loaded)
		entries = append(entries, entry{l.key, l.worker, l.used})
	}
	c.mu.Unlock()
	out := make([]LoadedWorker, 0, len(entries))
	for _, e := range entries {
		loader, id, _ := strings.Cut(e.key, "\x00")
		if loader == "" { // an anonymous key, "\x00anon<n>"
			id = ""
		}
		lw := LoadedWorker{Loader: loader, ID: id, Code: e.w.code, LastUsed: e.used}
		if t := e.w.lastUsed(); t.After(lw.LastUsed) {
			lw.LastUsed = t
		}
		lw.Live, lw.Memory = e.w.liveMemory()
		out = append(out, lw)
	}
	return out
}

// liveMemory reports whether the worker has a live isolate and its heap
// (-1 when the isolate is too busy to say within memoryWait).
func (w *Worker) liveMemory() (bool, int64) {
	w.mu.Lock()
	iso := w.iso
	w.mu.Unlock()
	if iso == nil || iso.Err() != nil {
		return false, 0
	}
	m, err := iso.memoryBefore(time.After(memoryWait))
	switch {
	case errors.Is(err, errBusy):
		return true, -1
	case err != nil:
		return false, 0
	}
	return true, m.MallocSize
}

// LiveObject is a Durable Object or facet with an instance in memory.
type LiveObject struct {
	Class    string
	ID       string   // the root object's id (where the databases live)
	Name     string   // the name the id was made from, if known
	Facet    []string // nil for the object itself
	LastUsed time.Time
}

// LiveObjects lists the objects and facets that have their database open,
// most recently used first (the order of the eviction list).
func (s *Actors) LiveObjects() []LiveObject {
	s.mu.Lock()
	actors := make([]*actor, 0, s.lru.Len())
	for e := s.lru.Front(); e != nil; e = e.Next() {
		actors = append(actors, e.Value.(*actor))
	}
	s.mu.Unlock()
	out := make([]LiveObject, 0, len(actors))
	for _, a := range actors {
		a.mu.Lock()
		o := LiveObject{Class: a.ns.class.Name, ID: a.dbID, Name: a.name, LastUsed: time.Unix(0, a.lastUse.Load())}
		if a.parent != nil {
			o.Facet = append([]string(nil), a.facet...)
			o.Name = ""
		}
		a.mu.Unlock()
		out = append(out, o)
	}
	return out
}

// ErrNotLive is ReadStorage's answer for an object without an instance in
// memory: its database is closed, and can be opened read-only instead.
var ErrNotLive = errors.New("the object is not live")

// ReadStorage runs fn on the open database of a live object or facet, on
// its isolate's loop between events: a live object holds its database
// locked, so this is the only way to look at it without stopping it. What
// fn sees may include the writes of the current pass of the loop, which
// commit together at its end. fn must only read.
func (s *Actors) ReadStorage(class, id string, facet []string, fn func(*storage.Store) error) error {
	s.mu.Lock()
	ns := s.namespaces[class]
	s.mu.Unlock()
	if ns == nil {
		return ErrNotLive
	}
	ns.mu.Lock()
	a := ns.objects[id]
	ns.mu.Unlock()
	for _, name := range facet {
		if a == nil {
			break
		}
		a = a.facetNamed(name)
	}
	if a == nil {
		return ErrNotLive
	}
	a.mu.Lock()
	iso, st := a.iso, a.store
	if iso == nil || st == nil || iso.Err() != nil {
		a.mu.Unlock()
		return ErrNotLive
	}
	done := make(chan error, 1)
	// If the object stops before the job runs, its store is closed and fn's
	// reads fail with that.
	posted := iso.postQuiet(func() { done <- fn(st) })
	a.mu.Unlock()
	if !posted {
		return ErrNotLive
	}
	select {
	case err := <-done:
		return err
	case <-iso.done:
		return ErrNotLive
	}
}

// Stats describe the worker's live isolate: whether it has one, its engine
// heap (-1 when too busy to say) and when it last served something.
func (w *Worker) Stats() (live bool, memory int64, lastUsed time.Time) {
	live, memory = w.liveMemory()
	return live, memory, w.lastUsed()
}
