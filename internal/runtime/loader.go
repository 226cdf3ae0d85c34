package runtime

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/bundle"
	"github.com/isola-run/isola/internal/compat"
	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// Dynamic Workers: a platform worker hands code over at runtime through a
// Worker Loader binding and gets back a sandboxed worker.
//
// Two caches sit behind every loader. Scripts are keyed by the code's hash,
// so ten thousand tenants running the same code compile it once and a
// rebuilt isolate never parses again. Workers are keyed by (loader, id) and
// hold at most one live isolate each; idle isolates are closed and, past the
// budget, the least recently used ones go first. Eviction is invisible to
// callers: the next call starts an isolate from the kept bytecode.

// LoaderLimits bound a loader cache.
type LoaderLimits struct {
	Isolates int           // live isolates kept at most
	Memory   int64         // engine heap of all live isolates, bytes (checked every Idle/4)
	Workers  int           // workers (code + env) remembered at most
	Idle     time.Duration // an isolate unused this long is closed
}

// DefaultLoaderLimits suit a single machine.
var DefaultLoaderLimits = LoaderLimits{Isolates: 1000, Memory: 1 << 30, Workers: 10000, Idle: 60 * time.Second}

// LoaderCache holds the dynamic workers of one or more loader bindings.
//
// Lock order: LoaderCache.mu, then Worker.mu (Worker.Isolate calls back into
// the cache only after releasing its own lock).
type LoaderCache struct {
	limits LoaderLimits
	log    func(level, msg string)

	mu       sync.Mutex
	workers  map[string]*list.Element // key → element of lru (*loaded)
	lru      *list.List               // workers, front: most recently used
	live     *list.List               // workers with a live isolate, front: most recently used
	scripts  map[string]*Script       // code hash → compiled
	anonSeq  int
	stopIdle chan struct{}

	isolatesStarted, isolatesClosed int64

	// tenantLog, when set, receives the console output of the dynamic
	// workers instead of their parent's log (SetTenantLog).
	tenantLog func(loader, id, level, msg string)
}

// SetTenantLog sends the console output and runtime messages of dynamic
// workers loaded from now on to fn, with the loader and the id they were
// loaded under: the operator can then tell tenants apart. Without it they
// share their parent worker's log.
func (c *LoaderCache) SetTenantLog(fn func(loader, id, level, msg string)) {
	c.mu.Lock()
	c.tenantLog = fn
	c.mu.Unlock()
}

type loaded struct {
	key    string
	worker *Worker
	used   time.Time
}

// NewLoaderCache starts a cache; Close stops its sweeper.
func NewLoaderCache(limits LoaderLimits, log func(level, msg string)) *LoaderCache {
	d := DefaultLoaderLimits
	if limits.Isolates <= 0 {
		limits.Isolates = d.Isolates
	}
	if limits.Memory <= 0 {
		limits.Memory = d.Memory
	}
	if limits.Workers <= 0 {
		limits.Workers = d.Workers
	}
	if limits.Idle <= 0 {
		limits.Idle = d.Idle
	}
	c := &LoaderCache{
		limits:   limits,
		log:      log,
		workers:  map[string]*list.Element{},
		lru:      list.New(),
		live:     list.New(),
		scripts:  map[string]*Script{},
		stopIdle: make(chan struct{}),
	}
	go c.sweep()
	return c
}

// Close stops the sweeper and every cached isolate.
func (c *LoaderCache) Close() {
	close(c.stopIdle)
	c.mu.Lock()
	var ws []*Worker
	for _, e := range c.workers {
		ws = append(ws, e.Value.(*loaded).worker)
	}
	c.workers = map[string]*list.Element{}
	c.lru.Init()
	c.live.Init()
	c.mu.Unlock()
	for _, w := range ws {
		w.Close()
	}
}

// LoaderStats describe the cache for operators and benchmarks.
type LoaderStats struct {
	Workers, LiveIsolates, Scripts int
	// IsolatesStarted counts isolates started since the cache was made;
	// more than Workers ever held means evicted workers came back.
	IsolatesStarted int64
	// IsolatesClosed counts isolates closed as idle or over the budget.
	IsolatesClosed int64
}

