// Package runtime owns isolates: one QuickJS VM each, driven by one goroutine
// that runs its event loop. Everything that touches a VM happens on that
// goroutine; other goroutines hand it work through post and never call into
// JavaScript themselves.
package runtime

import (
	"container/heap"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isola-run/isola/internal/bundle"
	"github.com/isola-run/isola/internal/compat"
	"github.com/isola-run/isola/internal/jsvm"
	jsprelude "github.com/isola-run/isola/internal/runtime/js"
	"github.com/isola-run/isola/internal/wasm"
	"modernc.org/quickjs"
)

// Limits bound what one isolate may use. Exceeding one fails the requests in
// flight in that isolate and throws the isolate away; no other isolate notices.
type Limits struct {
	Memory      uintptr       // engine heap, bytes
	CPU         time.Duration // JavaScript time per event-loop turn
	Wall        time.Duration // backstop for a request whose promise never settles
	SubRequests int           // outbound fetches per invocation; 0: no limit
}

// DefaultLimits are those of a worker whose config says nothing.
var DefaultLimits = Limits{Memory: 128 << 20, CPU: 30 * time.Second, Wall: 5 * time.Minute}

// Script is a worker compiled once; every isolate of the worker starts from it.
type Script struct {
	Name      string
	Bytecode  []byte
	SourceMap *bundle.SourceMap
	// Optional: which of the optional globals (optionalGlobals) the worker's
	// code names, as bits of init's features; its isolates install those.
	Optional int
	// Wasm: the WebAssembly modules the code imports, compiled, by the names
	// the bundle gave them.
	Wasm map[string]*wasm.Module
}

// optionalGlobals are globals an isolate installs (js/16_optional.js) only
// for code that names one of them: even a one-line stub of a built-in in the
// prelude's eager unit, or a lazy global's accessor, costs every isolate
// engine memory (in steps of 4 KB), and few workers use these. Code that
// reaches one by a name it computes at run time (globalThis["Compression" +
// x]) does not find it. The bits sit above the compatibility features
// (compat.Features.Bits).
var optionalGlobals = []struct {
	bit   int
	names []string
}{
	{1 << 8, []string{"captureStackTrace", "stackTraceLimit", "fromAsync"}},                                                             // installV8Builtins
	{1 << 9, []string{"CompressionStream", "DecompressionStream"}},                                                                      // installCompressionStreams
	{1 << 10, []string{"DisposableStack", "SuppressedError"}},                                                                           // installDisposableStacks
	{optionalGlobalEvents, []string{"addEventListener", "removeEventListener", "dispatchEvent", "ErrorEvent", "PromiseRejectionEvent"}}, // installGlobalEvents
	{1 << 12, []string{"WebSocket", "MessageEvent", "CloseEvent"}},                                                                      // installWebSockets (WebSocketPair, acceptWebSocket, ... contain "WebSocket")
	{1 << 13, []string{"WebAssembly"}},                                                                                                  // installWasm (an import of a .wasm module is bundled as code naming it)
}

// optionalGlobalEvents is the set with the global scope's event listeners:
// an isolate that has them keeps its reported rejections, for the
// rejectionhandled event (drain).
const optionalGlobalEvents = 1 << 11

// Compile bundles nothing: it turns an already bundled worker into bytecode.
// It also makes sure the prelude is compiled, so the first isolate does not
// pay for it while a request waits.
func Compile(name string, b *bundle.Bundle) (*Script, error) {
	if _, err := jsprelude.Compile(); err != nil {
		return nil, fmt.Errorf("prelude: %w", err)
	}
	vm, err := quickjs.NewVM()
	if err != nil {
		return nil, err
	}
	defer vm.Close()
	code, err := jsvm.Compile(vm, b.Code, bundle.FileName, true)
	if err != nil {
		return nil, mapError(err, b.Map)
	}
	s := &Script{Name: name, Bytecode: code, SourceMap: b.Map}
	if err := s.compileWasm(b.Wasm); err != nil {
		return nil, err
	}
	for _, g := range optionalGlobals {
		for _, n := range g.names {
			if strings.Contains(b.Code, n) {
				s.Optional |= g.bit
			}
		}
	}
	return s, nil
}

