package runtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
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
	if ev.kind != wsClosed && to.queued+ev.size() > wsMaxQueued {
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
	e.queue, e.queued, e.owner = nil, 0, nil
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

// ---- host functions ----

func (iso *Isolate) wsHost(fns map[string]any) {
	fns["wsTaker"] = func(iso *Isolate, fn quickjs.Value) {
		if !iso.wsTakerSet {
			iso.wsTaker, iso.wsTakerSet = fn.Dup(), true
		}
	}
	// wsPair gives the ids of a new pair's ends, or an error's text.
	fns["wsPair"] = func(iso *Isolate) any {
		if len(iso.wsOwned)+2 > wsMaxOpen {
			return tooManyWebSockets
		}
		p := newWSPipe(iso)
		return []any{int(p.ends[0].id), int(p.ends[1].id)}
	}
	// wsDrop forgets an end whose object was collected, if this isolate
	// still holds it: nobody can use it any more.
	fns["wsDrop"] = func(iso *Isolate, id int) {
		v, ok := wsAll.Load(int64(id))
		if !ok {
			return
		}
		e := v.(*wsEnd)
		e.pipe.mu.Lock()
		var f func()
		if e.owner == iso && e.actor == nil {
			if p := e.peer(); p.owner == iso || p.gone {
				// The whole pair is garbage.
				f = e.dropLocked()
			} else {
				// The peer went to a client or another isolate: as in
				// workerd, it stays open (and hears nothing); the end is
				// forgotten once the peer closes.
				e.owner, e.orphan = nil, true
				e.queue, e.queued = nil, 0
				e.forgetLocked()
			}
			delete(iso.wsOwned, e)
		}
		e.pipe.mu.Unlock()
		run(f)
	}
	fns["wsAccept"] = func(iso *Isolate, id int) string {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return "TypeError: Can't accept() WebSocket that was already used in a response."
		}
		e.pipe.mu.Lock()
		defer e.pipe.mu.Unlock()
		e.accepted, e.used = true, true
		return ""
	}
	// wsNext gives the end's next event as [kind, data, code, reason,
	// clean]; a promise that settles when one arrives (ask again then); or
	// null when the end is gone.
	fns["wsNext"] = fastHost(1, func(iso *Isolate, a *jsvm.Args) any {
		e := iso.wsEndOf(int64(a.Int(0)))
		if e == nil {
			return nil
		}
		e.pipe.mu.Lock()
		if len(e.queue) > 0 && e.queue[0].ready {
			ev := e.queue[0]
			e.queue[0] = wsEvent{}
			e.queue = e.queue[1:]
			e.queued -= ev.size()
			e.forgetLocked()
			e.pipe.mu.Unlock()
			return iso.wsEventValue(ev)
		}
		if e.gone {
			e.pipe.mu.Unlock()
			return nil
		}
		p, now, later := iso.pendingLocal()
		e.wake = &wsWake{iso: iso, now: now, later: later}
		e.pipe.mu.Unlock()
		return p
	})
	// wsTick is a promise settled after this turn's microtasks, with the
	// turn's other deliveries (Isolate.soon).
	fns["wsTick"] = func(iso *Isolate) quickjs.Value {
		p, now, _ := iso.pendingLocal()
		iso.soon = append(iso.soon, now)
		return p
	}
	// wsConnect opens a connection for new WebSocket(url): the end it
	// gives is the isolate's, the other goes to the connection once it is
	// open (an open event; or an error and a close if it cannot be).
	fns["wsConnect"] = func(iso *Isolate, url, protocolsJSON string) any {
		if len(iso.wsOwned)+1 > wsMaxOpen {
			return tooManyWebSockets
		}
		var protocols []string
		json.Unmarshal([]byte(protocolsJSON), &protocols)
		p := newWSPipe(iso)
		mine, far := p.ends[0], p.ends[1]
		mine.accepted = true
		far.owner, far.used = nil, true
		delete(iso.wsOwned, far)
		blocked := iso.outbound.Blocked || iso.outbound.Target != nil
		go dialWebSocket(far, url, protocols, blocked)
		return int(mine.id)
	}
	fns["wsSend"] = func(iso *Isolate, id int, data quickjs.Value) string {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return ""
		}
		ev := wsEvent{kind: wsText}
		x, _ := data.Any()
		if s, ok := x.(string); ok {
			ev.text = s
		} else if b, ok := jsvm.ArrayBufferBytes(data); ok {
			ev.kind, ev.data = wsBinary, append([]byte(nil), b...)
		} else {
			return "TypeError: Failed to execute 'send' on 'WebSocket': parameter 1 is not of type 'ArrayBuffer or ArrayBufferView or string'."
		}
		e.pipe.mu.Lock()
		if e.sentEnd {
			e.pipe.mu.Unlock()
			return ""
		}
		e.used = true
		f := e.deliverLocked(ev, iso)
		e.pipe.mu.Unlock()
		run(f)
		return ""
	}
	// wsSendClose sends the end's close. reply says it answers the peer's close
	// (workerd's automatic reply): on a pair, and on a connection that
	// carried messages, an error event then follows, as it does there; the
	// promise returned settles when it is due.
	fns["wsSendClose"] = func(iso *Isolate, id, code int, reason string, reply bool) quickjs.Value {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return quickjs.UndefinedValue
		}
		e.pipe.mu.Lock()
		if e.sentEnd {
			e.pipe.mu.Unlock()
			return quickjs.UndefinedValue
		}
		e.sentEnd, e.used = true, true
		f := e.deliverLocked(wsEvent{kind: wsClosed, code: code, reason: reason, clean: true}, iso)
		after := quickjs.UndefinedValue
		if reply && (e.peer().net == nil || e.received > 0) {
			p, now, _ := iso.pendingLocal()
			after = p
			f = joinFns(f, func() { iso.soon = append(iso.soon, now) })
		}
		e.forgetLocked()
		e.pipe.mu.Unlock()
		run(f)
		return after
	}
	fns["wsHibernate"] = func(iso *Isolate, id int, key int, tagsJSON string) string {
		var tags []string
		json.Unmarshal([]byte(tagsJSON), &tags)
		e := iso.wsEndOf(int64(id))
		a := iso.actorAt(key)
		if e == nil || a == nil {
			return "Error: Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been accepted or used in a Response."
		}
		e.pipe.mu.Lock()
		if e.accepted {
			e.pipe.mu.Unlock()
			return "Error: Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`"
		}
		if p := e.peer(); p.accepted || p.owner != iso || e.owner != iso {
			e.pipe.mu.Unlock()
			return "Error: Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been accepted or used in a Response."
		}
		e.accepted, e.used, e.actor, e.tags = true, true, a, tags
		e.owner = nil
		queued := e.queue
		e.queue, e.queued = nil, 0
		sent := e.sentEnd
		e.pipe.mu.Unlock()
		delete(iso.wsOwned, e)
		a.mu.Lock()
		if a.sockets == nil {
			a.sockets = map[*wsEnd]struct{}{}
		}
		a.sockets[e] = struct{}{}
		a.mu.Unlock()
		for _, ev := range queued {
			a.webSocketEvent(e, ev, sent)
		}
		return ""
	}
	// wsList gives the ids of the sockets the object accepted for
	// hibernation that are not closed both ways, with tag if tag is not
	// empty.
	fns["wsList"] = func(iso *Isolate, key int, tag string) []any {
		a := iso.actorAt(key)
		if a == nil {
			return []any{}
		}
		out := []any{}
		for _, e := range a.hibernated() {
			e.pipe.mu.Lock()
			open := !e.gone && !e.handled
			tagged := tag == "" || slices.Contains(e.tags, tag)
			e.pipe.mu.Unlock()
			if !open {
				a.mu.Lock()
				delete(a.sockets, e)
				a.mu.Unlock()
			} else if tagged {
				out = append(out, int(e.id))
			}
		}
		return out
	}
	// wsTags gives the end's tags, or false if it is not hibernated.
	fns["wsTags"] = func(iso *Isolate, id int) any {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return false
		}
		e.pipe.mu.Lock()
		defer e.pipe.mu.Unlock()
		if e.actor == nil {
			return false
		}
		out := make([]any, len(e.tags))
		for i, t := range e.tags {
			out[i] = t
		}
		return out
	}
	fns["wsSetAttachment"] = func(iso *Isolate, id int, attachJSON string, bufs ...quickjs.Value) {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return
		}
		var m *Message
		if attachJSON != "" {
			m = &Message{JSON: attachJSON}
			for _, b := range bufs {
				data, _ := jsvm.ArrayBufferBytes(b)
				m.Bufs = append(m.Bufs, append([]byte(nil), data...))
			}
		}
		e.pipe.mu.Lock()
		e.attach = m
		e.pipe.mu.Unlock()
	}
	// wsAttachment gives [json, ...buffers], or false if there is none.
	fns["wsAttachment"] = func(iso *Isolate, id int) any {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return false
		}
		e.pipe.mu.Lock()
		m := e.attach
		e.pipe.mu.Unlock()
		if m == nil {
			return false
		}
		out := []any{m.JSON}
		for _, b := range m.Bufs {
			out = append(out, jsvm.NewArrayBuffer(iso.vm, b))
		}
		return out
	}
	// wsHandled: the object's webSocketClose (or webSocketError) for the
	// end has finished; the object no longer lists it.
	fns["wsHandled"] = func(iso *Isolate, id int) {
		if e := iso.wsEndOf(int64(id)); e != nil {
			e.pipe.mu.Lock()
			e.handled = true
			e.forgetLocked()
			e.pipe.mu.Unlock()
		}
	}
	fns["wsAutoResponse"] = func(iso *Isolate, key int, request, response string, set bool) {
		if a := iso.actorAt(key); a != nil {
			if set {
				a.auto.Store(&wsAutoResponse{request, response})
			} else {
				a.auto.Store(nil)
			}
		}
	}
	// wsAutoGet gives [request, response], or false if there is none.
	fns["wsAutoGet"] = func(iso *Isolate, key int) any {
		a := iso.actorAt(key)
		if a == nil {
			return false
		}
		auto := a.auto.Load()
		if auto == nil {
			return false
		}
		return []any{auto.request, auto.response}
	}
	fns["wsAutoTimestamp"] = func(iso *Isolate, id int) float64 {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return -1
		}
		e.pipe.mu.Lock()
		defer e.pipe.mu.Unlock()
		if e.autoAt == 0 {
			return -1
		}
		return float64(e.autoAt)
	}
}

