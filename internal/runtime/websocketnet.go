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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"modernc.org/quickjs"
)

// WebSockets on the network: a client's connection answered with an end,
// and connections a worker opens (new WebSocket(url), fetch() with Upgrade).

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
	e.clearQueueLocked()
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
		return nil, namedError{"TypeError", fmt.Sprintf("Network connection lost. (%v)", err)}
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
