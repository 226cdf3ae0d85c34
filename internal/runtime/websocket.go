package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// WebSockets (the "ws" host group; the prelude's half is 63_websocket.js).
//
// A WebSocketPair is a wsPipe: two ends, each end what one WebSocket object
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
// Lock order: wsPipe.mu, then nothing else. Deliveries to an actor's
// mailbox or an isolate's loop are made after it is released.

// wsMaxQueued bounds the bytes waiting at an end nobody reads yet (not
// accepted, or JavaScript slower than the client): past it the connection is
// closed with 1009, so a client cannot grow the process without bound.
const wsMaxQueued = 64 << 20

// wsMaxMessage is the largest message accepted from a client (Cloudflare's
// limit).
const wsMaxMessage = 32 << 20

const (
	wsText   = 1
	wsBinary = 2
	wsClosed = 3
	wsError  = 4
)

type wsEvent struct {
	kind   int
	text   string
	data   []byte
	code   int
	reason string
	clean  bool
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
	used     bool // sent, accepted or attached: it may no longer cross isolates
	sentEnd  bool // this end called close()
	gotEnd   bool // the peer's close arrived
	gone     bool // nobody holds it any more
	queue    []wsEvent
	queued   int                               // bytes in queue
	wake     func(func() quickjs.Value, error) // a pending wsNext waiting for an event
	tags     []string                          // hibernation tags
	attach   *Message                          // serializeAttachment's value
	autoAt   int64                             // when the auto-response last answered (ms), 0 if never
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
		owner.wsOwned[e] = struct{}{}
	}
	return p
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

// deliver hands ev, sent by from, to from's peer. Called with pipe.mu held;
// it returns what to do once the lock is released.
func (from *wsEnd) deliverLocked(ev wsEvent) func() {
	to := from.peer()
	if to.gone {
		return nil
	}
	if ev.kind == wsClosed {
		to.gotEnd = true
	}
	switch {
	case to.net != nil:
		n := to.net
		return func() { n.send(ev) }
	case to.actor != nil && to.accepted:
		a := to.actor
		if ev.kind == wsText && a.autoRequest != "" && ev.text == a.autoRequest {
			// The auto-response answers without waking the object.
			to.autoAt = time.Now().UnixMilli()
			reply := wsEvent{kind: wsText, text: a.autoResponse}
			return to.deliverLocked(reply)
		}
		return func() { a.webSocketEvent(to, ev) }
	}
	if to.queued+ev.size() > wsMaxQueued && ev.kind != wsClosed {
		// Nobody reads this end fast enough: give up on the connection.
		f1 := to.deliverLocked(wsEvent{kind: wsClosed, code: 1009, reason: "Too much data queued", clean: false})
		ev = wsEvent{kind: wsClosed, code: 1009, reason: "Too much data queued", clean: false}
		to.gotEnd = true
		to.queue = append(to.queue, ev)
		return joinFns(f1, to.wakeLocked())
	}
	to.queue = append(to.queue, ev)
	to.queued += ev.size()
	if !to.accepted {
		return nil
	}
	return to.wakeLocked()
}