// wsEventValue gives ev to JavaScript as [kind, data, code, reason, clean].
func (iso *Isolate) wsEventValue(ev wsEvent) []any {
	switch ev.kind {
	case wsText, wsError, wsOpen:
		return []any{ev.kind, ev.text, 0, "", ev.clean}
	case wsBinary:
		return []any{wsBinary, jsvm.NewArrayBuffer(iso.vm, ev.data), 0, "", false}
	}
	return []any{ev.kind, "", ev.code, ev.reason, ev.clean}
}

// takeWebSocket takes the end id out of iso's JavaScript, to cross in a
// Response: only an end that was never used may (workerd's rule).
func (iso *Isolate) takeWebSocket(id int64) (*wsEnd, error) {
	e := iso.wsEndOf(id)
	if e == nil {
		return nil, typeError("Can't return WebSocket that was already used in a response.")
	}
	e.pipe.mu.Lock()
	defer e.pipe.mu.Unlock()
	if e.used || e.owner != iso {
		return nil, typeError("Can't return WebSocket in a Response after calling accept().")
	}
	e.owner = nil
	e.used = true
	delete(iso.wsOwned, e)
	return e, nil
}

// takeResponseWebSocket is takeWebSocket for a Response's webSocket, as the
// prelude hands it to host.respond: the object, whose end wsTake gives.
func (iso *Isolate) takeResponseWebSocket(ws quickjs.Value) (*wsEnd, error) {
	if !iso.wsTakerSet {
		return nil, typeError("Incorrect type for the 'webSocket' field on 'ResponseInit': the provided value is not of type 'WebSocket'.")
	}
	r, err := jsvm.Call(iso.wsTaker, ws)
	if err != nil {
		return nil, err
	}
	defer r.Free()
	x, _ := r.Any()
	return iso.takeWebSocket(int64(number(x)))
}

