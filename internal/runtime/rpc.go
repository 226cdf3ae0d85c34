package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// Workers RPC between isolates.
//
// A value crossing isolates is a Message: tagged JSON made by the prelude's
// encoder (65_rpc.js), the binary buffers it refers to by index, and the
// capabilities it refers to by index. A capability is anything that can be
// called: a worker's entrypoint, a function or RpcTarget that stays in the
// isolate that made it, a Worker Loader. JavaScript never sees a Target; it
// holds a handle, an index into its isolate's handle table, and Go translates
// handles into Targets and back as messages cross.

// Message is one value in flight between isolates.
type Message struct {
	JSON string
	Caps []Target
	Bufs [][]byte
	// Response, when not nil, is the whole message: the Response a fetch()
	// through a stub was answered with, in HTTP's terms (stubfetch.go).
	Response *FetchResponse
}

// Call is one invocation of a Target.
type Call struct {
	Path []string // property path from the target to the member called or read
	Op   string   // "call" or "get"
	Args Message  // for "call": the argument list
	// Reply receives the result, or an error. A *ThrownError carries an
	// exception thrown by the callee, to be rethrown in the caller.
	// errAbandoned means no answer will ever come: the caller drops its
	// promise unsettled.
	Reply func(Message, error)
	// Fetch, when not nil, makes the call a fetch() through a stub: the
	// request travels in HTTP's terms instead of in Args (stubfetch.go).
	Fetch *FetchRequest

	// A caller may abandon a call that must never be answered (a workflow
	// run that ended while the call was out); the callee then forgets it.
	abandonable bool // set before Invoke
	abandonMu   sync.Mutex
	abandoned   bool
	onAbandon   func()
}

// errAbandoned answers a call that will never be answered: the promise
// waiting for it is dropped without settling, as the code awaiting it must
// never resume (a workflow run that was suspended or ended; workflow.go).
var errAbandoned = errors.New("isola: call abandoned")

// Abandon tells the callee to forget c.
func (c *Call) Abandon() {
	c.abandonMu.Lock()
	c.abandoned = true
	f := c.onAbandon
	c.onAbandon = nil
	c.abandonMu.Unlock()
	if f != nil {
		f()
	}
}

// whenAbandoned registers f to run if c is abandoned; false if it already is.
func (c *Call) whenAbandoned(f func()) bool {
	c.abandonMu.Lock()
	defer c.abandonMu.Unlock()
	if c.abandoned {
		return false
	}
	c.onAbandon = f
	return true
}

// ThrownError is an exception raised by the callee, encoded as a Message so
// that its class, message and extra properties survive.
type ThrownError struct{ Value Message }

func (e *ThrownError) Error() string { return "remote exception: " + e.Value.JSON }

// Target is something calls can be delivered to.
type Target interface {
	// Kind tells the prelude what stub to make: "fetcher" (an entrypoint:
	// fetch() and RPC methods), "function", "object" (an RpcTarget),
	// "loader" (a Worker Loader binding).
	Kind() string
	// Invoke delivers c. It must not block; c.Reply is called later, from any
	// goroutine, exactly once.
	Invoke(c *Call)
}

// orderedTarget is implemented by targets that must receive calls in the
// order they were made. enqueue must not block; the call is delivered once
// gate (if not nil) is closed.
type orderedTarget interface {
	enqueue(from *Isolate, c *Call, gate <-chan struct{})
}

// releaser is implemented by targets that count their holders.
type releaser interface {
	retain()
	release()
}

// ---- handle tables (loop goroutine only) ----

func (iso *Isolate) addHandle(t Target) int {
	if iso.handles == nil {
		iso.handles = map[int]Target{}
	}
	if r, ok := t.(releaser); ok {
		r.retain()
	}
	iso.nextHandle++
	iso.handles[iso.nextHandle] = t
	return iso.nextHandle
}

func (iso *Isolate) releaseHandle(h int) {
	t, ok := iso.handles[h]
	if !ok {
		return
	}
	delete(iso.handles, h)
	if r, ok := t.(releaser); ok {
		r.release()
	}
}

func (iso *Isolate) releaseAllHandles() {
	for h := range iso.handles {
		iso.releaseHandle(h)
	}
}

type capIn struct {
	H int    `json:"h,omitempty"` // an existing handle
	E int    `json:"e,omitempty"` // an object this isolate exports
	K string `json:"k,omitempty"` // its kind, for exports
}

