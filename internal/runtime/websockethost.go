package runtime

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// The "ws" host group: what 63_websocket.js calls (websocket.go has the model).

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
				e.clearQueueLocked()
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
			ev.uncharge()
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
		e.pipe.mu.Unlock()
		iso.wsDeliver(e, ev)
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
		var wake func()
		after := quickjs.UndefinedValue
		if reply && (e.peer().net == nil || e.received > 0) {
			p, now, _ := iso.pendingLocal()
			after = p
			wake = func() { iso.soon = append(iso.soon, now) }
		}
		e.pipe.mu.Unlock()
		iso.wsDeliver(e, wsEvent{kind: wsClosed, code: code, reason: reason, clean: true})
		if wake != nil {
			iso.hold(wake)
		}
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
		e.clearQueueLocked()
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

// wsDeliver sends ev from e, which this isolate's JavaScript holds, once
// the output gate lets it out: what a Durable Object sends after a write
// leaves only when the write is on disk, as its replies do (hold).
func (iso *Isolate) wsDeliver(e *wsEnd, ev wsEvent) {
	iso.hold(func() {
		e.pipe.mu.Lock()
		f := e.deliverLocked(ev, iso)
		e.forgetLocked()
		e.pipe.mu.Unlock()
		run(f)
	})
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
		return nil, namedError{"TypeError", "Can't return WebSocket that was already used in a response."}
	}
	e.pipe.mu.Lock()
	defer e.pipe.mu.Unlock()
	if e.used || e.owner != iso {
		return nil, namedError{"TypeError", "Can't return WebSocket in a Response after calling accept()."}
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
		return nil, namedError{"TypeError", "Incorrect type for the 'webSocket' field on 'ResponseInit': the provided value is not of type 'WebSocket'."}
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
	e.clearQueueLocked()
	e.owner = nil
	e.forgetLocked()
	e.pipe.mu.Unlock()
}

// errNotUpgrade fails a WebSocket answered to a request that asked for none.
var errNotUpgrade = namedError{"TypeError", `Worker tried to return a WebSocket in a response to a request which did not contain the header "Upgrade: websocket".`}

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
