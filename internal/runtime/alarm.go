package runtime

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/storage"
)

// Alarms.
//
// An object's alarm lives in its own database (storage keeps it in
// _cf_METADATA), which is the truth. To know at start-up which objects have
// alarms without opening every database, the scheduler keeps an index, a
// small database of its own mapping (class, id) to the alarm time, updated
// from the commit that changed an alarm (storage.Options.OnAlarmChange) and
// so before the turn's output gate opens: an acknowledged setAlarm is always
// in the index. A stale entry (an alarm deleted or moved since) costs one
// wasted wake-up: the object checks its real alarm before running the
// handler.
//
// Delivery is at least once, as in workerd: the alarm stays on disk until a
// handler run succeeds; a throwing handler is retried after 2 s, doubling,
// for 6 tries in all.

const (
	alarmRetryStart = 2 * time.Second
	alarmMaxTries   = 6
)

// alarmState is an alarm invocation in progress.
type alarmState struct{}

type alarmScheduler struct {
	sys  *Actors
	path string

	mu         sync.Mutex
	idx        *storage.Store
	namespaces map[string]*ActorNamespace // by class
	timers     map[string]*time.Timer     // by index key
	closed     bool
	// now is the clock, replaceable in tests.
	now func() time.Time
}

func newAlarmScheduler(s *Actors, path string) *alarmScheduler {
	return &alarmScheduler{sys: s, path: path, namespaces: map[string]*ActorNamespace{}, timers: map[string]*time.Timer{}, now: time.Now}
}

func alarmKey(ns *ActorNamespace, id string) string { return ns.class.Name + "\x00" + id }

// register makes a namespace's alarms deliverable; start schedules those
// found in the index.
func (sc *alarmScheduler) register(ns *ActorNamespace) {
	sc.mu.Lock()
	sc.namespaces[ns.class.Name] = ns
	sc.mu.Unlock()
}

// index opens the index on first use. Called with sc.mu held.
func (sc *alarmScheduler) index() (*storage.Store, error) {
	if sc.idx != nil {
		return sc.idx, nil
	}
	st, err := storage.Open(sc.path, storage.Options{})
	if err != nil {
		return nil, err
	}
	sc.idx = st
	return st, nil
}

// start schedules every alarm in the index whose namespace is registered.
func (sc *alarmScheduler) start() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if !fileExists(sc.path) {
		return nil
	}
	idx, err := sc.index()
	if err != nil {
		return err
	}
	kvs, err := idx.List(storage.ListOptions{})
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		class, id, ok := strings.Cut(kv.Key, "\x00")
		ns := sc.namespaces[class]
		if !ok || ns == nil || len(kv.Value) != 8 {
			continue
		}
		at := time.UnixMilli(int64(binary.BigEndian.Uint64(kv.Value)))
		sc.schedule(ns, id, at, 0)
	}
	return nil
}

// changed hears that an object's durable alarm is now t (or none).
func (sc *alarmScheduler) changed(ns *ActorNamespace, id string, t time.Time, ok bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed {
		return
	}
	key := alarmKey(ns, id)
	if old := sc.timers[key]; old != nil {
		old.Stop()
		delete(sc.timers, key)
	}
	idx, err := sc.index()
	if err != nil {
		sc.sys.opts.Log("error", "alarm index: "+err.Error())
	} else if ok {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(t.UnixMilli()))
		err = idx.Put(key, b[:])
	} else {
		_, err = idx.Delete(key)
	}
	if err != nil {
		sc.sys.opts.Log("error", "alarm index: "+err.Error())
	}
	if ok {
		sc.schedule(ns, id, t, 0)
	}
}

// schedule arms the timer of one object's alarm. Called with sc.mu held.
func (sc *alarmScheduler) schedule(ns *ActorNamespace, id string, at time.Time, retry int) {
	key := alarmKey(ns, id)
	if old := sc.timers[key]; old != nil {
		old.Stop()
	}
	wait := at.Sub(sc.now())
	if retry > 0 {
		wait = alarmRetryStart << (retry - 1)
	}
	sc.timers[key] = time.AfterFunc(max(wait, 0), func() { sc.fire(ns, id, at, retry) })
}

// fire runs the object's alarm handler.
func (sc *alarmScheduler) fire(ns *ActorNamespace, id string, at time.Time, retry int) {
	key := alarmKey(ns, id)
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return
	}
	delete(sc.timers, key)
	sc.mu.Unlock()
	a := ns.pinned(id, "")
	defer a.unpin()
	a.mu.Lock()
	gen := a.gen
	a.mu.Unlock()
	args := fmt.Sprintf(`[{"retryCount":%d,"isRetry":%t,"scheduledTime":%d}]`, retry, retry > 0, at.UnixMilli())
	a.enqueue(&mail{kind: "alarm", gen: gen, c: &Call{Path: []string{"alarm"}, Op: "call", Args: Message{JSON: args}, Reply: func(m Message, err error) {
		if err == nil {
			return
		}
		if retry+1 >= alarmMaxTries {
			sc.sys.opts.Log("error", fmt.Sprintf("Durable Object %s: alarm handler failed %d times; giving up: %s", a.describe(), alarmMaxTries, callErrorText(err)))
			return
		}
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if sc.closed || sc.timers[key] != nil {
			return // closing, or a new alarm was set meanwhile
		}
		sc.schedule(ns, id, at, retry+1)
	}}})
}

func (sc *alarmScheduler) close() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.closed = true
	for k, t := range sc.timers {
		t.Stop()
		delete(sc.timers, k)
	}
	if sc.idx != nil {
		sc.idx.Close()
		sc.idx = nil
	}
}

// callErrorText describes a failed call for the log.
func callErrorText(err error) string {
	if te, ok := err.(*ThrownError); ok {
		return te.Value.JSON
	}
	return err.Error()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