// giveWebSocket makes iso's JavaScript the holder of e, which crossed in a
// Response.
func (iso *Isolate) giveWebSocket(e *wsEnd) int64 {
	e.pipe.mu.Lock()
	e.owner = iso
	e.used = false
	e.pipe.mu.Unlock()
	iso.holdWebSocket(e)
	return e.id
}

// abandon drops an end that crossed in a Response nobody took, or that
// could not go to a client. Its peer hears nothing, as in workerd.
func (e *wsEnd) abandon() {
	e.pipe.mu.Lock()
	e.gone, e.sentEnd = true, true
	e.queue, e.queued, e.owner = nil, 0, nil
	e.forgetLocked()
	e.pipe.mu.Unlock()
}

// typeError is an error JavaScript sees as a TypeError with msg.
type typeError string

func (e typeError) Error() string  { return string(e) }
func (e typeError) JSName() string { return "TypeError" }

// errNotUpgrade fails a WebSocket answered to a request that asked for none.
var errNotUpgrade = typeError(`Worker tried to return a WebSocket in a response to a request which did not contain the header "Upgrade: websocket".`)

// asksUpgrade reports whether a header blob (headerBlob's format) has
// Upgrade: websocket.
func asksUpgrade(blob string) bool {
	for rest := blob; rest != ""; {
		var k, v string
		k, rest, _ = strings.Cut(rest, "\x00")
		v, rest, _ = strings.Cut(rest, "\x00")
		if strings.EqualFold(k, "upgrade") && strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}

// ---- the network side ----

// wsNet is the client connection an end is attached to. Writes go through
// one goroutine, in order. gorilla/websocket, because its close handler
// may leave a client's close unanswered: the answer is the end's to give
// (a hibernated object answers in webSocketClose, or never, as on
// Cloudflare; an accepted end answers at once, with the client's code).
type wsNet struct {
	conn *websocket.Conn
	out  chan wsEvent
	once sync.Once
	// peerClosed: the client's close frame arrived; our close answers it
	// and drops the connection without waiting for another.
	peerClosed atomic.Bool
	// closing: our own close went out (ownClose), and read waits for the
	// client's answer.
	closing  atomic.Bool
	ownClose wsEvent
}

var wsUpgrader = websocket.Upgrader{
	// workerd does not check the origin: the worker may, from the request.
	CheckOrigin: func(*http.Request) bool { return true },
}

// hijacker reaches the connection through wrappers (the dev server's
// status writer) that gorilla/websocket cannot see through.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// attachWebSocket completes an upgrade answered with the end e: the
// handshake, then the client's messages arrive at e's peer as if e had sent
// them, and what the peer sends goes to the client. e nil completes the
// handshake only to drop the connection (workerd's answer to a worker that
// returned an end it had used).
func attachWebSocket(w http.ResponseWriter, r *http.Request, e *wsEnd, headers http.Header) error {
	header := http.Header{}
	for k, v := range headers {
		if v != nil {
			header[k] = v
		}
	}
	if p := header.Get("Sec-WebSocket-Protocol"); p != "" {
		header.Set("Sec-WebSocket-Protocol", strings.TrimSpace(strings.Split(p, ",")[0]))
	}
	conn, err := wsUpgrader.Upgrade(hijacker{w}, r, header)
	if err != nil {
		if e != nil {
			e.abandon()
		}
		return err
	}
	if e == nil {
		conn.Close()
		return nil
	}
	startWSNet(conn, e)
	return nil
}

// startWSNet attaches e to conn and starts its reader and writer. What the
// peer sent before goes out first.
func startWSNet(conn *websocket.Conn, e *wsEnd) {
	conn.SetReadLimit(wsReadLimit)
	conn.SetCloseHandler(func(int, string) error { return nil })
	e.pipe.mu.Lock()
	n := &wsNet{conn: conn, out: make(chan wsEvent, len(e.queue)+64)}
	for _, ev := range e.queue {
		n.out <- ev
	}
	e.queue, e.queued = nil, 0
	e.net, e.used = n, true
	e.pipe.mu.Unlock()
	go n.write(e)
	go n.read(e)
}

// dialWebSocket connects far, the end of a pipe the isolate does not hold,
// to url: its peer hears the connection open (or fail), then what the
// server sends.
func dialWebSocket(far *wsEnd, url string, protocols []string, blocked bool) {
	fail := func(msg string) {
		far.pipe.mu.Lock()
		f := far.deliverLocked(wsEvent{kind: wsError, text: msg}, nil)
		far.sentEnd = true
		f = joinFns(f, far.deliverLocked(wsEvent{kind: wsClosed, code: 1006, reason: "", clean: false}, nil))
		far.gone = true
		far.forgetLocked()
		far.pipe.mu.Unlock()
		run(f)
	}
	if blocked {
		// A worker without the network (a dynamic worker's globalOutbound:
		// null, or one routed to a binding) opens no connection.
		fail("This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.")
		return
	}
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 30 * time.Second}
	conn, resp, err := d.Dial(url, http.Header{"User-Agent": {"Cloudflare-Workers"}})
	if err != nil {
		msg := "WebSocket connection to " + url + " failed: " + err.Error()
		if resp != nil {
			msg = fmt.Sprintf("WebSocket connection to %s failed: the server answered %d", url, resp.StatusCode)
		}
		fail(msg)
		return
	}
	far.pipe.mu.Lock()
	f := far.deliverLocked(wsEvent{kind: wsOpen, text: conn.Subprotocol()}, nil)
	far.pipe.mu.Unlock()
	run(f)
	startWSNet(conn, far)
}