// ErrIsolateDead is returned for work posted to an isolate that was thrown
// away.
var ErrIsolateDead = errors.New("isolate was shut down")

// Isolate is one VM and its event loop.
type Isolate struct {
	script *Script
	limits Limits
	logf   func(level, msg string)

	vm       *quickjs.VM
	dispatch quickjs.Value

	mu          sync.Mutex
	queue       []func()
	quietQueued int      // how many of queue came through postQuiet
	spareQueue  []func() // the last turn's queue, emptied: the next turn's (loop only)
	wake        chan struct{}
	dead        error // set once; guarded by mu
	// parked is set, under mu, when the loop's goroutine has ended because
	// the isolate was idle (loop); the next post or kill starts another.
	parked bool
	done   chan struct{}

	// Loop-goroutine state.
	timers     timerHeap
	timerByID  map[int]*timerEntry
	timerSeq   uint64
	pendingOps int // host operations whose completion is still to come
	inflight   map[int]*inflight
	nextID     int
	bodies     map[int]*bodySource
	wsOwned    map[*wsEnd]struct{} // loop: WebSocket ends this isolate's JavaScript holds (websocket.go)
	sockets    *socketTable        // TCP connections of connect() (sockethost.go), once used
	wasm       *wasmState          // WebAssembly (wasmhost.go), once used
	wsQueued   atomic.Int64        // bytes waiting at the WebSocket ends it holds (websocket.go)
	// soon: settlements the loop's own code caused (a WebSocket message
	// between two ends in this isolate), run after the turn's jobs and
	// before its timers, as workerd runs such a task before a later
	// setTimeout(0).
	soon       []func()
	wsTaker    quickjs.Value // the prelude's wsTake, once its unit loaded
	wsTakerSet bool
	ops        map[*quickjs.PromiseCapability]struct{}
	rejections *jsvm.Rejections

	idle       atomic.Bool
	lastUse    atomic.Int64 // unix nanoseconds
	worker     *Worker      // the worker this isolate serves, when it has one
	env        Env
	features   compat.Features
	outbound   Outbound
	handles    map[int]Target
	nextHandle int
	calls      map[int]*Call
	nextCall   int
	// open compression, decompression and digest streams (streamhost.go)
	byteStreams    map[int]*byteStream
	nextByteStream int

	// The databases of the Durable Objects living here (storagehost.go).
	stores      *storeTable
	groups      map[string]bool // host function groups registered (registerGroup)
	dispatchSet bool            // the prelude handed dispatch over (takeDispatch)
	// pendingHost holds the host functions made but not yet taken by the
	// prelude (registerFuncs, adoptHostFunctions), if hostPending.
	pendingHost quickjs.Value
	// settleCall and settleFetch unpack an RPC reply and settle the call's
	// promise with it, in one job (65_rpc.js hands them over when it loads,
	// through host.rpcSettlers).
	settleCall, settleFetch quickjs.Value
	// rejectionHandler dispatches the global scope's unhandledrejection and
	// rejectionhandled events (host.rejectionHandler), when the worker has them.
	rejectionHandler    quickjs.Value
	rejectionHandlerSet bool
	settlersSet         bool
	hostPending         bool
	adoptRegistered     bool               // __isola_adopt is registered
	wfRuns              map[int64]*liveRun // workflow runs whose run() runs here (workflow.go)
	// Calls that handed a run's step to another isolate, abandoned when
	// the run ends (workflow.go).
	wfHandoff map[*Call]handoff
	// Durable Objects living here (actor.go), by instance key.
	actors map[int]*liveActor
	// The output gate: messages produced in a turn that wrote to storage
	// wait in held until the turn's commit is on disk (endTurn).
	held []func()
	gate chan struct{} // closed when the turn's writes are durable
	// Commits whose fsync is running, oldest first (endTurn).
	syncing []*syncBatch
	prof    *jsvm.Profile // with ISOLA_JS_PROFILE (jsprofile.go)
}