// exportCaps turns the capability list the prelude wrote into Targets.
func (iso *Isolate) exportCaps(capsJSON string) ([]Target, error) {
	if capsJSON == "" || capsJSON == "[]" {
		return nil, nil
	}
	var caps []capIn
	if err := json.Unmarshal([]byte(capsJSON), &caps); err != nil {
		return nil, err
	}
	out := make([]Target, len(caps))
	for i, c := range caps {
		switch {
		case c.H != 0:
			t, ok := iso.handles[c.H]
			if !ok {
				return nil, errors.New("Attempted to use RPC stub after it has been disposed.")
			}
			out[i] = t
		case c.E != 0:
			out[i] = &exportTarget{iso: iso, id: c.E, kind: c.K}
		default:
			return nil, fmt.Errorf("bad capability %+v", c)
		}
	}
	return out, nil
}

// importCaps gives this isolate handles for targets and describes them for
// the prelude's decoder.
func (iso *Isolate) importCaps(ts []Target) string {
	if len(ts) == 0 {
		return "[]"
	}
	b := make([]byte, 0, 24*len(ts))
	b = append(b, '[')
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"h":`...)
		b = strconv.AppendInt(b, int64(iso.addHandle(t)), 10)
		b = append(b, `,"k":`...)
		b = appendJSONString(b, t.Kind())
		b = append(b, '}')
	}
	return string(append(b, ']'))
}

// parsePath reads a call's path as the prelude writes it: most are one
// plain name, read without encoding/json.
func parsePath(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil
	}
	if len(s) > 4 && strings.HasPrefix(s, `["`) && strings.HasSuffix(s, `"]`) {
		name := s[2 : len(s)-2]
		if !strings.ContainsAny(name, `"\`) {
			return []string{name}, nil
		}
	}
	var path []string
	err := json.Unmarshal([]byte(s), &path)
	return path, err
}

// pathJSON is a call's path as the prelude reads it.
func pathJSON(path []string) string {
	if len(path) == 0 {
		return "[]"
	}
	b := make([]byte, 0, 16*len(path))
	b = append(b, '[')
	for i, name := range path {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
	}
	return string(append(b, ']'))
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func buffersOf(vals []quickjs.Value) [][]byte {
	if len(vals) == 0 {
		return nil
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i], _ = jsvm.ArrayBufferBytes(v)
	}
	return out
}

// messageArgs lays a message out as dispatch arguments: JSON, caps, then one
// ArrayBuffer per buffer. The returned values must be freed after the call.
func (iso *Isolate) messageArgs(m Message) ([]any, []quickjs.Value) {
	args := []any{m.JSON, iso.importCaps(m.Caps)}
	var free []quickjs.Value
	for _, b := range m.Bufs {
		v := jsvm.NewArrayBuffer(iso.vm, b)
		free = append(free, v)
		args = append(args, v)
	}
	return args, free
}

// ---- calling out: host.rpcCall ----

// rpcCall sends a call from JavaScript to the target behind handle. The
// prelude's rpcSettleCall settles the promise from the reply's parts
// ([ok, json, caps, ...bufs]).
func (iso *Isolate) rpcCall(handle int, pathJSON, op, argsJSON, capsJSON string, bufs []quickjs.Value) quickjs.Value {
	t, ok := iso.handles[handle]
	path, err := parsePath(pathJSON)
	var caps []Target
	if err == nil && ok {
		caps, err = iso.exportCaps(capsJSON)
	}
	if !ok && err == nil {
		err = errors.New("Attempted to use RPC stub after it has been disposed.")
	}
	call := &Call{Path: path, Op: op, Args: Message{JSON: argsJSON, Caps: caps, Bufs: buffersOf(bufs)}}
	return iso.startCall(t, call, err)
}

