package runtime

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// The "sockets" host group: TCP connections for connect() from
// cloudflare:sockets (64_sockets.js). A connection's reading side is one of
// the isolate's host bodies, read in pieces as a request body is; writes go
// through sockWrite, each settling its promise once written.

// maxOpenSockets bounds the connections an isolate holds (or dials) at
// once: each is a file descriptor and Go memory outside the isolate's limit.
const maxOpenSockets = 64

// socketDialTimeout bounds a connect() (or a TLS handshake) that gets no
// answer.
const socketDialTimeout = 30 * time.Second

// socketRootCAs are the roots a socket's TLS trusts: the system's (nil),
// or a test's.
var socketRootCAs *x509.CertPool

// errConnectFailed is workerd's word for a connection that cannot be made.
var errConnectFailed = namedError{"Error", "proxy request failed, cannot connect to the specified address"}

// socketTable holds an isolate's connections. Dials finish on goroutines of
// their own, so it has a lock; once the isolate is gone (closeAll) a dial
// that finishes closes its connection instead of adding it.
type socketTable struct {
	mu      sync.Mutex
	conns   map[int]net.Conn
	next    int
	dialing int
	closed  bool
}

func (t *socketTable) reserve() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || len(t.conns)+t.dialing >= maxOpenSockets {
		return false
	}
	t.dialing++
	return true
}

func (t *socketTable) add(c net.Conn) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dialing--
	if t.closed {
		return 0, false
	}
	t.next++
	t.conns[t.next] = c
	return t.next, true
}

func (t *socketTable) release() {
	t.mu.Lock()
	t.dialing--
	t.mu.Unlock()
}

func (t *socketTable) get(id int) net.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conns[id]
}

func (t *socketTable) remove(id int) net.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.conns[id]
	delete(t.conns, id)
	return c
}

func (t *socketTable) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for id, c := range t.conns {
		c.Close()
		delete(t.conns, id)
	}
}

// socketReader is a connection's reading side as a host body: closing it
// (the readable stream ended or was cancelled) shuts reading only.
type socketReader struct{ conn net.Conn }

func (r socketReader) Read(p []byte) (int, error) { return r.conn.Read(p) }

func (r socketReader) Close() error {
	if c, ok := r.conn.(interface{ CloseRead() error }); ok {
		return c.CloseRead()
	}
	return nil
}

func (iso *Isolate) socketHost(fns map[string]any) {
	if iso.sockets == nil {
		iso.sockets = &socketTable{conns: map[int]net.Conn{}}
	}
	t := iso.sockets
	// sockOpen dials hostname:port (over TLS when secure) and resolves to
	// the JSON [id, bodyId, remoteAddress, localAddress].
	fns["sockOpen"] = func(iso *Isolate, hostname string, port int, secure bool) quickjs.Value {
		blocked := iso.outbound.Blocked || iso.outbound.Target != nil
		if !t.reserve() {
			return iso.async(func() (func() quickjs.Value, error) {
				return nil, namedError{"RangeError", fmt.Sprintf("Too many sockets open in this worker (%d); close some first.", maxOpenSockets)}
			})
		}
		return iso.async(func() (func() quickjs.Value, error) {
			if blocked {
				// A worker without the network (a dynamic worker's
				// globalOutbound: null, or one routed to a binding).
				t.release()
				return nil, namedError{"Error", "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world."}
			}
			addr := net.JoinHostPort(hostname, strconv.Itoa(port))
			var conn net.Conn
			var err error
			if secure {
				conn, err = tls.DialWithDialer(&net.Dialer{Timeout: socketDialTimeout}, "tcp", addr, &tls.Config{ServerName: hostname, RootCAs: socketRootCAs})
			} else {
				conn, err = net.DialTimeout("tcp", addr, socketDialTimeout)
			}
			if err != nil {
				t.release()
				return nil, errConnectFailed
			}
			return iso.socketOpened(t, conn)
		})
	}
	// sockStartTls makes connection id's TLS handshake (startTls()) and
	// resolves as sockOpen does, with the connection under a new id. The
	// old reading side (body) is dropped without closing the connection.
	fns["sockStartTls"] = func(iso *Isolate, id, body int, serverName string) quickjs.Value {
		delete(iso.bodies, body)
		conn := t.remove(id)
		reserved := conn != nil && t.reserve()
		return iso.async(func() (func() quickjs.Value, error) {
			if conn == nil {
				return nil, errors.New("The socket is closed.")
			}
			if !reserved {
				conn.Close()
				return nil, ErrIsolateDead
			}
			tc := tls.Client(conn, &tls.Config{ServerName: serverName, RootCAs: socketRootCAs})
			conn.SetDeadline(time.Now().Add(socketDialTimeout))
			err := tc.Handshake()
			conn.SetDeadline(time.Time{})
			if err != nil {
				t.release()
				conn.Close()
				return nil, namedError{"Error", "TLS handshake failed: " + err.Error()}
			}
			return iso.socketOpened(t, tc)
		})
	}
	fns["sockWrite"] = func(iso *Isolate, id int, data quickjs.Value) quickjs.Value {
		b, _ := jsvm.ArrayBufferBytes(data)
		b = append([]byte(nil), b...)
		conn := t.get(id)
		return iso.async(func() (func() quickjs.Value, error) {
			if conn == nil {
				return nil, errors.New("This WritableStream has been closed.")
			}
			if _, err := conn.Write(b); err != nil {
				return nil, errors.New("Network connection lost.")
			}
			return nil, nil
		})
	}
	// sockCloseWrite ends the writing side (the peer reads its end) and
	// keeps reading.
	fns["sockCloseWrite"] = func(iso *Isolate, id int) {
		if c, ok := t.get(id).(interface{ CloseWrite() error }); ok {
			c.CloseWrite()
		}
	}
	fns["sockClose"] = func(iso *Isolate, id int) {
		if c := t.remove(id); c != nil {
			c.Close()
		}
	}
}

// socketOpened adds an open connection (its place reserved) and gives what
// its promise resolves to: the JSON [id, bodyId, remoteAddress,
// localAddress], the body made on the loop.
func (iso *Isolate) socketOpened(t *socketTable, conn net.Conn) (func() quickjs.Value, error) {
	id, ok := t.add(conn)
	if !ok {
		conn.Close()
		return nil, ErrIsolateDead
	}
	remote, local := conn.RemoteAddr().String(), conn.LocalAddr().String()
	return func() quickjs.Value {
		body := iso.addBody(socketReader{conn})
		v, _ := iso.vm.NewString(fmt.Sprintf(`[%d,%d,%s,%s]`, id, body, jsonString(remote), jsonString(local)))
		return v
	}, nil
}