func (c *LoaderCache) Stats() LoaderStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return LoaderStats{Workers: len(c.workers), LiveIsolates: c.live.Len(), Scripts: len(c.scripts),
		IsolatesStarted: c.isolatesStarted, IsolatesClosed: c.isolatesClosed}
}

func (c *LoaderCache) sweep() {
	t := time.NewTicker(c.limits.Idle / 4)
	defer t.Stop()
	for {
		select {
		case <-c.stopIdle:
			return
		case <-t.C:
			c.closeIdle(time.Now().Add(-c.limits.Idle))
			c.trimMemory()
		}
	}
}

// closeIdle closes isolates unused since before.
func (c *LoaderCache) closeIdle(before time.Time) {
	c.mu.Lock()
	var idle []*Worker
	for e := c.live.Back(); e != nil; e = e.Prev() {
		w := e.Value.(*Worker)
		if w.lastUsed().Before(before) {
			idle = append(idle, w)
		}
	}
	c.mu.Unlock()
	for _, w := range idle {
		c.stopIsolate(w)
	}
}

// trimMemory closes the least recently used isolates while all live ones
// together hold more engine heap than the budget.
func (c *LoaderCache) trimMemory() {
	c.mu.Lock()
	ws := make([]*Worker, 0, c.live.Len())
	for e := c.live.Front(); e != nil; e = e.Next() {
		ws = append(ws, e.Value.(*Worker))
	}
	c.mu.Unlock()
	var total int64
	sizes := make([]int64, len(ws))
	for i, w := range ws {
		sizes[i] = w.memory()
		total += sizes[i]
	}
	for i := len(ws) - 1; i >= 0 && total > c.limits.Memory; i-- {
		c.stopIsolate(ws[i])
		total -= sizes[i]
	}
}

// roomy is the Worker.roomy hook: at most half the isolate budget is live.
func (c *LoaderCache) roomy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return 2*c.live.Len() < c.limits.Isolates
}

// started is the Worker.onStart hook: count the new isolate and, past the
// budget, close the least recently used one.
func (c *LoaderCache) started(w *Worker) {
	c.mu.Lock()
	c.isolatesStarted++
	if w.live == nil {
		w.live = c.live.PushFront(w)
	} else {
		c.live.MoveToFront(w.live)
	}
	var victims []*Worker
	for e := c.live.Back(); e != nil && c.live.Len()-len(victims) > c.limits.Isolates; e = e.Prev() {
		if v := e.Value.(*Worker); v != w {
			victims = append(victims, v)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		c.stopIsolate(v)
	}
}

// stopIsolate closes w's isolate (unless it is busy) and uncounts it.
func (c *LoaderCache) stopIsolate(w *Worker) {
	if !w.closeIsolate() {
		return
	}
	c.mu.Lock()
	if w.live != nil {
		c.live.Remove(w.live)
		w.live = nil
		c.isolatesClosed++
	}
	c.mu.Unlock()
}

// get returns the worker for key, marking it used.
func (c *LoaderCache) get(key string) *Worker {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.workers[key]
	if !ok {
		return nil
	}
	l := e.Value.(*loaded)
	l.used = time.Now()
	c.lru.MoveToFront(e)
	if l.worker.live != nil {
		c.live.MoveToFront(l.worker.live)
	}
	return l.worker
}

// put remembers a worker; past the worker budget the least recently used
// is forgotten entirely (its next use runs getCode again).
func (c *LoaderCache) put(key string, w *Worker) {
	c.mu.Lock()
	if old, ok := c.workers[key]; ok {
		c.lru.Remove(old)
	}
	c.workers[key] = c.lru.PushFront(&loaded{key: key, worker: w, used: time.Now()})
	var drop []*Worker
	for len(c.workers) > c.limits.Workers {
		e := c.lru.Back()
		l := e.Value.(*loaded)
		c.lru.Remove(e)
		delete(c.workers, l.key)
		if l.worker.live != nil {
			c.live.Remove(l.worker.live)
			l.worker.live = nil
		}
		drop = append(drop, l.worker)
	}
	c.mu.Unlock()
	for _, w := range drop {
		w.Close()
	}
}

// newAnonKey names a worker loaded with a null id: unique, never shared.
func (c *LoaderCache) newAnonKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.anonSeq++
	return "\x00anon" + strconv.Itoa(c.anonSeq)
}