// startCall sends call (made by JavaScript) to t and returns the promise its
// reply settles; err, when not nil, fails the call at once.
func (iso *Isolate) startCall(t Target, call *Call, err error) quickjs.Value {
	caps := call.Args.Caps
	// Keep the argument capabilities alive until the call has been delivered.
	for _, c := range caps {
		if r, ok := c.(releaser); ok {
			r.retain()
		}
	}
	gate := iso.outputGate()
	var promise quickjs.Value
	var complete func(func() quickjs.Value, error)
	var completeWith func(func() ([]any, func()))
	switch {
	case !iso.settlersSet:
		promise, complete = iso.pending()
	case call.Fetch != nil:
		promise, complete, completeWith = iso.pendingWith(iso.settleFetch, call.Fetch.URL)
	default:
		promise, complete, completeWith = iso.pendingWith(iso.settleCall, "")
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		for _, c := range caps {
			if r, ok := c.(releaser); ok {
				r.release()
			}
		}
	}
	if err != nil {
		release()
		call.Fetch.discard()
		complete(nil, err)
		return promise
	}
	// The reply settles the promise directly (posted to this loop): no
	// goroutine sits waiting for it.
	handedOff := false
	call.Reply = func(m Message, callErr error) {
		release()            // the callee has the call (and its capabilities) now
		call.Fetch.discard() // a request body never delivered
		if handedOff {
			// Before the reply settles anything here (posts run in order).
			iso.post(func() { iso.handoffDone(call, callErr) })
		}
		var thrown *ThrownError
		if callErr != nil && !errors.As(callErr, &thrown) {
			m.Response.discard()
			complete(nil, callErr)
			return
		}
		if m.Response != nil {
			if completeWith != nil {
				completeWith(func() ([]any, func()) { return iso.responseArgs(m.Response) })
				return
			}
			complete(func() quickjs.Value { return iso.packResponse(m.Response) }, nil)
			return
		}
		msg, ok := m, true
		if thrown != nil {
			msg, ok = thrown.Value, false
		}
		if completeWith != nil && call.Fetch == nil {
			// The reply's parts, [ok, json, caps, ...bufs], as arguments.
			completeWith(func() ([]any, func()) {
				args, free := iso.messageArgs(msg)
				return append([]any{ok}, args...), func() {
					for i := range free {
						free[i].Free()
					}
				}
			})
			return
		}
		complete(func() quickjs.Value {
			args, free := iso.messageArgs(msg)
			defer func() {
				for i := range free {
					free[i].Free()
				}
			}()
			v, err := iso.callValue("rpcPack", append([]any{ok}, args...)...)
			if err != nil {
				return quickjs.UndefinedValue
			}
			return v
		}, nil)
	}
	handedOff = iso.noteStepHandoff(t, call, caps, complete)
	// A Durable Object receives the calls made through one stub in the
	// order they were made (workerd's E-order): they are queued now, on
	// the loop.
	if ot, ok := t.(orderedTarget); ok {
		ot.enqueue(iso, call, gate)
		return promise
	}
	// Invoke must not block, and delivering to a live isolate is a post:
	// do it here, which saves a goroutine and a wake-up per call. A worker
	// without a live isolate would start one in Invoke, which takes a
	// while: that is left to a goroutine, as is waiting for the gate.
	if gate == nil && invokesWithoutBlocking(t) {
		t.Invoke(call)
		return promise
	}
	go func() {
		if gate != nil {
			<-gate
			if err := iso.Err(); err != nil {
				call.Reply(Message{}, err)
				return
			}
		}
		t.Invoke(call)
	}()
	return promise
}

// invokesWithoutBlocking reports whether t.Invoke only posts to a live
// isolate.
func invokesWithoutBlocking(t Target) bool {
	switch t := t.(type) {
	case *exportTarget:
		return true
	case *EntryTarget:
		return t.Worker.hasLiveIsolate()
	}
	return false
}

// ---- being called: delivering a Call into this isolate ----

// deliver runs on the loop: it hands c to the prelude, which finds the
// receiver described by target (JSON), invokes it and answers through
// rpcReturn or rpcThrow.
func (iso *Isolate) deliver(c *Call, target string) {
	if iso.calls == nil {
		iso.calls = map[int]*Call{}
	}
	iso.nextCall++
	id := iso.nextCall
	// A call that handed over a workflow step can be abandoned by its
	// caller: forget it then, without answering.
	if c.abandonable && !c.whenAbandoned(func() { iso.post(func() { iso.forgetCall(id) }) }) {
		return
	}
	iso.calls[id] = c
	if c.Fetch != nil {
		iso.deliverFetch(id, c.Fetch, target)
		return
	}
	path := pathJSON(c.Path)
	args, free := iso.messageArgs(c.Args)
	_, err := iso.call("rpcInvoke", append([]any{id, target, path, c.Op}, args...)...)
	for i := range free {
		free[i].Free()
	}
	// The callee's code runs inside this call: a limit it hit has ended the
	// isolate, and shutdown fails the call with the limit's message.
	if err != nil && iso.Err() == nil {
		iso.finishCall(id, Message{}, err)
	}
}

func (iso *Isolate) finishCall(id int, m Message, err error) {
	c, ok := iso.calls[id]
	if !ok {
		return
	}
	delete(iso.calls, id)
	c.Reply(m, err)
}