func (e *wsEnd) wakeLocked() func() {
	w := e.wake
	if w == nil {
		return nil
	}
	e.wake = nil
	return func() { w(func() quickjs.Value { return quickjs.UndefinedValue }, nil) }
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

// dropLocked forgets e: its holder is gone (an isolate died, a client
// disconnected). The peer sees the connection end abnormally.
func (e *wsEnd) dropLocked() func() {
	if e.gone {
		return nil
	}
	var f func()
	if !e.sentEnd {
		e.sentEnd = true
		f = e.deliverLocked(wsEvent{kind: wsClosed, code: 1006, reason: "", clean: false})
	}
	e.gone = true
	e.queue, e.queued, e.owner = nil, 0, nil
	if w := e.wake; w != nil {
		e.wake = nil
		f = joinFns(f, func() { w(func() quickjs.Value { return quickjs.UndefinedValue }, nil) })
	}
	if e.peer().gone {
		wsAll.Delete(e.id)
		wsAll.Delete(e.peer().id)
	}
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
	fns["wsPair"] = func(iso *Isolate) []any {
		p := newWSPipe(iso)
		return []any{int(p.ends[0].id), int(p.ends[1].id)}
	}
	fns["wsAccept"] = func(iso *Isolate, id int) string {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return "Error: The WebSocket is no longer available."
		}
		e.pipe.mu.Lock()
		defer e.pipe.mu.Unlock()
		if e.actor != nil {
			return "TypeError: Can't call accept() on a WebSocket that was accepted with acceptWebSocket()."
		}
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
		if len(e.queue) > 0 {
			ev := e.queue[0]
			e.queue[0] = wsEvent{}
			e.queue = e.queue[1:]
			e.queued -= ev.size()
			e.pipe.mu.Unlock()
			return iso.wsEventValue(ev)
		}
		if e.gone {
			e.pipe.mu.Unlock()
			return nil
		}
		p, complete := iso.pending()
		e.wake = complete
		e.pipe.mu.Unlock()
		return p
	})
	fns["wsSend"] = func(iso *Isolate, id int, data quickjs.Value) string {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return "Error: The WebSocket is no longer available."
		}
		ev := wsEvent{kind: wsText}
		x, _ := data.Any()
		if s, ok := x.(string); ok {
			ev.text = s
		} else if b, ok := jsvm.ArrayBufferBytes(data); ok {
			ev.kind, ev.data = wsBinary, append([]byte(nil), b...)
		} else {
			return "TypeError: a WebSocket message must be a string or an ArrayBuffer"
		}
		e.pipe.mu.Lock()
		if e.sentEnd {
			e.pipe.mu.Unlock()
			return "TypeError: Can't call WebSocket send() after close()."
		}
		e.used = true
		f := e.deliverLocked(ev)
		e.pipe.mu.Unlock()
		run(f)
		return ""
	}
	fns["wsClose"] = func(iso *Isolate, id int, code int, reason string) string {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return ""
		}
		e.pipe.mu.Lock()
		if e.sentEnd {
			e.pipe.mu.Unlock()
			return ""
		}
		e.sentEnd, e.used = true, true
		f := e.deliverLocked(wsEvent{kind: wsClosed, code: code, reason: reason, clean: true})
		e.pipe.mu.Unlock()
		run(f)
		return ""
	}
	fns["wsHibernate"] = func(iso *Isolate, id int, key int, tagsJSON string) string {
		var tags []string
		json.Unmarshal([]byte(tagsJSON), &tags)
		e := iso.wsEndOf(int64(id))
		a := iso.actorAt(key)
		if e == nil || a == nil {
			return "Error: The WebSocket is no longer available."
		}
		e.pipe.mu.Lock()
		if e.accepted {
			e.pipe.mu.Unlock()
			return "TypeError: Can't call acceptWebSocket() on a WebSocket that was already accepted."
		}
		e.accepted, e.used, e.actor, e.tags = true, true, a, tags
		e.owner = nil
		queued := e.queue
		e.queue, e.queued = nil, 0
		e.pipe.mu.Unlock()
		delete(iso.wsOwned, e)
		a.mu.Lock()
		if a.sockets == nil {
			a.sockets = map[*wsEnd]struct{}{}
		}
		a.sockets[e] = struct{}{}
		a.mu.Unlock()
		for _, ev := range queued {
			a.webSocketEvent(e, ev)
		}
		return ""
	}
	// wsList gives the ids of the sockets the object accepted for
	// hibernation that are still open, with tag if tag is not empty.
	fns["wsList"] = func(iso *Isolate, key int, tag string) []any {
		a := iso.actorAt(key)
		if a == nil {
			return nil
		}
		out := []any{}
		for _, e := range a.hibernated() {
			e.pipe.mu.Lock()
			ok := !e.gone && !e.gotEnd && (tag == "" || contains(e.tags, tag))
			e.pipe.mu.Unlock()
			if ok {
				out = append(out, int(e.id))
			}
		}
		return out
	}
	fns["wsTags"] = func(iso *Isolate, id int) []any {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return nil
		}
		e.pipe.mu.Lock()
		defer e.pipe.mu.Unlock()
		if e.actor == nil {
			return nil
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
	fns["wsAttachment"] = func(iso *Isolate, id int) []any {
		e := iso.wsEndOf(int64(id))
		if e == nil {
			return nil
		}
		e.pipe.mu.Lock()
		m := e.attach
		e.pipe.mu.Unlock()
		if m == nil {
			return nil
		}
		out := []any{m.JSON}
		for _, b := range m.Bufs {
			out = append(out, jsvm.NewArrayBuffer(iso.vm, b))
		}
		return out
	}
	fns["wsAutoResponse"] = func(iso *Isolate, key int, request, response string) {
		if a := iso.actorAt(key); a != nil {
			a.mu.Lock()
			a.autoRequest, a.autoResponse = request, response
			a.mu.Unlock()
		}
	}
	fns["wsAutoGet"] = func(iso *Isolate, key int) []any {
		a := iso.actorAt(key)
		if a == nil {
			return nil
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.autoRequest == "" {
			return nil
		}
		return []any{a.autoRequest, a.autoResponse}
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wsEventValue gives ev to JavaScript as [kind, data, code, reason, clean].
func (iso *Isolate) wsEventValue(ev wsEvent) []any {
	switch ev.kind {
	case wsText:
		return []any{wsText, ev.text, 0, "", false}
	case wsBinary:
		return []any{wsBinary, jsvm.NewArrayBuffer(iso.vm, ev.data), 0, "", false}
	}
	return []any{ev.kind, "", ev.code, ev.reason, ev.clean}
}

// takeWebSocket takes the end id out of iso's JavaScript, to cross in a
// Response: only an end that was never used may (workerd's rule).
func (iso *Isolate) takeWebSocket(id int64) (*wsEnd, error) {
	e := iso.wsEndOf(int64(id))
	if e == nil {
		return nil, errors.New("TypeError: The WebSocket is no longer available.")
	}
	e.pipe.mu.Lock()
	defer e.pipe.mu.Unlock()
	if e.used || e.owner != iso {
		return nil, errors.New("TypeError: Can't return WebSocket in a Response after calling accept() or send() on it.")
	}
	e.owner = nil
	delete(iso.wsOwned, e)
	return e, nil
}

// takeResponseWebSocket is takeWebSocket for a Response's webSocket, as the
// prelude hands it to host.respond: the object, whose end wsTake gives.
func (iso *Isolate) takeResponseWebSocket(ws quickjs.Value) (*wsEnd, error) {
	if !iso.wsTakerSet {
		return nil, errors.New("TypeError: Incorrect type for the 'webSocket' field on 'ResponseInit': the provided value is not of type 'WebSocket'.")
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
	e.pipe.mu.Unlock()
	iso.wsOwned[e] = struct{}{}
	return e.id
}

// abandon drops an end that crossed in a Response nobody took.
func (e *wsEnd) abandon() {
	e.pipe.mu.Lock()
	f := e.dropLocked()
	e.pipe.mu.Unlock()
	run(f)
}

// ---- the network side ----

// wsNet is the client connection an end is attached to. Writes go through
// one goroutine, in order.
type wsNet struct {
	conn *websocket.Conn
	out  chan wsEvent
	once sync.Once
}

// attachWebSocket completes an upgrade answered with the end e: the
// handshake, then the client's messages arrive at e's peer as if e had sent
// them, and what the peer sends goes to the client.
func attachWebSocket(w http.ResponseWriter, r *http.Request, e *wsEnd, headers http.Header) error {
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	if p := headers.Get("Sec-WebSocket-Protocol"); p != "" {
		opts.Subprotocols = []string{strings.TrimSpace(strings.Split(p, ",")[0])}
		headers.Del("Sec-WebSocket-Protocol")
	}
	for k, v := range headers {
		if k == "Content-Type" && v == nil {
			continue
		}
		w.Header()[k] = v
	}
	conn, err := websocket.Accept(w, r, opts)
	if err != nil {
		e.abandon()
		return err
	}
	conn.SetReadLimit(wsMaxMessage)
	n := &wsNet{conn: conn, out: make(chan wsEvent, 64)}
	e.pipe.mu.Lock()
	e.net, e.used = n, true
	// Whatever the peer sent before the client connected goes out first.
	queued := e.queue
	e.queue, e.queued = nil, 0
	e.pipe.mu.Unlock()
	go n.write(e)
	for _, ev := range queued {
		n.send(ev)
	}
	go n.read(e)
	return nil
}

func (n *wsNet) send(ev wsEvent) {
	defer func() { recover() }() // the writer is gone: the connection is over
	n.out <- ev
}

func (n *wsNet) write(e *wsEnd) {
	ctx := context.Background()
	for ev := range n.out {
		var err error
		switch ev.kind {
		case wsText:
			err = n.conn.Write(ctx, websocket.MessageText, []byte(ev.text))
		case wsBinary:
			err = n.conn.Write(ctx, websocket.MessageBinary, ev.data)
		case wsClosed:
			if ev.code == 1006 || !ev.clean {
				n.conn.CloseNow()
			} else {
				err = n.conn.Close(websocket.StatusCode(ev.code), ev.reason)
				// The close handshake is done: the peer hears it ended.
				e.pipe.mu.Lock()
				f := e.deliverLocked(wsEvent{kind: wsClosed, code: ev.code, reason: ev.reason, clean: err == nil})
				e.pipe.mu.Unlock()
				run(f)
			}
			n.stop()
			return
		}
		if err != nil {
			n.conn.CloseNow()
			n.stop()
			return
		}
	}
}

func (n *wsNet) stop() {
	n.once.Do(func() {
		close(n.out)
	})
}

func (n *wsNet) read(e *wsEnd) {
	ctx := context.Background()
	for {
		typ, data, err := n.conn.Read(ctx)
		if err != nil {
			ev := wsEvent{kind: wsClosed, code: 1006, clean: false}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				ev.code, ev.reason, ev.clean = int(ce.Code), ce.Reason, true
				if ce.Code == websocket.StatusNoStatusRcvd {
					ev.code = 1005
				}
			}
			e.pipe.mu.Lock()
			var f func()
			if !e.sentEnd {
				e.sentEnd = true
				f = e.deliverLocked(ev)
			}
			if ev.clean {
				e.gone = true
			}
			e.pipe.mu.Unlock()
			run(f)
			if !ev.clean {
				e.pipe.mu.Lock()
				f := e.dropLocked()
				e.pipe.mu.Unlock()
				run(f)
			}
			return
		}
		ev := wsEvent{kind: wsText, text: string(data)}
		if typ == websocket.MessageBinary {
			ev = wsEvent{kind: wsBinary, data: data}
		}
		e.pipe.mu.Lock()
		f := e.deliverLocked(ev)
		e.pipe.mu.Unlock()
		run(f)
	}
}

// ---- hibernation ----

// webSocketEvent delivers ev, arrived at the hibernated end e, to its
// object's handler (webSocketMessage, webSocketClose), through the mailbox:
// the object wakes if it was evicted.
func (a *actor) webSocketEvent(e *wsEnd, ev wsEvent) {
	method := "webSocketMessage"
	var args Message
	switch ev.kind {
	case wsText:
		args.JSON = `[` + itoa64(e.id) + `,` + jsonString(ev.text) + `]`
	case wsBinary:
		args.JSON = `[` + itoa64(e.id) + `,{"$":"A","i":0}]`
		args.Bufs = [][]byte{ev.data}
	case wsClosed:
		method = "webSocketClose"
		args.JSON = `[` + itoa64(e.id) + `,` + itoa64(int64(ev.code)) + `,` + jsonString(ev.reason) + `,` + boolJSON(ev.clean) + `]`
		a.mu.Lock()
		delete(a.sockets, e)
		a.mu.Unlock()
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

// hibernated lists the ends the object accepted for hibernation.
func (a *actor) hibernated() []*wsEnd {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*wsEnd, 0, len(a.sockets))
	for e := range a.sockets {
		out = append(out, e)
	}
	// Oldest first, as workerd lists them.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].id < out[j-1].id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func boolJSON(b bool) string { return strconv.FormatBool(b) }