// script compiles code once per distinct content.
func (c *LoaderCache) script(name, h string, code *WorkerCode) (*Script, error) {
	c.mu.Lock()
	s, ok := c.scripts[h]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	b, err := bundle.Build(bundle.Options{Modules: code.Modules, Main: code.MainModule})
	if err != nil {
		return nil, err
	}
	s, err = Compile(name, b)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// Scripts are small next to isolates; keep as many as workers.
	if len(c.scripts) >= c.limits.Workers {
		for k := range c.scripts {
			delete(c.scripts, k)
			break
		}
	}
	c.scripts[h] = s
	c.mu.Unlock()
	return s, nil
}

// WorkerCode is what getCode returned, checked and normalised by the prelude.
type WorkerCode struct {
	CompatibilityDate  string
	CompatibilityFlags []string
	MainModule         string
	Modules            map[string]bundle.Module
	Env                *string // encoded env, caps and buffers shared with the message
	Outbound           int     // capability index; -1 with Blocked false: inherit
	Blocked            bool    // globalOutbound: null
	Limits             struct {
		CPUMs       int `json:"cpuMs"`
		SubRequests int `json:"subRequests"`
		MemoryMB    int `json:"memoryMb"`
	}
}

func (w *WorkerCode) hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", w.MainModule)
	names := make([]string, 0, len(w.Modules))
	for n := range w.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := w.Modules[n]
		fmt.Fprintf(h, "%q %q %d\n", n, m.Type, len(m.Source))
		h.Write([]byte(m.Source))
	}
	return hex.EncodeToString(h.Sum(nil))
}

const maxCodeSize = 64 << 20
const maxEnvSize = 1 << 20

// LoaderBinding is one worker_loaders binding in a worker's env.
type LoaderBinding struct {
	Name  string
	Cache *LoaderCache
	// Parent is the worker that holds the binding: dynamic workers inherit
	// its outbound policy and log through it.
	Parent *Worker
}

func (l *LoaderBinding) Kind() string { return "loader" }

// key is the cache's key for id under this binding.
func (l *LoaderBinding) key(id string) string { return l.Name + "\x00" + id }

func (l *LoaderBinding) Invoke(c *Call) {
	c.Reply(Message{}, errors.New("a Worker Loader is not callable"))
}

// workerRef is a handle on a worker, from which the prelude makes entrypoint
// stubs (host.entry).
type workerRef struct{ w *Worker }

func (r *workerRef) Kind() string { return "worker" }
func (r *workerRef) Invoke(c *Call) {
	(&EntryTarget{Worker: r.w}).Invoke(c)
}

// loaderGet answers host.loaderGet: a worker handle when (loader, id) is
// cached, 0 when the prelude must run getCode and call loaderPut.
func (iso *Isolate) loaderGet(handle int, id string) int {
	l, ok := iso.handles[handle].(*LoaderBinding)
	if !ok || id == "" {
		return 0
	}
	if w := l.Cache.get(l.key(id)); w != nil {
		return iso.addHandle(&workerRef{w})
	}
	return 0
}

// loaderTouch answers host.loaderTouch: whether (loader, id) is still cached
// as the worker behind the handle worker, which the prelude's memo holds
// (66_loader.js). Like loaderGet it counts as a use of the id.
func (iso *Isolate) loaderTouch(handle int, id string, worker int) bool {
	l, ok := iso.handles[handle].(*LoaderBinding)
	ref, ok2 := iso.handles[worker].(*workerRef)
	if !ok || !ok2 || id == "" {
		return false
	}
	return l.Cache.get(l.key(id)) == ref.w
}