// forgetCall drops a call its caller abandoned: whatever the code serving
// it does later answers nobody.
func (iso *Isolate) forgetCall(id int) {
	delete(iso.calls, id)
}

// rpcReply is host.rpcReturn and host.rpcThrow.
func (iso *Isolate) rpcReply(id int, thrown bool, json, capsJSON string, bufs []quickjs.Value) {
	caps, err := iso.exportCaps(capsJSON)
	if err != nil {
		iso.finishCall(id, Message{}, err)
		return
	}
	m := Message{JSON: json, Caps: caps, Bufs: buffersOf(bufs)}
	if thrown && strings.HasPrefix(json, `{"$":"E","n":"InternalError"`) {
		// A limit hit inside the callee: the isolate is not to be trusted,
		// and the caller hears which limit (shutdown fails the call).
		var e struct {
			M string `json:"m"`
		}
		if jsonUnmarshal(json, &e) == nil && iso.checkFatalText("InternalError: "+e.M) {
			return
		}
	}
	// The output gate: a reply must not tell anyone of writes that could
	// still be lost.
	iso.hold(func() {
		if thrown {
			iso.finishCall(id, Message{}, &ThrownError{m})
			return
		}
		iso.finishCall(id, m, nil)
	})
}

// failCalls answers every call still being served when the isolate dies.
func (iso *Isolate) failCalls(err error) {
	for id := range iso.calls {
		iso.finishCall(id, Message{}, err)
	}
}

// ---- targets ----

// exportTarget is a function or RpcTarget that lives in iso and has been
// handed to other isolates (or back to iso itself).
type exportTarget struct {
	iso  *Isolate
	id   int
	kind string

	mu   sync.Mutex
	refs int
}

func (t *exportTarget) Kind() string {
	if t.kind == "" {
		return "object"
	}
	return t.kind
}

func (t *exportTarget) Invoke(c *Call) {
	target := `{"kind":"export","id":` + strconv.Itoa(t.id) + `}`
	if !t.iso.post(func() { t.iso.deliver(c, target) }) {
		c.Reply(Message{}, errors.New("The RPC stub's isolate has gone away (it was evicted or hit a limit)."))
	}
}

func (t *exportTarget) retain() {
	t.mu.Lock()
	t.refs++
	t.mu.Unlock()
}

// release drops a holder; the last one lets the owning isolate forget the
// object, so callbacks handed out do not pile up for the isolate's life.
func (t *exportTarget) release() {
	t.mu.Lock()
	t.refs--
	last := t.refs == 0
	t.mu.Unlock()
	if last {
		t.iso.post(func() { t.iso.call("rpcDrop", t.id) })
	}
}

// EntryTarget is an entrypoint of a worker: its default export or a named
// WorkerEntrypoint, with the props its ctx.props will hold. Each call runs on
// a fresh instance, in whatever isolate the worker has live.
type EntryTarget struct {
	Worker *Worker
	Name   string   // "" for the default export
	Props  *Message // encoded props; nil for none

	once  sync.Once
	plain string // the target description when Props is nil
}

func (t *EntryTarget) Kind() string { return "fetcher" }

// target describes the entrypoint to the callee's prelude. Without props
// it is the same for every call, and made once.
func (t *EntryTarget) target(iso *Isolate) string {
	if t.Props == nil {
		t.once.Do(func() {
			t.plain = entryTargetJSON(t.Name, "", "[]")
		})
		return t.plain
	}
	return entryTargetJSON(t.Name, t.Props.JSON, iso.importCaps(t.Props.Caps))
}

func entryTargetJSON(name, props, propsCaps string) string {
	b := make([]byte, 0, 48+len(name)+len(props)+len(propsCaps))
	b = append(b, `{"kind":"entry","name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"props":`...)
	b = appendJSONString(b, props)
	b = append(b, `,"propsCaps":`...)
	b = appendJSONString(b, propsCaps)
	return string(append(b, '}'))
}

func (t *EntryTarget) Invoke(c *Call) {
	// An isolate evicted as idle between Isolate() and post() is replaced:
	// eviction must be invisible to callers.
	for attempt := 0; ; attempt++ {
		iso, err := t.Worker.Isolate()
		if err != nil {
			c.Reply(Message{}, err)
			return
		}
		if iso.post(func() { iso.deliver(c, t.target(iso)) }) {
			return
		}
		if err := iso.Err(); !errors.Is(err, ErrIsolateDead) || attempt == 2 {
			c.Reply(Message{}, err)
			return
		}
	}
}
