package runtime

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// WebSockets (the "ws" host group; the prelude's half is 63_websocket.js).
//
// A WebSocketPair is a wsPipe: two ends, each what one WebSocket object
// holds. What one end sends arrives at the other. An end is held by
// JavaScript in one isolate (owner), by a Durable Object that accepted it
// for hibernation (actor: its events go through the object's mailbox, and
// the object may be evicted meanwhile), or by the network (net: the end a
// worker answered an upgrade with; what the client sends arrives as if this
// end had sent it). An end crosses isolates only before it is used, inside
// a Response (a fetch through a stub), as workerd allows.
//
// Ends are numbered process-wide, but every host function checks that the
// calling isolate holds the end: a number guessed from another tenant's
// range is refused like a closed socket.
//
// Events reach an isolate's JavaScript by pull (host.wsNext). One that an
// isolate's own code caused (a pair's two ends in one isolate) is settled
// on that loop after the turn's jobs and before its timers (Isolate.soon),
// as workerd delivers it: a task queued before a setTimeout(0) runs first.
//
// Lock order: actor.mu before wsPipe.mu (servesSocketsLocked); nothing is
// locked under wsPipe.mu. Deliveries to an actor's mailbox or another
// isolate's loop are made after it is released.

// wsMaxQueued bounds the bytes waiting at an end nobody reads yet (not
// accepted, or JavaScript slower than the client): past it the connection is
// closed with 1009, so a client cannot grow the process without bound.
const wsMaxQueued = 64 << 20

// wsMaxQueuedIsolate bounds the bytes waiting at all the ends one isolate
// holds: a worker could otherwise queue wsMaxQueued at each of its pairs.
const wsMaxQueuedIsolate = 128 << 20

// wsMaxMessage is the largest message a client may send (Cloudflare's
// limit); a longer one is read (up to wsReadLimit) only to be counted for
// the error, as workerd reports its size.
const (
	wsMaxMessage = 32 << 20
	wsReadLimit  = 2 * wsMaxMessage
)

// wsMaxOpen bounds the ends an isolate's JavaScript holds at once (pairs
// made and not yet closed or collected): they are Go memory, outside the
// isolate's limit. Cloudflare bounds an object's hibernated sockets alike.
const wsMaxOpen = 32768

const tooManyWebSockets = "RangeError: Too many WebSockets open in this worker (32768); close some first."

// wsDropped is the close reason of a client gone without a close frame.
const wsDropped = "WebSocket disconnected without sending Close frame."

const (
	wsText   = 1
	wsBinary = 2
	wsClosed = 3
	wsError  = 4 // text: the message; clean: nothing follows it
	wsOpen   = 5 // a connection the isolate opened is open; text: its protocol
)

// wsEvent is what arrives at an end: a message, the peer's close, or an
// error (text holds its message).
type wsEvent struct {
	kind   int
	text   string
	data   []byte
	code   int
	reason string
	clean  bool
	// ready: its delivery, a task of its own, has run; wsNext gives no
	// event before that (deliverLocked).
	ready bool
	// charged: the isolate tally (Isolate.wsQueued) its bytes count in
	// while it waits in a queue.
	charged *atomic.Int64
}

func (e wsEvent) size() int { return len(e.text) + len(e.data) }

type wsPipe struct {
	mu   sync.Mutex
	ends [2]*wsEnd
}

type wsEnd struct {
	id   int64
	pipe *wsPipe
	side int

	// guarded by pipe.mu
	owner    *Isolate // the isolate whose JavaScript holds it
	actor    *actor   // accepted for hibernation by this object
	net      *wsNet   // attached to a client connection
	accepted bool
	used     bool // accepted, sent on or attached: it may no longer cross isolates
	sentEnd  bool // this end's close went out
	gotEnd   bool // the peer's close arrived
	gone     bool // nobody holds it any more
	// handled: a hibernated end's webSocketClose (or webSocketError) has
	// run; until then the object still lists it and may read it.
	handled bool
	// orphan: its object was collected while its peer lives elsewhere.
	orphan   bool
	received int // messages that arrived
	queue    []wsEvent
	queued   int     // bytes in queue
	wake     *wsWake // a pending wsNext
	tags     []string
	attach   *Message // serializeAttachment's value
	autoAt   int64    // when the auto-response last answered (ms), 0 if never
}

// wsWake settles a pending wsNext: now on its isolate's loop, later from
// anywhere.
type wsWake struct {
	iso        *Isolate
	now, later func()
}

var (
	wsNextID atomic.Int64
	wsAll    sync.Map // id -> *wsEnd
)