// Options configure a new isolate.
type Options struct {
	Limits Limits
	Env    Env
	// Outbound is where the worker's fetch() goes: the network by default.
	Outbound Outbound
	// Log receives console output and runtime messages.
	Log func(level, msg string)
	// Features are what the compatibility date and flags turn on.
	Features compat.Features
}

// Env is what a worker finds in its env object.
type Env struct {
	// Vars is a JSON object of plain values (the config's vars).
	Vars string
	// Bindings are capabilities: Worker Loaders, service bindings.
	Bindings []Binding
	// Classes are the namespaces of the worker's own Durable Object
	// classes that have storage: ctx.exports.<Class> is one.
	Classes []Binding
	// Encoded is an env handed over by a parent worker (a dynamic worker's
	// WorkerCode.env), in the RPC encoding.
	Encoded *Message
}

// Binding names a capability in env.
type Binding struct {
	Name   string
	Target Target
}

// Outbound is a worker's policy for fetch(): the network (zero value),
// nothing (Blocked), or a Fetcher that receives every request.
type Outbound struct {
	Blocked bool
	Target  Target
}

// NewIsolate starts a VM, runs the prelude and the worker's top level, and
// starts the event loop.
func NewIsolate(s *Script, opts Options) (*Isolate, error) {
	return newIsolate(s, opts, nil)
}

func newIsolate(s *Script, opts Options, w *Worker) (*Isolate, error) {
	pre, err := jsprelude.Compile()
	if err != nil {
		return nil, fmt.Errorf("prelude: %w", err)
	}
	if opts.Log == nil {
		opts.Log = func(string, string) {}
	}
	if opts.Limits.Memory == 0 {
		opts.Limits.Memory = DefaultLimits.Memory
	}
	if opts.Limits.CPU == 0 {
		opts.Limits.CPU = DefaultLimits.CPU
	}
	if opts.Limits.Wall == 0 {
		opts.Limits.Wall = DefaultLimits.Wall
	}
	iso := &Isolate{
		script:    s,
		env:       opts.Env,
		features:  opts.Features,
		outbound:  opts.Outbound,
		limits:    opts.Limits,
		logf:      opts.Log,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		timerByID: map[int]*timerEntry{},
		inflight:  map[int]*inflight{},
		bodies:    map[int]*bodySource{},
		worker:    w,
	}
	iso.lastUse.Store(time.Now().UnixNano())
	ready := make(chan error, 1)
	goLoop(func() { iso.run(pre, ready) })
	if err := <-ready; err != nil {
		return nil, err
	}
	return iso, nil
}

// run is the isolate's first goroutine: it creates the VM and then runs the
// loop. The VM is used by one goroutine at a time: this one, and after the
// isolate has parked, the one the next post starts (serve).
func (iso *Isolate) run(pre *jsprelude.Compiled, ready chan<- error) {
	iso.labelLoop()
	if err := iso.boot(pre); err != nil {
		iso.kill(err)
		if iso.rejections != nil {
			iso.rejections.Close()
		}
		if iso.vm != nil {
			jsvm.Close(iso.vm)
		}
		close(iso.done)
		ready <- err
		return
	}
	ready <- nil
	iso.serve()
}

// serve runs the loop until the isolate parks or dies.
func (iso *Isolate) serve() {
	iso.labelLoop()
	if iso.loop() {
		return
	}
	iso.shutdown()
	close(iso.done)
}

// wakeLocked wakes the loop; iso.mu is held. A parked isolate gets a
// goroutine again.
func (iso *Isolate) wakeLocked() {
	select {
	case iso.wake <- struct{}{}:
	default:
	}
	if iso.parked {
		iso.parked = false
		goLoop(iso.serve)
	}
}

