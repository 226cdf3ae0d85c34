package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// wsSpec is a request's "websocket" script: the harness opens a WebSocket
// to the request's path (with its headers), runs the steps in order, and
// answers a transcript as the body (see the package comment).
type wsSpec struct {
	// Protocols are offered in Sec-WebSocket-Protocol.
	Protocols []string `json:"protocols"`
	// Send is the script, run in order.
	Send []wsStep `json:"send"`
	// Receive, after the script, reads this many more messages (stopping
	// early when the connection closes).
	Receive int `json:"receive"`
	// TimeoutMs bounds each wait for a message or for the close
	// (default 3000).
	TimeoutMs int `json:"timeoutMs"`
}

// wsStep is one step of a script; exactly one of its actions is set.
type wsStep struct {
	Text         *string `json:"text"`
	BinaryBase64 *string `json:"binaryBase64"`
	// Repeat sends the text or binary payload this many times over in one
	// message (for large messages; the transcript shows its size).
	Repeat int `json:"repeat"`
	// Close sends a close frame (code 0 or absent: a close frame without a
	// status code), then waits for the server's close frame, recording any
	// messages that come first.
	Close *wsClose `json:"close"`
	// WaitMs sleeps, letting the server act.
	WaitMs int `json:"waitMs"`
	// Receive reads this many messages (stopping early when the
	// connection closes).
	Receive int `json:"receive"`
}

type wsClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

const defaultWSTimeout = 3 * time.Second

// validate rejects a script the harness cannot run as written.
func (w *wsSpec) validate() error {
	for i, s := range w.Send {
		n := 0
		for _, set := range []bool{s.Text != nil, s.BinaryBase64 != nil, s.Close != nil, s.WaitMs > 0, s.Receive > 0} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("websocket step %d: exactly one of text, binaryBase64, close, waitMs, receive must be set", i+1)
		}
		if s.Repeat != 0 && s.Text == nil && s.BinaryBase64 == nil {
			return fmt.Errorf("websocket step %d: repeat applies to text or binaryBase64 only", i+1)
		}
		if c := s.Close; c != nil {
			// coder/websocket would send 1011 instead of a code it deems
			// invalid on the wire, and refuses long reasons.
			valid := c.Code == 0 || (c.Code >= 1000 && c.Code <= 1014 && c.Code != 1004 && c.Code != 1005 && c.Code != 1006) ||
				(c.Code >= 3000 && c.Code <= 4999)
			if !valid || len(c.Reason) > 123 || (c.Code == 0 && c.Reason != "") {
				return fmt.Errorf("websocket step %d: close code %d with reason %q cannot be sent (codes 1000-1014 but 1004-1006, or 3000-4999; a reason needs a code and at most 123 bytes)", i+1, c.Code, c.Reason)
			}
		}
		if s.BinaryBase64 != nil {
			if _, err := base64.StdEncoding.DecodeString(*s.BinaryBase64); err != nil {
				return fmt.Errorf("websocket step %d: binaryBase64: %w", i+1, err)
			}
		}
	}
	return nil
}

// wsEvent is what the reader goroutine saw: a message, or the end of the
// connection (err).
type wsEvent struct {
	typ  websocket.MessageType
	data []byte
	err  error
}