// fetchWebSocket is fetch() of a request with Upgrade: websocket: the
// handshake with the server, answered (if it agrees) with a 101 whose
// webSocket is the isolate's end of a pipe whose other end is the
// connection. Returning that Response to a client of the worker's own pipes
// the two connections together.
func (iso *Isolate) fetchWebSocket(req *http.Request) (func() quickjs.Value, error) {
	u := *req.URL
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	header := http.Header{}
	var protocols []string
	for k, vs := range req.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions":
		case "Sec-Websocket-Protocol":
			for _, v := range vs {
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p != "" {
						protocols = append(protocols, p)
					}
				}
			}
		default:
			header[k] = vs
		}
	}
	if req.Host != "" {
		header.Set("Host", req.Host)
	}
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 30 * time.Second}
	conn, resp, err := d.Dial(u.String(), header)
	res := fetchResult{URL: req.URL.String()}
	if resp != nil {
		res.Status = resp.StatusCode
		res.StatusText = strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" ")
		for k, vs := range resp.Header {
			for _, v := range vs {
				res.Headers = append(res.Headers, [2]string{k, v})
			}
		}
	}
	if err != nil && resp == nil {
		return nil, &netError{fmt.Sprintf("Network connection lost. (%v)", err)}
	}
	return func() quickjs.Value {
		if conn != nil {
			p := newWSPipe(iso)
			mine, far := p.ends[0], p.ends[1]
			far.owner, far.used = nil, true
			delete(iso.wsOwned, far)
			startWSNet(conn, far)
			res.WebSocket = int(mine.id)
		} else if resp.Body != nil {
			// The server refused the upgrade: its answer is the response.
			res.Body = iso.addBody(resp.Body)
		}
		out, _ := json.Marshal(res)
		v, _ := iso.vm.NewString(string(out))
		return v
	}, nil
}