func (iso *Isolate) boot(pre *jsprelude.Compiled) error {
	var err error
	if snap := preludeSnapshotFor(pre); snap != nil {
		err = iso.bootClone(snap)
	} else {
		err = iso.bootPrelude(pre)
	}
	if err != nil {
		return err
	}
	if err := iso.init(); err != nil {
		return err
	}
	if _, err := iso.vm.EvalBytecode(iso.script.Bytecode); err != nil {
		return mapError(err, iso.script.SourceMap)
	}
	iso.drain()
	if iso.dead != nil {
		return iso.dead
	}
	return nil
}

// bootPrelude makes the VM and runs the prelude in it.
func (iso *Isolate) bootPrelude(pre *jsprelude.Compiled) error {
	vm, err := quickjs.NewVM()
	if err != nil {
		return err
	}
	iso.vm = vm
	iso.startProfile()
	vm.SetMemoryLimit(iso.limits.Memory)
	vm.SetModuleLoader(missingModule, normalizeModule)
	iso.rejections = jsvm.TrackRejections(vm)
	if err := iso.registerHost(); err != nil {
		return err
	}
	if err := vm.SetEvalTimeout(iso.limits.CPU); err != nil {
		return err
	}
	if err := pre.Install(vm); err != nil {
		return fmt.Errorf("prelude: %w", err)
	}
	if !iso.dispatchSet {
		return errors.New("prelude: no dispatch function")
	}
	return nil
}

// Every module a worker imports statically is in its bundle; an import()
// esbuild could not resolve reaches the engine's loader at run time. The
// loaded module throws workerd's error (the loader's own failure would
// surface as a TypeError).
func missingModule(_ *quickjs.VM, name string) (string, error) {
	return fmt.Sprintf("throw new Error(%q);", fmt.Sprintf("No such module %q.", name)), nil
}

func normalizeModule(_ *quickjs.VM, _, name string) (string, error) {
	return strings.TrimPrefix(name, "./"), nil
}

// init hands the prelude the worker's env, features and outbound policy.
// Most of it travels as plain arguments, not one JSON message: a dynamic
// worker without an env then needs no JSON parsed at start, which was ~10
// µs of each cold load (RATIONALE.md, "Where a dynamic worker's start
// goes"). The capabilities travel as one list: the encoded env's first (its
// JSON refers to them by index), then bindings, classes and the outbound
// Fetcher, each named by its index.
func (iso *Isolate) init() error {
	iso.rejections.KeepReported = iso.script.Optional&optionalGlobalEvents != 0
	var caps []Target
	var msg Message
	env := ""
	if e := iso.env.Encoded; e != nil {
		env = e.JSON
		caps = append(caps, e.Caps...)
		msg.Bufs = e.Bufs
	}
	indexes := func(bs []Binding) string {
		if len(bs) == 0 {
			return ""
		}
		b := []byte{'{'}
		for i, x := range bs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, x.Name)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(len(caps)), 10)
			caps = append(caps, x.Target)
		}
		return string(append(b, '}'))
	}
	bindings := indexes(iso.env.Bindings)
	classes := indexes(iso.env.Classes)
	outbound := -1
	if iso.outbound.Target != nil {
		outbound = len(caps)
		caps = append(caps, iso.outbound.Target)
	}
	self := 0
	if iso.worker != nil {
		self = iso.addHandle(&workerRef{iso.worker})
	}
	msg.Caps = caps
	args, free := iso.messageArgs(msg) // "", the caps, the buffers
	defer func() {
		for i := range free {
			free[i].Free()
		}
	}()
	_, err := iso.call("init", append([]any{iso.features.Bits() | iso.script.Optional, iso.outbound.Blocked, self, outbound,
		iso.env.Vars, env, bindings, classes}, args[1:]...)...)
	return err
}

// callValue is call for results that must stay JavaScript values.
func (iso *Isolate) callValue(kind string, args ...any) (quickjs.Value, error) {
	all := append([]any{kind}, args...)
	r, err := jsvm.Call(iso.dispatch, all...)
	if err != nil {
		iso.checkFatal(err)
		return r, mapError(err, iso.script.SourceMap)
	}
	return r, nil
}

