package runtime

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/jsvm"
	jsprelude "github.com/isola-run/isola/internal/runtime/js"
	"modernc.org/quickjs"
)

// The host functions below are the whole surface between the prelude and Go.
// 00_core.js takes them into its private `host` object (adoptHostFunctions)
// before any worker code runs.
//
// Asynchronous ones return a promise. Their work runs on another goroutine and
// the promise is settled back on the loop (never from another goroutine). A
// rejection carries the string "Name: message"; the prelude turns it into the
// right error class.
func (iso *Isolate) registerHost() error {
	if err := jsvm.SetHostReceiver(iso.vm, iso); err != nil {
		return err
	}
	return iso.registerFuncs(isolateHost)
}

// isolateHost is the host functions every isolate starts with, by name.
// Each takes its isolate as its first parameter (jsvm.SetHostReceiver)
// rather than closing over it: one set serves every isolate, and an
// isolate started from the snapshot binds them without making any
// (jsvm.HostBinding). Set in init: the functions lead back to registerHost.
var isolateHost map[string]any

func init() { isolateHost = isolateHostFuncs() }

func isolateHostFuncs() map[string]any {
	return map[string]any{
		// A logged error or stack names the worker's modules, as an uncaught
		// one does, not positions in the bundle.
		"log": func(iso *Isolate, level, text string) {
			if iso.script != nil {
				text = iso.script.SourceMap.MapText(text)
			}
			iso.logf(level, text)
		},
		"timerStart": func(iso *Isolate, id int, ms any, repeat bool) {
			iso.timerStart(id, number(ms), repeat)
		},
		"timerStop": func(iso *Isolate, id int) { iso.timerStop(id) },
		"now": func() float64 {
			return float64(time.Now().UnixNano()) / 1e6
		},
		"randomBytes": func(iso *Isolate, n int) quickjs.Value {
			b := make([]byte, n)
			rand.Read(b)
			return jsvm.NewArrayBuffer(iso.vm, b)
		},
		"crypto":  jsprelude.CryptoHost,
		"urlFast": jsprelude.URLFast,
		"respond": fastHost(6, func(iso *Isolate, a *jsvm.Args) any {
			return iso.respond(a.Int(0), a.Int(1), a.String(2), a.String(3), a.Value(4), a.Value(5))
		}),
		"fail": func(iso *Isolate, id int, text string) { iso.failFromJS(id, text) },
		"read": func(iso *Isolate, id int) quickjs.Value {
			return iso.readBody(id, false)
		},
		"readAll": func(iso *Isolate, id int) quickjs.Value {
			return iso.readBody(id, true)
		},
		"cancelBody": func(iso *Isolate, id int) {
			if b, ok := iso.bodies[id]; ok {
				b.close()
				delete(iso.bodies, id)
			}
		},
		"write": func(iso *Isolate, id int, chunk quickjs.Value) quickjs.Value {
			return iso.writeChunk(id, chunk)
		},
		"closeStream": func(iso *Isolate, id int, errText string) { iso.closeStream(id, errText) },
		"fetch": func(iso *Isolate, meta string, body quickjs.Value) quickjs.Value {
			return iso.fetch(meta, body)
		},
		// The host functions every request or RPC hop calls read their own
		// arguments (fastHost); the rest are converted by reflection.
		"rpcCall": fastHost(5, func(iso *Isolate, a *jsvm.Args) any {
			return iso.rpcCall(a.Int(0), a.String(1), a.String(2), a.String(3), a.String(4), a.Values(5))
		}),
		"rpcEncode": jsvm.EncodeRPC,
		"rpcDecode": jsvm.DecodeRPC,
		"rpcFetch": fastHost(5, func(iso *Isolate, a *jsvm.Args) any {
			return iso.rpcFetch(a.Int(0), a.String(1), a.String(2), a.String(3), a.Value(4))
		}),
		"rpcFetchReturn": fastHost(6, func(iso *Isolate, a *jsvm.Args) any {
			iso.rpcFetchReturn(a.Int(0), a.Int(1), a.String(2), a.String(3), a.Value(4), int64(a.Float(5)))
			return nil
		}),
		"rpcRelease": fastHost(1, func(iso *Isolate, a *jsvm.Args) any {
			iso.releaseHandle(a.Int(0))
			return nil
		}),
		"rpcReturn": fastHost(3, func(iso *Isolate, a *jsvm.Args) any {
			iso.rpcReply(a.Int(0), false, a.String(1), a.String(2), a.Values(3))
			return nil
		}),
		"rpcThrow": fastHost(3, func(iso *Isolate, a *jsvm.Args) any {
			iso.rpcReply(a.Int(0), true, a.String(1), a.String(2), a.Values(3))
			return nil
		}),
		// entry makes a stub handle for an entrypoint of the worker behind a
		// worker handle (a dynamic worker, or this worker for ctx.exports).
		"entry": func(iso *Isolate, workerHandle int, name, props, propsCaps string) int {
			ref, ok := iso.handles[workerHandle].(*workerRef)
			if !ok {
				return 0
			}
			t := &EntryTarget{Worker: ref.w, Name: name}
			if props != "" {
				caps, err := iso.exportCaps(propsCaps)
				if err != nil {
					return 0
				}
				t.Props = &Message{JSON: props, Caps: caps}
			}
			return iso.addHandle(t)
		},
		"loaderGet": func(iso *Isolate, handle int, id string) int { return iso.loaderGet(handle, id) },
		"loaderTouch": fastHost(3, func(iso *Isolate, a *jsvm.Args) any {
			return iso.loaderTouch(a.Int(0), a.String(1), a.Int(2))
		}),
		"loaderPut": fastHost(11, func(iso *Isolate, a *jsvm.Args) any {
			code, bufs, err := workerCodeOf(a)
			if err == nil {
				err = a.Err()
			}
			if err != nil {
				return iso.async(func() (func() quickjs.Value, error) { return nil, loadFailure(err) })
			}
			return iso.loaderPut(a.Int(0), a.String(1), code, a.String(9), bufs)
		}),
		// Durable Objects and their storage have groups of their own, registered
		// when an isolate first needs them (hostNeed in 00_core.js): every
		// function registered costs each isolate's start a little.
		// A group that fails to register is Isola's bug: returned, the error
		// would only be a string the prelude drops, so it is raised instead.
		"need": func(iso *Isolate, group string) {
			if err := iso.registerGroup(group); err != nil {
				panic(err)
			}
		},
		"rpcSettlers": func(iso *Isolate, call, fetch quickjs.Value) {
			if !iso.settlersSet {
				iso.settleCall, iso.settleFetch, iso.settlersSet = call.Dup(), fetch.Dup(), true
			}
		},
		// takeDispatch receives the function every event from Go goes through.
		"takeDispatch": func(iso *Isolate, fn quickjs.Value) {
			if !iso.dispatchSet {
				iso.dispatch, iso.dispatchSet = fn.Dup(), true
			}
		},
		// memoryTight tells the prelude whether the memory limit refused an
		// allocation in this turn, or the heap is near the limit: a null thrown
		// then is QuickJS failing to allocate its out-of-memory error, not a
		// value the code threw. The refusal is what tells when unwinding has
		// freed what filled the heap (a synchronous allocation loop); the size,
		// when the allocations are still alive (an async frame).
		"memoryTight": func(iso *Isolate) bool {
			return jsvm.AllocationRefused(iso.vm) || float64(jsvm.Memory(iso.vm).MallocSize) > 0.9*float64(iso.limits.Memory)
		},
	}
}