// loaderPut answers host.loaderPut: a promise of a worker handle, settled
// once the code is checked and compiled and the worker has started and been
// cached. The work runs off this isolate's loop: a new isolate takes about a
// millisecond to start, and a platform worker that waited for each one would
// start its tenants' isolates one at a time however many cores there are.
func (iso *Isolate) loaderPut(handle int, id string, code *WorkerCode, capsJSON string, bufs [][]byte) quickjs.Value {
	l, ok := iso.handles[handle].(*LoaderBinding)
	var caps []Target
	var err error
	if !ok {
		err = &codeError{"not a Worker Loader"}
	} else {
		caps, err = iso.exportCaps(capsJSON) // handles belong to the loop
	}
	return iso.async(func() (func() quickjs.Value, error) {
		if err != nil {
			return nil, loadFailure(err)
		}
		w, err := l.build(id, code, caps, bufs, iso)
		if err != nil {
			return nil, loadFailure(err)
		}
		return func() quickjs.Value { return iso.vm.NewInt(iso.addHandle(&workerRef{w})) }, nil
	})
}

// workerCodeOf reads host.loaderPut's arguments (66_loader.js,
// putWorkerCode): loader, id, date, flags, main, env, outbound, blocked,
// limits, caps, how many buffers, the buffers, then the modules as (name,
// type, source) strings, a data module's source being the index of its
// buffer. Flags and limits are JSON, and they and env are "" when absent.
func workerCodeOf(a *jsvm.Args) (*WorkerCode, [][]byte, error) {
	code := &WorkerCode{CompatibilityDate: a.String(2), MainModule: a.String(4), Outbound: a.Int(6), Blocked: a.Bool(7)}
	if flags := a.String(3); flags != "" {
		if err := json.Unmarshal([]byte(flags), &code.CompatibilityFlags); err != nil {
			return nil, nil, badCode("compatibilityFlags: %v", err)
		}
	}
	if limits := a.String(8); limits != "" {
		if err := json.Unmarshal([]byte(limits), &code.Limits); err != nil {
			return nil, nil, badCode("limits: %v", err)
		}
	}
	if env := a.String(5); env != "" {
		if len(env) > maxEnvSize {
			return nil, nil, badCode("env is %d bytes when serialized, more than the 1 MiB allowed", len(env))
		}
		code.Env = &env
	}
	const first = 11 // the first buffer
	nBufs := a.Int(10)
	if nBufs < 0 || first+nBufs > a.Len() || (a.Len()-first-nBufs)%3 != 0 {
		return nil, nil, badCode("malformed modules")
	}
	bufs := make([]quickjs.Value, nBufs)
	for j := range bufs {
		bufs[j] = a.Value(first + j)
	}
	bs := buffersOf(bufs)
	code.Modules = make(map[string]bundle.Module, (a.Len()-first-nBufs)/3)
	total := 0
	for i := first + nBufs; i < a.Len(); i += 3 {
		name, typ, src := a.String(i), a.String(i+1), a.String(i+2)
		if typ == "data" || typ == "wasm" {
			n, err := strconv.Atoi(src)
			if err != nil || n < 0 || n >= len(bs) {
				return nil, nil, badCode("data module %q has no data", name)
			}
			src = string(bs[n])
		}
		if total += len(src); total > maxCodeSize {
			return nil, nil, badCode("the code is larger than 64 MiB")
		}
		code.Modules[name] = bundle.Module{Type: typ, Source: src}
	}
	return code, bs, nil
}

// loadFailure names the class a failed load throws: TypeError for code the
// loader refuses (codeError), Error for anything else (a worker that did not
// start, a capability in its env already disposed).
func loadFailure(err error) error {
	var ce *codeError
	if errors.As(err, &ce) {
		return err
	}
	return &loadError{err}
}

// loadError is a load that failed other than by refused code.
type loadError struct{ err error }

func (e *loadError) Error() string  { return e.err.Error() }
func (e *loadError) JSName() string { return "Error" }
func (e *loadError) Unwrap() error  { return e.err }

// codeError is WorkerCode the loader refuses; it reaches the caller as a
// TypeError.
type codeError struct{ msg string }