// call invokes the prelude's dispatcher on the loop goroutine. Its result
// is a bool when the handler returned one, else nil: what callers read.
func (iso *Isolate) call(kind string, args ...any) (any, error) {
	all := append([]any{kind}, args...)
	r, err := jsvm.Call(iso.dispatch, all...)
	if err != nil {
		iso.checkFatal(err)
		return nil, mapError(err, iso.script.SourceMap)
	}
	defer r.Free()
	if b, ok := jsvm.Bool(r); ok {
		return b, nil
	}
	return nil, nil
}

// checkFatal recognises the errors after which the VM must not run again.
func (iso *Isolate) checkFatal(err error) {
	var qe *quickjs.Error
	if errors.As(err, &qe) {
		iso.checkFatalText(qe.Name + ": " + qe.Message)
	}
}

// checkFatalText kills the isolate when an exception's text says a limit was
// hit: after an interrupt or an allocation failure the VM's state cannot be
// trusted. (A stack overflow is an ordinary, catchable error.) It reports
// whether it did.
func (iso *Isolate) checkFatalText(text string) bool {
	switch {
	case strings.HasPrefix(text, "InternalError: interrupted"):
		iso.kill(fmt.Errorf("Worker exceeded CPU time limit (%s per event).", iso.limits.CPU))
	case strings.HasPrefix(text, "InternalError: out of memory"):
		iso.kill(fmt.Errorf("Worker exceeded memory limit (%d MiB).", iso.limits.Memory>>20))
	default:
		return false
	}
	return true
}

// post hands fn to the loop goroutine. It reports false when the isolate is
// dead, in which case fn will never run.
func (iso *Isolate) post(fn func()) bool {
	return iso.enqueue(fn, false)
}

// postQuiet is post for the host's own bookkeeping (measuring memory,
// collecting garbage): it does not count as use, or an idle isolate that
// the loader cache measures would never look idle.
func (iso *Isolate) postQuiet(fn func()) bool {
	return iso.enqueue(fn, true)
}

func (iso *Isolate) enqueue(fn func(), quiet bool) bool {
	iso.mu.Lock()
	if iso.dead != nil {
		iso.mu.Unlock()
		return false
	}
	iso.queue = append(iso.queue, fn)
	if quiet {
		iso.quietQueued++
	}
	iso.wakeLocked()
	iso.mu.Unlock()
	return true
}

// Err reports why the isolate died, or nil while it lives.
func (iso *Isolate) Err() error {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	return iso.dead
}

// closeIfIdle kills the isolate if it serves nothing and has no work
// queued, atomically with post: work posted after it fails to post (and
// the poster starts another isolate), and none posted before is lost.
func (iso *Isolate) closeIfIdle() bool {
	iso.mu.Lock()
	if iso.dead == nil {
		if !iso.idle.Load() || len(iso.queue) > iso.quietQueued {
			iso.mu.Unlock()
			return false
		}
		iso.dead = ErrIsolateDead
	}
	iso.wakeLocked()
	iso.mu.Unlock()
	return true
}

// Close kills the isolate; requests in flight fail with ErrIsolateDead.
func (iso *Isolate) Close() {
	iso.kill(ErrIsolateDead)
	<-iso.done
}

func (iso *Isolate) kill(err error) {
	iso.mu.Lock()
	if iso.dead == nil {
		iso.dead = err
	}
	iso.wakeLocked()
	iso.mu.Unlock()
}

