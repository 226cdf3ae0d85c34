// Package logs keeps an app's recent console output and runtime messages
// and hands new ones to whoever watches (the dashboard's live log). The
// terminal gets every line as before; this is a second reader.
package logs

import (
	"sync"
	"time"
)

// Entry is one line of console output or one runtime message.
type Entry struct {
	Seq     int64     `json:"seq"` // increases by one per entry, per Hub
	Time    time.Time `json:"time"`
	App     string    `json:"app"`
	Tenant  string    `json:"tenant,omitempty"` // the dynamic worker's id; "" for the app's own code
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// Hub keeps the last entries in a ring and fans new ones out. Publishing
// never blocks: a watcher that falls behind by more than its buffer misses
// entries (it sees the gap in Seq) rather than slowing the worker down.
type Hub struct {
	mu       sync.Mutex
	ring     []Entry
	next     int // where the next entry goes in ring
	full     bool
	seq      int64
	watchers map[chan Entry]struct{}
}

// DefaultKeep is how many entries a Hub made by New keeps.
const DefaultKeep = 2000

// watchBuffer is how many entries a watcher may fall behind by.
const watchBuffer = 256

// New makes a Hub keeping the last keep entries.
func New(keep int) *Hub {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Hub{ring: make([]Entry, keep), watchers: map[chan Entry]struct{}{}}
}

// Publish records e, stamping its Seq and, when unset, its Time.
func (h *Hub) Publish(e Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	e.Seq = h.seq
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.ring[h.next] = e
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
	for ch := range h.watchers {
		select {
		case ch <- e:
		default:
		}
	}
}

// Recent returns the kept entries, oldest first.
func (h *Hub) Recent() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recentLocked()
}

func (h *Hub) recentLocked() []Entry {
	if !h.full {
		return append([]Entry(nil), h.ring[:h.next]...)
	}
	out := make([]Entry, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// Watch returns the kept entries and a channel of every later one, with no
// entry lost or repeated between the two. Call stop when done.
func (h *Hub) Watch() (recent []Entry, ch <-chan Entry, stop func()) {
	c := make(chan Entry, watchBuffer)
	h.mu.Lock()
	recent = h.recentLocked()
	h.watchers[c] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return recent, c, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.watchers, c)
			h.mu.Unlock()
		})
	}
}