// sendWebSocket opens the WebSocket, runs the script and answers the
// transcript as the body. Status and headers are the handshake response's.
func sendWebSocket(ctx context.Context, base string, rs requestSpec) response {
	ws := rs.WebSocket
	timeout := defaultWSTimeout
	if ws.TimeoutMs > 0 {
		timeout = time.Duration(ws.TimeoutMs) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// The transport remembers its connection, so the end of the script can
	// drop it whatever state the close handshake is in.
	var connMu sync.Mutex
	var rawConns []net.Conn
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	transport := &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				connMu.Lock()
				rawConns = append(rawConns, c)
				connMu.Unlock()
			}
			return c, err
		},
	}
	defer func() {
		connMu.Lock()
		for _, c := range rawConns {
			c.Close()
		}
		connMu.Unlock()
		transport.CloseIdleConnections()
	}()

	header := http.Header{}
	host := ""
	for k, v := range rs.Headers {
		if strings.EqualFold(k, "host") {
			host = v
		} else {
			header.Set(k, v)
		}
	}
	path := rs.Path
	if path == "" {
		path = "/"
	}
	url := "ws" + strings.TrimPrefix(base, "http") + path
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: transport},
		HTTPHeader:      header,
		Host:            host,
		Subprotocols:    ws.Protocols,
		CompressionMode: websocket.CompressionDisabled,
	})
	var t strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&t, format+"\n", args...) }
	if err != nil {
		if resp == nil {
			return response{Err: fmt.Errorf("websocket handshake: %w", err)}
		}
		// Not upgraded: the transcript is the HTTP answer (coder/websocket
		// keeps the first 1024 bytes of its body).
		line("status %d", resp.StatusCode)
		if resp.StatusCode == http.StatusSwitchingProtocols {
			// A 101 the client refused (a bad Sec-WebSocket-Accept, say).
			line("handshake refused: %s", strings.TrimPrefix(err.Error(), "failed to WebSocket dial: "))
		}
		var body []byte
		if resp.Body != nil {
			body, _ = io.ReadAll(resp.Body)
		}
		line("body: %s", formatWSPayload(websocket.MessageText, body))
		return response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(t.String())}
	}
	conn.SetReadLimit(64 << 20)
	line("status %d", resp.StatusCode)
	if p := conn.Subprotocol(); p != "" {
		line("protocol: %s", p)
	}

	// One goroutine reads everything, so that a wait that times out does
	// not disturb the connection (coder/websocket closes it when a read's
	// context ends).
	events := make(chan wsEvent, 1024)
	go func() {
		defer close(events)
		for {
			typ, data, err := conn.Read(context.Background())
			events <- wsEvent{typ, data, err}
			if err != nil {
				return
			}
		}
	}()

	closed := false             // the end of the connection has been recorded
	var closeDone chan struct{} // closed when a Close step's handshake returns
	record := func(ev wsEvent) {
		if ev.err == nil {
			dir := "text"
			if ev.typ == websocket.MessageBinary {
				dir = "binary"
			}
			line("recv %s: %s", dir, formatWSPayload(ev.typ, ev.data))
			return
		}
		closed = true
		var ce websocket.CloseError
		if errors.As(ev.err, &ce) {
			if ce.Reason == "" {
				line("closed %d", int(ce.Code))
			} else {
				line("closed %d %s", int(ce.Code), formatWSPayload(websocket.MessageText, []byte(ce.Reason)))
			}
			return
		}
		line("connection lost without a close frame")
	}
	// receive records up to n messages, or until the connection ends
	// (n < 0: only until it ends).
	receive := func(n int) {
		for i := 0; !closed && (n < 0 || i < n); i++ {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				record(ev)
			case <-time.After(timeout):
				if n < 0 {
					line("timeout: the server did not close within %s", timeout)
				} else {
					line("timeout: no message within %s", timeout)
				}
				return
			}
		}
	}
	const maxRecordedFailure = 32 << 20
	write := func(typ websocket.MessageType, p []byte) {
		what := "text"
		if typ == websocket.MessageBinary {
			what = "binary"
		}
		line("send %s: %s", what, formatWSPayload(typ, p))
		if closed {
			line("send failed")
			return
		}
		wctx, wcancel := context.WithTimeout(ctx, timeout)
		defer wcancel()
		if err := conn.Write(wctx, typ, p); err != nil && len(p) <= maxRecordedFailure {
			// Whether the write stalls (the server stopped reading) or
			// fails (it closed the connection) is a matter of timing and
			// buffer sizes, so only the failure is recorded; and not at
			// all for a message over the runtimes' limit, which one may
			// refuse from its header while another reads it to the end
			// (the close that follows says what happened).
			line("send failed")
		}
	}

	for _, s := range ws.Send {
		repeat := max(s.Repeat, 1)
		switch {
		case s.Text != nil:
			write(websocket.MessageText, []byte(strings.Repeat(*s.Text, repeat)))
		case s.BinaryBase64 != nil:
			b, _ := base64.StdEncoding.DecodeString(*s.BinaryBase64)
			write(websocket.MessageBinary, []byte(strings.Repeat(string(b), repeat)))
		case s.WaitMs > 0:
			line("wait %dms", s.WaitMs)
			select {
			case <-time.After(time.Duration(s.WaitMs) * time.Millisecond):
			case <-ctx.Done():
			}
		case s.Receive > 0:
			receive(s.Receive)
		case s.Close != nil:
			code := websocket.StatusCode(s.Close.Code)
			if s.Close.Code == 0 {
				code = websocket.StatusNoStatusRcvd // an empty close frame
				line("send close (no code)")
			} else if s.Close.Reason == "" {
				line("send close %d", s.Close.Code)
			} else {
				line("send close %d %s", s.Close.Code, s.Close.Reason)
			}
			if closed {
				line("send failed")
				continue
			}
			// Close writes the frame, then reads until the peer's close
			// frame. The reader goroutine must be the one to read it (it
			// records the code and reason): give it time to be back
			// inside Read, which holds the read lock that Close waits for.
			time.Sleep(20 * time.Millisecond)
			done := make(chan struct{})
			closeDone = done
			go func() {
				defer close(done)
				_ = conn.Close(code, s.Close.Reason) // the reader records the outcome
			}()
			receive(-1)
		}
	}
	if ws.Receive > 0 {
		receive(ws.Receive)
	}
	if closeDone != nil && closed {
		// The handshake finished: let Close see the server end the TCP
		// connection rather than dropping it first.
		select {
		case <-closeDone:
		case <-time.After(timeout):
		}
	}
	// Whatever is left open is dropped without a close handshake (the
	// deferred close of the TCP connection); wait for the reader to stop.
	connMu.Lock()
	for _, c := range rawConns {
		c.Close()
	}
	connMu.Unlock()
	for range events {
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(t.String())}
}