func newWSPipe(owner *Isolate) *wsPipe {
	p := &wsPipe{}
	for i := range p.ends {
		e := &wsEnd{id: wsNextID.Add(1), pipe: p, side: i, owner: owner}
		p.ends[i] = e
		wsAll.Store(e.id, e)
		owner.holdWebSocket(e)
	}
	return p
}

// holdWebSocket records that iso's JavaScript holds e (the map is made on
// first use: most isolates never hold one).
func (iso *Isolate) holdWebSocket(e *wsEnd) {
	if iso.wsOwned == nil {
		iso.wsOwned = map[*wsEnd]struct{}{}
	}
	iso.wsOwned[e] = struct{}{}
}

func (e *wsEnd) peer() *wsEnd { return e.pipe.ends[1-e.side] }

// wsEndOf finds the end id for iso's JavaScript: one it holds, or one an
// object living in iso accepted for hibernation.
func (iso *Isolate) wsEndOf(id int64) *wsEnd {
	v, ok := wsAll.Load(id)
	if !ok {
		return nil
	}
	e := v.(*wsEnd)
	e.pipe.mu.Lock()
	owner, a := e.owner, e.actor
	e.pipe.mu.Unlock()
	if owner == iso {
		return e
	}
	if a != nil {
		a.mu.Lock()
		live := a.iso
		a.mu.Unlock()
		if live == iso {
			return e
		}
	}
	return nil
}

// deliverLocked hands ev, sent by from, to from's peer. caller is the
// isolate on whose loop this runs, if any. Called with pipe.mu held; it
// returns what to do once the lock is released.
func (from *wsEnd) deliverLocked(ev wsEvent, caller *Isolate) func() {
	to := from.peer()
	if to.gone {
		return nil
	}
	switch ev.kind {
	case wsClosed:
		to.gotEnd = true
	case wsText, wsBinary:
		to.received++
	}
	switch {
	case to.net != nil:
		n := to.net
		return func() { n.send(ev) }
	case to.actor != nil && to.accepted:
		a := to.actor
		if auto := a.auto.Load(); auto != nil && ev.kind == wsText && ev.text == auto.request {
			// The auto-response answers without waking the object.
			to.autoAt = time.Now().UnixMilli()
			return to.deliverLocked(wsEvent{kind: wsText, text: auto.response}, caller)
		}
		sent := to.sentEnd
		return func() { a.webSocketEvent(to, ev, sent) }
	}
	var tally *atomic.Int64
	if to.owner != nil {
		tally = &to.owner.wsQueued
	}
	size := int64(ev.size())
	if ev.kind != wsClosed && (to.queued+ev.size() > wsMaxQueued || tally != nil && tally.Load()+size > wsMaxQueuedIsolate) {
		// Nobody reads this end fast enough: give up on the connection.
		ev = wsEvent{kind: wsClosed, code: 1009, reason: "Too much data queued", clean: false, ready: true}
		to.gotEnd = true
		f := from.deliverBackLocked(ev)
		to.queue = append(to.queue, ev)
		return joinFns(f, to.wakeLocked(caller))
	}
	// Each delivery is a task, in the order of the sends: one from
	// elsewhere arrives as one (a post), and one this loop's code made is
	// one of the loop's soon tasks, which makes the k-th unready event
	// ready (so two ends of a pair in one isolate hear each other in the
	// order they spoke, after the microtasks of the sending turn).
	local := caller != nil && to.owner == caller
	ev.ready = !local
	if to.orphan {
		return nil // nobody will read it
	}
	ev.charged = tally
	if tally != nil {
		tally.Add(size)
	}
	to.queue = append(to.queue, ev)
	to.queued += ev.size()
	if local {
		return func() {
			caller.soon = append(caller.soon, func() {
				to.pipe.mu.Lock()
				for i := range to.queue {
					if !to.queue[i].ready {
						to.queue[i].ready = true
						break
					}
				}
				var wake func()
				if w := to.wake; w != nil && to.accepted {
					to.wake = nil
					wake = w.now
				}
				to.pipe.mu.Unlock()
				run(wake)
			})
		}
	}
	if !to.accepted {
		return nil
	}
	return to.wakeLocked(caller)
}

// deliverBackLocked tells from's own holder that its connection is over.
func (from *wsEnd) deliverBackLocked(ev wsEvent) func() {
	if from.net != nil {
		n := from.net
		return func() { n.send(ev) }
	}
	return nil
}

// clearQueueLocked empties e's queue (its events are gone, or taken
// elsewhere by the caller), and takes their bytes off their tally.
func (e *wsEnd) clearQueueLocked() {
	for _, ev := range e.queue {
		ev.uncharge()
	}
	e.queue, e.queued = nil, 0
}