func (iso *Isolate) registerGroup(group string) error {
	if iso.groups[group] {
		return nil
	}
	fns := map[string]any{}
	switch group {
	case "storage":
		iso.storageHost(fns)
	case "actor":
		iso.actorHost(fns)
	case "workflow":
		iso.workflowHost(fns)
	case "stream":
		iso.streamHost(fns)
	case "ws":
		iso.wsHost(fns)
	case "sockets":
		iso.socketHost(fns)
	case "wasm":
		iso.wasmHost(fns)
	case "events":
		// The global scope's unhandledrejection and rejectionhandled
		// events (16_optional.js): drain calls fn(type, promise, reason).
		fns["rejectionHandler"] = func(iso *Isolate, fn quickjs.Value) {
			if !iso.rejectionHandlerSet {
				iso.rejectionHandler, iso.rejectionHandlerSet = fn.Dup(), true
			}
		}
	default:
		return fmt.Errorf("no host function group %q", group)
	}
	if err := iso.registerFuncs(fns); err != nil {
		return err
	}
	if iso.groups == nil {
		iso.groups = map[string]bool{}
	}
	iso.groups[group] = true
	return nil
}

// adoptHost is the global through which the prelude's adoptHostFunctions
// takes the functions made since its last call, as one object: made as
// globals, each would cost a definition and a deletion of a global property.
const adoptHost = "__isola_adopt"