func (n *wsNet) send(ev wsEvent) {
	defer func() { recover() }() // the writer is gone: the connection is over
	n.out <- ev
}

func (n *wsNet) write(e *wsEnd) {
	for ev := range n.out {
		var err error
		switch ev.kind {
		case wsText:
			err = n.conn.WriteMessage(websocket.TextMessage, []byte(ev.text))
		case wsBinary:
			err = n.conn.WriteMessage(websocket.BinaryMessage, ev.data)
		case wsClosed:
			n.close(e, ev)
			return
		}
		if err != nil {
			n.conn.Close()
			n.stop()
			return
		}
	}
}

// close sends the end's close to the client. Answering the client's close
// ends the connection; a close of our own waits (a while) for the client's
// answer, which write's caller hears as the close event workerd gives the
// side that closed.
func (n *wsNet) close(e *wsEnd, ev wsEvent) {
	defer n.stop()
	if !ev.clean {
		n.conn.Close()
		return
	}
	payload := []byte{}
	if ev.code != 1005 {
		payload = websocket.FormatCloseMessage(ev.code, ev.reason)
	}
	answering := n.peerClosed.Load()
	if !answering {
		// read() hears the client's answer and reports the close.
		n.ownClose = ev
		n.closing.Store(true)
	}
	err := n.conn.WriteControl(websocket.CloseMessage, payload, time.Now().Add(5*time.Second))
	if answering || err != nil {
		n.conn.Close()
		return
	}
	time.AfterFunc(5*time.Second, func() { n.conn.Close() })
}