func (ev wsEvent) uncharge() {
	if ev.charged != nil {
		ev.charged.Add(-int64(ev.size()))
	}
}

func (e *wsEnd) wakeLocked(caller *Isolate) func() {
	w := e.wake
	if w == nil {
		return nil
	}
	e.wake = nil
	if w.iso == caller {
		return func() { caller.soon = append(caller.soon, w.now) }
	}
	return w.later
}

func joinFns(fs ...func()) func() {
	return func() {
		for _, f := range fs {
			if f != nil {
				f()
			}
		}
	}
}

func run(f func()) {
	if f != nil {
		f()
	}
}

// forgetLocked drops the pipe from the table once both ends are done.
func (e *wsEnd) forgetLocked() {
	p := e.peer()
	done := func(x *wsEnd) bool {
		if x.actor != nil {
			return x.gone || x.handled
		}
		return x.gone || (x.orphan && x.gotEnd) || (x.sentEnd && x.gotEnd && len(x.queue) == 0)
	}
	if done(e) && done(p) {
		wsAll.Delete(e.id)
		wsAll.Delete(p.id)
	}
}

// dropLocked forgets e: its holder is gone (an isolate died). The peer sees
// the connection end abnormally.
func (e *wsEnd) dropLocked() func() {
	if e.gone {
		return nil
	}
	var f func()
	if !e.sentEnd {
		e.sentEnd = true
		f = e.deliverLocked(wsEvent{kind: wsClosed, code: 1006, reason: wsDropped, clean: false}, nil)
	}
	e.gone = true
	e.clearQueueLocked()
	e.owner = nil
	if w := e.wake; w != nil {
		e.wake = nil
		f = joinFns(f, w.later)
	}
	e.forgetLocked()
	return f
}

// closeWebSockets ends every socket end iso's JavaScript holds; called as
// the isolate shuts down.
func (iso *Isolate) closeWebSockets() {
	for e := range iso.wsOwned {
		e.pipe.mu.Lock()
		var f func()
		if e.owner == iso {
			f = e.dropLocked()
		}
		e.pipe.mu.Unlock()
		run(f)
	}
	iso.wsOwned = nil
}

// ---- hibernation ----

// wsAutoResponse is an object's setWebSocketAutoResponse pair.
type wsAutoResponse struct{ request, response string }

// webSocketEvent delivers ev, arrived at the hibernated end e, to its
// object's handler (webSocketMessage, webSocketClose, webSocketError)
// through the mailbox: the object wakes if it was evicted. sent says
// whether e had sent its own close.
func (a *actor) webSocketEvent(e *wsEnd, ev wsEvent, sent bool) {
	id := strconv.FormatInt(e.id, 10)
	var method string
	var args Message
	switch ev.kind {
	case wsText:
		method, args.JSON = "webSocketMessage", "["+id+","+jsonString(ev.text)+"]"
	case wsBinary:
		method, args.JSON = "webSocketMessage", "["+id+`,{"$":"A","i":0}]`
		args.Bufs = [][]byte{ev.data}
	case wsClosed:
		method = "webSocketClose"
		args.JSON = "[" + id + "," + strconv.Itoa(ev.code) + "," + jsonString(ev.reason) + "," + strconv.FormatBool(ev.clean) + "," + strconv.FormatBool(sent) + "]"
	case wsError:
		method, args.JSON = "webSocketError", "["+id+","+jsonString(ev.text)+"]"
	default:
		return
	}
	a.mu.Lock()
	gen := a.gen
	a.mu.Unlock()
	a.enqueue(&mail{kind: "websocket", gen: gen, c: &Call{Path: []string{method}, Op: "call", Args: args, Reply: func(m Message, err error) {
		if err != nil {
			a.sys.opts.Log("error", "Durable Object "+a.describe()+": "+method+" failed: "+callErrorText(err))
		}
	}}})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hibernated lists the ends the object accepted for hibernation, oldest
// first.
func (a *actor) hibernated() []*wsEnd {
	a.mu.Lock()
	out := make([]*wsEnd, 0, len(a.sockets))
	for e := range a.sockets {
		out = append(out, e)
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y *wsEnd) int { return int(x.id - y.id) })
	return out
}

// servesSocketsLocked reports whether the instance holds an open socket it
// accepted without hibernation (evicting it would cut the client off).
// Called with a.mu held.
func (a *actor) servesSocketsLocked() bool {
	for e := range a.answered {
		e.pipe.mu.Lock()
		open := !e.gone && !(e.sentEnd && e.gotEnd)
		hibernated := e.actor != nil
		e.pipe.mu.Unlock()
		if open && !hibernated {
			return true
		}
		delete(a.answered, e)
	}
	return false
}