func (e *codeError) Error() string  { return "Worker Loader: " + e.msg }
func (e *codeError) JSName() string { return "TypeError" }

func badCode(format string, args ...any) error {
	return &codeError{fmt.Sprintf(format, args...)}
}

// build runs off the calling isolate's loop: it may read only what does not
// change after the isolate starts (its options) and what locks itself.
func (l *LoaderBinding) build(id string, code *WorkerCode, caps []Target, bufs [][]byte, iso *Isolate) (*Worker, error) {
	features, err := compat.Resolve(code.CompatibilityDate, code.CompatibilityFlags)
	if err != nil {
		return nil, &startError{err.Error()}
	}
	key := l.key(id)
	if id == "" {
		key = l.Cache.newAnonKey()
	}
	hash := code.hash()
	// Ids with the same code share one script, so it is named by its code:
	// the first id's name would label every later id's profile.
	script, err := l.Cache.script("dynamic@"+hash[:12], hash, code)
	if err != nil {
		return nil, startFailure(err)
	}
	opts := Options{Log: iso.logf, Limits: iso.limits}
	if l.Parent != nil {
		opts = l.Parent.opts
		opts.Env = Env{}
	}
	if code.Limits.CPUMs > 0 {
		opts.Limits.CPU = time.Duration(code.Limits.CPUMs) * time.Millisecond
	}
	if code.Limits.MemoryMB > 0 {
		opts.Limits.Memory = uintptr(code.Limits.MemoryMB) << 20
	}
	opts.Limits.SubRequests = code.Limits.SubRequests
	l.Cache.mu.Lock()
	tenantLog := l.Cache.tenantLog
	l.Cache.mu.Unlock()
	if tenantLog != nil {
		loader := l.Name
		opts.Log = func(level, msg string) { tenantLog(loader, id, level, msg) }
	}
	if code.Env != nil {
		opts.Env.Encoded = &Message{JSON: *code.Env, Caps: caps, Bufs: bufs}
	}
	switch {
	case code.Blocked:
		opts.Outbound = Outbound{Blocked: true}
	case code.Outbound >= 0:
		if code.Outbound >= len(caps) {
			return nil, badCode("globalOutbound is not a Fetcher")
		}
		opts.Outbound = Outbound{Target: caps[code.Outbound]}
	default:
		opts.Outbound = iso.outbound // inherit the parent's
	}
	opts.Features = features
	w := NewWorker(script, opts)
	w.onStart = l.Cache.started
	w.roomy = l.Cache.roomy
	w.code = id + "@" + hash[:12]
	// Start it now, as workerd does: a worker that cannot start fails the
	// caller with the reason, and is not cached.
	if _, err := w.Isolate(); err != nil {
		return nil, startFailure(err)
	}
	l.Cache.put(key, w)
	return w, nil
}

// startError is a dynamic worker that did not start; its text is workerd's.
type startError struct{ msg string }

func (e *startError) Error() string { return e.msg }

// startFailure words a compile or top-level failure as workerd does:
// "Failed to start Worker:\nUncaught Name: message\n  at module:line:col".
func startFailure(err error) error {
	var se *ScriptError
	var be *bundle.Error
	switch {
	case errors.As(err, &se):
		msg := "Failed to start Worker:\nUncaught " + se.Name + ": " + se.Message
		if se.File != "" {
			msg += fmt.Sprintf("\n  at %s:%d:%d", se.File, se.Line, se.Column)
		} else if at := firstFrame(se.Stack); at != "" {
			msg += "\n  at " + at
		}
		return &startError{msg}
	case errors.As(err, &be):
		return &startError{"Failed to start Worker:\nUncaught " + be.Uncaught()}
	}
	return err
}

// firstFrame is the position of a stack's first frame, "main.js:3:9".
func firstFrame(stack string) string {
	for _, line := range strings.Split(stack, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.LastIndexByte(line, '('); i >= 0 && strings.HasSuffix(line, ")") {
			return strings.TrimPrefix(line[i+1:len(line)-1], "isola-mem:/")
		}
	}
	return ""
}