// formatWSPayload renders a message for the transcript on one line: text as
// is (Go-quoted if it holds control characters or is not UTF-8), binary as
// base64, and anything over 1000 bytes as its size and a hash prefix.
func formatWSPayload(typ websocket.MessageType, p []byte) string {
	if len(p) > 1000 {
		sum := sha256.Sum256(p)
		return fmt.Sprintf("(%d bytes, sha256 %x)", len(p), sum[:6])
	}
	if typ == websocket.MessageBinary {
		return base64.StdEncoding.EncodeToString(p)
	}
	if !utf8.Valid(p) || strings.IndexFunc(string(p), unicode.IsControl) >= 0 {
		return fmt.Sprintf("%q", p)
	}
	return string(p)
}

// describeWebSocket renders a script for failure messages.
func describeWebSocket(ws *wsSpec) string {
	var b strings.Builder
	b.WriteString("\n(websocket")
	if len(ws.Protocols) > 0 {
		fmt.Fprintf(&b, ", protocols %s", strings.Join(ws.Protocols, ","))
	}
	b.WriteString(")")
	for _, s := range ws.Send {
		switch {
		case s.Text != nil:
			fmt.Fprintf(&b, "\n  send text %q", truncate(*s.Text))
		case s.BinaryBase64 != nil:
			fmt.Fprintf(&b, "\n  send binary %s", truncate(*s.BinaryBase64))
		case s.Close != nil:
			fmt.Fprintf(&b, "\n  close %d %q", s.Close.Code, s.Close.Reason)
		case s.WaitMs > 0:
			fmt.Fprintf(&b, "\n  wait %dms", s.WaitMs)
		case s.Receive > 0:
			fmt.Fprintf(&b, "\n  receive %d", s.Receive)
		}
		if s.Repeat > 1 {
			fmt.Fprintf(&b, " x%d", s.Repeat)
		}
	}
	if ws.Receive > 0 {
		fmt.Fprintf(&b, "\n  receive %d", ws.Receive)
	}
	return b.String()
}