// loop runs turns until the isolate dies (it returns false) or parks (true):
// an isolate with no timer that has had nothing to do for stackTrimDelay
// gives back the engine's stack blocks and ends its goroutine, whose stack
// (~5 KB once shrunk) an idle isolate need not keep.
func (iso *Isolate) loop() (parked bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if err := iso.Err(); err != nil {
			return false
		}
		// Arm the timer for the earliest deadline: a JavaScript timer's, or
		// the moment an idle isolate trims its stack and parks.
		wait := time.Hour
		if len(iso.timers) > 0 {
			wait = time.Until(iso.timers[0].at)
			if wait < 0 {
				wait = 0
			}
		}
		// Only a wait with something to give back is cut short: an isolate
		// waiting on a distant timer keeps its goroutine.
		trim := wait > stackTrimDelay && (len(iso.timers) == 0 || jsvm.StackHeld(iso.vm) > 0)
		if trim {
			wait = stackTrimDelay
		}
		timer.Reset(wait)
		woken := false
		select {
		case <-iso.wake:
			woken = true
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if trim && !woken {
			jsvm.TrimStack(iso.vm)
			if len(iso.timers) == 0 {
				iso.mu.Lock()
				if len(iso.queue) == 0 && iso.dead == nil {
					iso.parked = true
					iso.mu.Unlock()
					return true
				}
				iso.mu.Unlock()
			}
			continue
		}
		jsvm.ReadyStack(iso.vm)
		iso.turn()
	}
}

// stackTrimDelay is how long an isolate waits idle before it gives back the
// blocks of the engine's stack (~30 KiB after a request, more after deep
// recursion) and, with no timer set, parks. The next turn takes a spare
// stack if one is left (jsvm.ReadyStack), else grows one, and a goroutine's
// stack grows again by copying.
const stackTrimDelay = 100 * time.Millisecond

// turn runs queued work, then due timers, then microtasks, and finally
// notices requests that can never finish.
func (iso *Isolate) turn() {
	iso.mu.Lock()
	jobs := iso.queue
	quiet := iso.quietQueued
	// The two queues take turns: a post does not allocate one each turn.
	iso.queue, iso.spareQueue = iso.spareQueue, nil
	iso.quietQueued = 0
	if len(jobs) > quiet {
		// Busy from now: closeIfIdle must not see this turn's work as idle.
		iso.idle.Store(false)
	}
	iso.mu.Unlock()
	// A refusal the memory limit made in an earlier turn, whose error the
	// code caught, says nothing of a null thrown now (memoryTight).
	jsvm.AllocationRefused(iso.vm)
	gcSeen := jsvm.GCThreshold(iso.vm)
	for _, job := range jobs {
		if iso.Err() != nil {
			return
		}
		if iso.prof != nil {
			iso.prof.Resume()
		}
		job()
		iso.drain()
	}
	if cap(jobs) <= 16 {
		clear(jobs)
		iso.spareQueue = jobs[:0]
	}
	iso.runSoon()
	now := time.Now()
	for len(iso.timers) > 0 && !iso.timers[0].at.After(now) && iso.Err() == nil {
		t := heap.Pop(&iso.timers).(*timerEntry)
		if t.repeat {
			t.at = now.Add(t.every)
			iso.timerSeq++
			t.seq = iso.timerSeq
			heap.Push(&iso.timers, t)
		} else {
			delete(iso.timerByID, t.id)
		}
		if iso.prof != nil {
			iso.prof.Resume()
		}
		if _, err := iso.call("timer", t.id); err != nil {
			iso.reportUncaught(err)
		}
		iso.drain()
		iso.runSoon()
	}
	// A collection ran during the turn: collect once more, and set the next
	// threshold from what is left (jsvm.SettleGCThreshold says why). A
	// threshold near the memory limit is left alone: heapWasNearLimit reads
	// it later.
	if iso.Err() == nil && iso.wasm != nil && iso.wasm.collect {
		iso.wasm.collect = false
		jsvm.RunGC(iso.vm)
		iso.drain() // the finalizers that release instances
	}
	if iso.Err() == nil && jsvm.GCThreshold(iso.vm) != gcSeen {
		jsvm.RunGC(iso.vm)
		iso.drain()
		if iso.Err() == nil && !iso.gcThresholdNearLimit() {
			jsvm.SettleGCThreshold(iso.vm, gcSeen)
		}
	}
	// One commit for everything this pass of the loop ran (group commit):
	// each event's writes are still atomic (they are inside the one
	// transaction), every message they caused waits for it, and a loaded
	// object pays one fsync per pass instead of one per event.
	// What the collector's pass queued (a microtask of a finalizer that
	// sent on a pair) runs in this turn too: nothing would wake the loop
	// for it.
	iso.runSoon()
	iso.endTurn()
	iso.detectStall()
	iso.idle.Store(len(iso.inflight)+len(iso.calls) == 0 && iso.pendingOps == 0 && len(iso.syncing) == 0)
	if len(jobs) > quiet {
		iso.lastUse.Store(time.Now().UnixNano())
	}
}