func (n *wsNet) stop() {
	n.once.Do(func() {
		close(n.out)
	})
}

func (n *wsNet) read(e *wsEnd) {
	var buf bytes.Buffer
	for {
		typ, r, err := n.conn.NextReader()
		var ev wsEvent
		if err == nil {
			buf.Reset()
			var k int64
			k, err = io.Copy(&buf, io.LimitReader(r, wsMaxMessage+1))
			if err == nil && k > wsMaxMessage {
				rest, _ := io.Copy(io.Discard, r)
				n.tooLarge(e, k+rest)
				return
			}
			if err == nil {
				ev = wsEvent{kind: wsText, text: buf.String()}
				if typ == websocket.BinaryMessage {
					ev = wsEvent{kind: wsBinary, data: bytes.Clone(buf.Bytes())}
				}
			}
		}
		if err != nil {
			ev = wsEvent{kind: wsClosed, code: 1006, reason: wsDropped, clean: false}
			// gorilla/websocket reports a connection lost without a close
			// frame as a CloseError with 1006.
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				n.peerClosed.Store(true)
				ev.code, ev.reason, ev.clean = ce.Code, ce.Text, true
			}
			e.pipe.mu.Lock()
			var f func()
			switch {
			case n.closing.Load():
				// The client answered our close: the end that closed hears
				// it now, with its own code (workerd's close event at the
				// closing side).
				own := n.ownClose
				own.clean = ev.clean
				e.sentEnd = true
				f = e.deliverLocked(own, nil)
				n.conn.Close()
			case !e.sentEnd:
				e.sentEnd = true
				f = e.deliverLocked(ev, nil)
			}
			e.forgetLocked()
			e.pipe.mu.Unlock()
			run(f)
			if !ev.clean {
				n.conn.Close()
				n.stop()
				return
			}
			if !n.closing.Load() {
				n.awaitDrop(e)
			}
			return
		}
		e.pipe.mu.Lock()
		f := e.deliverLocked(ev, nil)
		e.pipe.mu.Unlock()
		run(f)
	}
}

// awaitDrop waits, after the client's close, for the connection to end: a
// close the other end never answers (a hibernated object may not) leaves
// the socket half closed, listed by getWebSockets, until the client gives up.
func (n *wsNet) awaitDrop(e *wsEnd) {
	var b [64]byte
	for {
		if _, err := n.conn.UnderlyingConn().Read(b[:]); err != nil {
			break
		}
	}
	n.conn.Close()
	e.pipe.mu.Lock()
	p := e.peer()
	p.sentEnd = true // nothing it sends can arrive now
	e.forgetLocked()
	e.pipe.mu.Unlock()
}

// tooLarge ends a connection whose client sent a message over the limit:
// the client gets 1009, the other end an error (workerd's words), no close.
func (n *wsNet) tooLarge(e *wsEnd, size int64) {
	desc := fmt.Sprintf("Message is too large: %d > %d", size, wsMaxMessage)
	n.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, desc), time.Now().Add(time.Second))
	n.conn.Close()
	n.stop()
	e.pipe.mu.Lock()
	e.sentEnd = true
	f := e.deliverLocked(wsEvent{kind: wsError, text: "WebSocket protocol error; protocolError.statusCode = 1009; protocolError.description = " + desc, clean: true}, nil)
	e.peer().gotEnd = true
	e.forgetLocked()
	e.pipe.mu.Unlock()
	run(f)
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