func (iso *Isolate) adopt() quickjs.Value {
	if !iso.hostPending {
		v, _ := iso.vm.NewObjectValue()
		return v
	}
	iso.hostPending = false
	return iso.pendingHost
}

func (iso *Isolate) registerFuncs(fns map[string]any) error {
	vm := iso.vm
	if !iso.adoptRegistered {
		if err := jsvm.RegisterHost(vm, adoptHost, (*Isolate).adopt); err != nil {
			return fmt.Errorf("register adopt: %w", err)
		}
		iso.adoptRegistered = true
	}
	if !iso.hostPending {
		o, err := vm.NewObjectValue()
		if err != nil {
			return err
		}
		iso.pendingHost, iso.hostPending = o, true
	}
	// In a fixed order: an isolate cloned from a snapshot finds its
	// functions where its template's were (jsvm.NewSnapshot).
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		fn := fns[name]
		f, err := jsvm.NewHostFunc(vm, name, fn)
		if err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
		if err := jsvm.DefineProperty(iso.pendingHost, name, f); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}
	return nil
}

// number accepts what JavaScript passes for a number: QuickJS hands Go an int
// for small integers and a float64 otherwise.
func number(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// async runs work on its own goroutine and returns a promise that the loop
// settles with what work produced. result, when not nil, runs on the loop
// and builds the resolution value (it may create JS values).
func (iso *Isolate) async(work func() (result func() quickjs.Value, err error)) quickjs.Value {
	p, complete := iso.pending()
	go func() { complete(work()) }()
	return p
}

// fastHost makes fn a host function that reads its own arguments
// (jsvm.FastHost); arity is its length in JavaScript.
func fastHost(arity int, fn func(iso *Isolate, a *jsvm.Args) any) jsvm.FastHost {
	return jsvm.FastHost{Arity: arity, Fn: func(recv any, a *jsvm.Args) any { return fn(recv.(*Isolate), a) }}
}

// callFree calls f with arg, dropping the result: a promise's resolve and
// reject functions return nothing and, called once, throw nothing.
func callFree(f quickjs.Value, arg any) {
	if r, err := jsvm.Call(f, arg); err == nil {
		r.Free()
	}
}

// pending makes a promise for the prelude and the function that settles
// it, callable once from any goroutine: the settling itself is posted to
// the loop. It lets a reply that arrives by callback settle the promise
// without a goroutine waiting for it.
func (iso *Isolate) pending() (quickjs.Value, func(result func() quickjs.Value, err error)) {
	return iso.pendingVia(quickjs.Value{}, "")
}

// pendingVia is pending whose promise settle(resolve, reject, value, failed,
// extra) settles, where value is the result or the error's "Name: message":
// the prelude's own conversion of the result runs in the job that settles
// the promise instead of in a then() of its own. settle is not freed.
func (iso *Isolate) pendingVia(settle quickjs.Value, extra string) (quickjs.Value, func(result func() quickjs.Value, err error)) {
	p, complete, _ := iso.pendingWith(settle, extra)
	return p, complete
}

// pendingWith is pendingVia that can also settle with settle(resolve,
// reject, undefined, false, extra, args...) (completeWith, on the loop:
// args gives the arguments and what to free after the call), for a result
// the prelude builds from parts: one call into JavaScript, not one to make
// the value and another to settle with it.
func (iso *Isolate) pendingWith(settle quickjs.Value, extra string) (promise quickjs.Value, complete func(result func() quickjs.Value, err error), completeWith func(args func() ([]any, func()))) {
	pc, err := jsvm.NewPromiseCapability(iso.vm)
	if err != nil {
		panic(err) // out of memory: the host call throws
	}
	iso.pendingOps++
	via := settle.VM() != nil
	// parts, when not nil, gives the arguments settle takes after extra
	// (completeWith); result, the value it takes after reject.
	settled := func(result func() quickjs.Value, parts func() ([]any, func()), err error) {
		iso.pendingOps--
		if err == errAbandoned {
			// Never settled: what awaits it is garbage now.
		} else if via {
			var v any = quickjs.Undefined{}
			var more []any
			if err != nil {
				v = errorName(err) + ": " + errorText(err)
			} else if parts != nil {
				var free func()
				more, free = parts()
				if free != nil {
					defer free()
				}
			} else if result != nil {
				if r := result(); !r.IsUndefined() {
					defer r.Free()
					v = r
				}
			}
			if r, cerr := jsvm.Call(settle, append([]any{pc.Resolve, pc.Reject, v, err != nil, extra}, more...)...); cerr != nil {
				callFree(pc.Reject, "Error: "+cerr.Error())
			} else {
				r.Free()
			}
		} else if err != nil {
			callFree(pc.Reject, errorName(err)+": "+errorText(err))
		} else {
			// UndefinedValue belongs to no VM and cannot be passed as a
			// Value argument; quickjs.Undefined{} converts to undefined.
			var v quickjs.Value
			if result != nil {
				v = result()
			}
			if result == nil || v.IsUndefined() {
				callFree(pc.Resolve, quickjs.Undefined{})
			} else {
				callFree(pc.Resolve, v)
				v.Free()
			}
		}
		pc.Resolve.Free()
		pc.Reject.Free()
	}
	iso.trackOp(pc)
	post := func(result func() quickjs.Value, parts func() ([]any, func()), err error) {
		iso.post(func() {
			if iso.untrackOp(pc) {
				settled(result, parts, err)
			}
		}) // false: the isolate died; shutdown released pc
	}
	complete = func(result func() quickjs.Value, err error) { post(result, nil, err) }
	completeWith = func(parts func() ([]any, func())) { post(nil, parts, nil) }
	return pc.Promise, complete, completeWith
}

// pendingLocal makes a promise that settles with undefined: now settles it
// (on the loop, within the turn), later posts that (from anywhere). Either
// may be called more than once; the first settles.
func (iso *Isolate) pendingLocal() (promise quickjs.Value, now, later func()) {
	pc, err := jsvm.NewPromiseCapability(iso.vm)
	if err != nil {
		panic(err) // out of memory: the host call throws
	}
	iso.pendingOps++
	iso.trackOp(pc)
	now = func() {
		if !iso.untrackOp(pc) {
			return
		}
		iso.pendingOps--
		callFree(pc.Resolve, quickjs.Undefined{})
		pc.Resolve.Free()
		pc.Reject.Free()
	}
	later = func() { iso.post(now) }
	return pc.Promise, now, later
}

func (iso *Isolate) trackOp(pc *quickjs.PromiseCapability) {
	if iso.ops == nil {
		iso.ops = map[*quickjs.PromiseCapability]struct{}{}
	}
	iso.ops[pc] = struct{}{}
}

func (iso *Isolate) untrackOp(pc *quickjs.PromiseCapability) bool {
	if _, ok := iso.ops[pc]; !ok {
		return false
	}
	delete(iso.ops, pc)
	return true
}

func (iso *Isolate) releaseOps() {
	for pc := range iso.ops {
		pc.Resolve.Free()
		pc.Reject.Free()
	}
	iso.ops = nil
}

// errorName picks the JavaScript error class for a Go error.
func errorName(err error) string {
	var ne interface{ JSName() string }
	if errors.As(err, &ne) {
		return ne.JSName()
	}
	return "TypeError"
}

// ---- bodies read by JavaScript: incoming request bodies, fetch responses ----

type bodySource struct {
	r    io.ReadCloser
	once sync.Once
}

func (b *bodySource) close() { b.once.Do(func() { b.r.Close() }) }

func (iso *Isolate) addBody(r io.ReadCloser) int {
	iso.nextID++
	iso.bodies[iso.nextID] = &bodySource{r: r}
	return iso.nextID
}

const readChunk = 64 << 10

// readBody reads the next chunk (or, with all, everything) of a body. It
// resolves to an ArrayBuffer, or undefined at the end.
func (iso *Isolate) readBody(id int, all bool) quickjs.Value {
	b, ok := iso.bodies[id]
	return iso.async(func() (func() quickjs.Value, error) {
		if !ok {
			return nil, errors.New("This ReadableStream is disturbed (has already been read from), and cannot be used as a body.")
		}
		var data []byte
		var err error
		if all {
			data, err = io.ReadAll(b.r)
		} else {
			buf := make([]byte, readChunk)
			var n int
			n, err = b.r.Read(buf)
			data = buf[:n]
			if err == io.EOF && n > 0 {
				err = nil
			}
		}
		eof := all || err == io.EOF
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("Network connection lost.")
		}
		return func() quickjs.Value {
			if eof {
				b.close()
				delete(iso.bodies, id)
			}
			if eof && !all && len(data) == 0 {
				return quickjs.UndefinedValue
			}
			return jsvm.NewArrayBuffer(iso.vm, data)
		}, nil
	})
}