// runSoon runs what the turn's code queued on iso.soon, and what that
// queued in turn.
func (iso *Isolate) runSoon() {
	for len(iso.soon) > 0 && iso.Err() == nil {
		fns := iso.soon
		iso.soon = nil
		for _, f := range fns {
			f()
			iso.drain()
		}
	}
}

// LastUsed is when the isolate last started serving something.
func (iso *Isolate) LastUsed() time.Time {
	return time.Unix(0, iso.lastUse.Load())
}

// drain runs microtasks until none are left, then reports the rejections
// nobody handled: in the log, and as unhandledrejection events to the
// worker's global listeners when its code names addEventListener (whose
// listeners may queue more microtasks, so the loop goes round again).
func (iso *Isolate) drain() {
	for iso.Err() == nil {
		n, err := iso.vm.ExecutePendingJobs()
		if err != nil {
			iso.checkFatal(err)
			iso.reportUncaught(mapError(err, iso.script.SourceMap))
		}
		if n > 0 || err != nil {
			continue
		}
		dispatched := false
		iso.rejections.Drain(func(promise, reason quickjs.Value) {
			iso.logf("error", "Uncaught (in promise) "+errorText(mapError(reasonError(reason), iso.script.SourceMap)))
			dispatched = iso.rejectionEvent("unhandledrejection", promise, reason) || dispatched
		})
		iso.rejections.DrainHandled(func(promise, reason quickjs.Value) {
			dispatched = iso.rejectionEvent("rejectionhandled", promise, reason) || dispatched
		})
		if !dispatched {
			return
		}
	}
}

// rejectionEvent hands a rejection to the worker's global event listeners,
// if it has any; it reports whether it ran JavaScript.
func (iso *Isolate) rejectionEvent(kind string, promise, reason quickjs.Value) bool {
	if !iso.rejectionHandlerSet || iso.Err() != nil {
		return false
	}
	r, err := jsvm.Call(iso.rejectionHandler, kind, promise, reason)
	if err != nil {
		iso.checkFatal(err)
		iso.reportUncaught(mapError(err, iso.script.SourceMap))
		return true
	}
	r.Free()
	return true
}

// reasonError describes a rejection's reason, which may not be an Error.
func reasonError(reason quickjs.Value) error {
	if qe := quickjs.ErrorFromValue(reason); qe != nil && qe.Name != "" {
		return qe
	}
	s, err := reason.Any()
	if err != nil {
		return err
	}
	return fmt.Errorf("%v", s)
}

func (iso *Isolate) reportUncaught(err error) {
	if iso.Err() != nil {
		return
	}
	iso.logf("error", "Uncaught "+errorText(err))
}

// detectStall fails requests that wait on nothing: no timer, no host
// operation and no queued work can ever settle their promises. workerd does
// the same, with the same message.
func (iso *Isolate) detectStall() {
	if len(iso.inflight)+len(iso.calls) == 0 || len(iso.timers) > 0 || iso.pendingOps > 0 || len(iso.syncing) > 0 || iso.Err() != nil {
		return
	}
	iso.mu.Lock()
	queued := len(iso.queue)
	iso.mu.Unlock()
	if queued > 0 {
		return
	}
	for _, req := range iso.inflight {
		if !req.responded {
			iso.failRequest(req, errNeverResponds)
		}
	}
	iso.failCalls(errNeverResponds)
}

var errNeverResponds = errors.New("The script will never generate a response.")

func (iso *Isolate) shutdown() {
	err := iso.Err()
	for _, req := range iso.inflight {
		iso.failRequest(req, err)
	}
	for id, b := range iso.bodies {
		b.close()
		delete(iso.bodies, id)
	}
	iso.failCalls(err)
	iso.stopActors()
	iso.closeWebSockets()
	if iso.sockets != nil {
		iso.sockets.closeAll()
	}
	iso.closeWasm()
	iso.stopWorkflowRuns(err)
	if iso.gate != nil {
		close(iso.gate) // the goroutines waiting on it see the isolate dead
		iso.gate = nil
	}
	for _, b := range iso.syncing {
		if b.gate != nil {
			close(b.gate)
		}
	}
	iso.syncing = nil
	iso.releaseAllHandles()
	iso.releaseOps()
	if iso.rejections != nil {
		iso.rejections.Close()
	}
	iso.stopProfile()
	held := []quickjs.Value{iso.dispatch}
	if iso.settlersSet {
		held = append(held, iso.settleCall, iso.settleFetch)
	}
	if iso.rejectionHandlerSet {
		held = append(held, iso.rejectionHandler)
	}
	if iso.wsTakerSet {
		held = append(held, iso.wsTaker)
	}
	jsvm.Close(iso.vm, held...)
}

// Memory reports the engine's heap size for this isolate. It must not race
// with the loop, so it runs there.
func (iso *Isolate) Memory() (jsvm.MemoryUsage, error) { return iso.memoryBefore(nil) }

// errBusy is memoryBefore's answer when the loop did not get to the
// measurement in time.
var errBusy = errors.New("the isolate is busy")

// memoryBefore is Memory, giving up with errBusy when deadline fires first
// (a nil deadline never fires).
func (iso *Isolate) memoryBefore(deadline <-chan time.Time) (jsvm.MemoryUsage, error) {
	ch := make(chan jsvm.MemoryUsage, 1)
	if !iso.postQuiet(func() { ch <- jsvm.Memory(iso.vm) }) {
		return jsvm.MemoryUsage{}, iso.Err()
	}
	select {
	case m := <-ch:
		return m, nil
	case <-iso.done:
		return jsvm.MemoryUsage{}, iso.Err()
	case <-deadline:
		return jsvm.MemoryUsage{}, errBusy
	}
}

// CollectGarbage runs the engine's cycle collector on the loop.
func (iso *Isolate) CollectGarbage() error {
	ch := make(chan struct{})
	if !iso.postQuiet(func() { jsvm.RunGC(iso.vm); close(ch) }) {
		return iso.Err()
	}
	select {
	case <-ch:
		return nil
	case <-iso.done:
		return iso.Err()
	}
}

// ---- timers ----

type timerEntry struct {
	id     int
	at     time.Time
	every  time.Duration
	repeat bool
	seq    uint64 // scheduling order breaks ties between equal deadlines
	index  int
}

type timerHeap []*timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *timerHeap) Push(x any)   { t := x.(*timerEntry); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (iso *Isolate) timerStart(id int, ms float64, repeat bool) {
	if ms < 0 {
		ms = 0
	}
	d := time.Duration(ms * float64(time.Millisecond))
	if repeat && d < time.Millisecond {
		d = time.Millisecond // an interval of 0 must not spin the loop
	}
	iso.timerSeq++
	t := &timerEntry{id: id, at: time.Now().Add(d), every: d, repeat: repeat, seq: iso.timerSeq}
	iso.timerByID[id] = t
	heap.Push(&iso.timers, t)
}

func (iso *Isolate) timerStop(id int) {
	t, ok := iso.timerByID[id]
	if !ok {
		return
	}
	delete(iso.timerByID, id)
	heap.Remove(&iso.timers, t.index)
}

// HandleCount is how many capabilities the isolate's JavaScript holds
// handles to (stubs, bindings, steps): a diagnostic, and what tests check
// to catch handles that are never released.
func (iso *Isolate) HandleCount() int {
	ch := make(chan int, 1)
	if !iso.postQuiet(func() { ch <- len(iso.handles) }) {
		return 0
	}
	select {
	case n := <-ch:
		return n
	case <-iso.done:
		return 0
	}
}
