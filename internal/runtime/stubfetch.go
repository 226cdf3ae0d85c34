package runtime

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// fetch() through a stub (a service binding, a Worker Loader's entrypoint,
// a Durable Object) is an HTTP exchange between isolates, and by far the
// most common call. It rides the RPC machinery (ordering, gates, eviction,
// abandonment are the same) but carries the request and the response in
// HTTP's terms: method, URL, the header blob both sides already use, and a
// body that is a string, bytes, or a stream the host reads. Neither side
// then runs the structured-clone encoder, and a body that came from the
// network (an incoming request, an outbound fetch's response) is handed
// over without JavaScript reading it.

// FetchRequest is the request of a fetch() through a stub.
type FetchRequest struct {
	Method, URL string
	Headers     string // headerBlob's format
	Body        fetchBody
}

// FetchResponse is what such a fetch() was answered with.
type FetchResponse struct {
	Status     int
	StatusText string
	Headers    string
	Body       fetchBody
	// Socket is the WebSocket end of a 101 answer (websocket.go): it
	// moves to the isolate the Response is handed to.
	Socket *wsEnd
}

// fetchBody is no body, a string, bytes, or a stream. A stream is owned by
// whoever holds the fetchBody last: handing it into an isolate takes it, and
// discard closes it if nobody took it.
type fetchBody struct {
	mu     sync.Mutex
	kind   int // bodyNone, bodyText, bodyBytes, bodyStream
	text   string
	bytes  []byte
	stream io.ReadCloser
}

const (
	bodyNone = iota
	bodyText
	bodyBytes
	bodyStream
)

func (r *FetchRequest) discard() {
	if r != nil {
		r.Body.discard()
	}
}

func (r *FetchResponse) discard() {
	if r != nil {
		r.Body.discard()
		if r.Socket != nil {
			r.Socket.abandon()
			r.Socket = nil
		}
	}
}

func (b *fetchBody) discard() {
	b.mu.Lock()
	s := b.stream
	b.stream = nil
	b.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// drop makes b no body.
func (b *fetchBody) drop() {
	b.discard()
	b.kind, b.text, b.bytes = bodyNone, "", nil
}

// take moves the body from JavaScript's value into b: undefined or null,
// a string, an ArrayBuffer (copied), or a number naming one of iso's host
// bodies, which iso gives up.
func (b *fetchBody) take(iso *Isolate, v quickjs.Value) error {
	x, _ := v.Any()
	switch x := x.(type) {
	case nil, quickjs.Undefined:
	case string:
		b.kind, b.text = bodyText, x
	case int, int64, float64:
		id := int(number(x))
		src, ok := iso.bodies[id]
		if !ok {
			return errors.New("This ReadableStream is disturbed (has already been read from), and cannot be used as a body.")
		}
		delete(iso.bodies, id)
		b.kind, b.stream = bodyStream, src.r
	default:
		data, ok := jsvm.ArrayBufferBytes(v)
		if !ok {
			return errors.New("isola: a fetch body must be a string, an ArrayBuffer or a host stream")
		}
		b.kind, b.bytes = bodyBytes, append([]byte(nil), data...)
	}
	return nil
}

// value gives b to iso's JavaScript: the kind and the body (a string, an
// ArrayBuffer, or the id of a host body iso now owns). The ArrayBuffer, if
// any, must be freed by the caller.
func (b *fetchBody) value(iso *Isolate) (int, any, *quickjs.Value) {
	switch b.kind {
	case bodyText:
		return bodyText, b.text, nil
	case bodyBytes:
		v := jsvm.NewArrayBuffer(iso.vm, b.bytes)
		return bodyBytes, v, &v
	case bodyStream:
		b.mu.Lock()
		s := b.stream
		b.stream = nil
		b.mu.Unlock()
		if s == nil {
			return bodyNone, "", nil
		}
		return bodyStream, iso.addBody(s), nil
	}
	return bodyNone, "", nil
}

// rpcFetch is host.rpcFetch: fetch() through the stub behind handle. The
// prelude's rpcSettleFetch settles the promise: from the response's parts
// (status, statusText, headers, kind, body) when the callee answered with a
// Response it could send in HTTP's terms, else from the packed reply.
func (iso *Isolate) rpcFetch(handle int, method, url, headers string, body quickjs.Value) quickjs.Value {
	t, ok := iso.handles[handle]
	req := &FetchRequest{Method: method, URL: url, Headers: headers}
	err := req.Body.take(iso, body)
	if !ok && err == nil {
		err = errors.New("Attempted to use RPC stub after it has been disposed.")
	}
	return iso.startCall(t, &Call{Path: []string{"fetch"}, Op: "call", Fetch: req}, err)
}

// deliverFetch is deliver for a fetch call.
func (iso *Isolate) deliverFetch(id int, req *FetchRequest, target string) {
	kind, body, free := req.Body.value(iso)
	_, err := iso.call("rpcFetchInvoke", id, target, req.Method, req.URL, req.Headers, kind, body)
	if free != nil {
		free.Free()
	}
	// A limit the callee hit has ended the isolate (deliver).
	if err != nil && iso.Err() == nil {
		iso.finishCall(id, Message{}, err)
	}
}

// rpcFetchReturn is host.rpcFetchReturn: the callee's Response to a fetch
// call, in HTTP's terms.
func (iso *Isolate) rpcFetchReturn(id, status int, statusText, headers string, body quickjs.Value, socket int64) {
	// The response crosses as HTTP does: a status without a reason phrase
	// gets the standard one, and a HEAD request's response has no body.
	if statusText == "" {
		statusText = http.StatusText(status)
	}
	resp := &FetchResponse{Status: status, StatusText: statusText, Headers: headers}
	if err := resp.Body.take(iso, body); err != nil {
		iso.finishCall(id, Message{}, err)
		return
	}
	if socket != 0 {
		e, err := iso.takeWebSocket(socket)
		if c := iso.calls[id]; err == nil && c != nil && c.Fetch != nil && !asksUpgrade(c.Fetch.Headers) {
			e.abandon()
			err = errNotUpgrade
		}
		if err != nil {
			resp.discard()
			iso.finishCall(id, Message{}, err)
			return
		}
		resp.Socket = e
	}
	if c := iso.calls[id]; c != nil && c.Fetch != nil && c.Fetch.Method == "HEAD" {
		resp.Body.drop()
	}
	// The output gate holds it back as it holds any reply (rpcReply).
	iso.hold(func() {
		if _, ok := iso.calls[id]; !ok {
			resp.discard()
			return
		}
		iso.finishCall(id, Message{Response: resp}, nil)
	})
}

// responseArgs gives r as the arguments the prelude's rpcSettleFetch takes
// after (resolve, reject, value, failed, url), and what to free after.
func (iso *Isolate) responseArgs(r *FetchResponse) ([]any, func()) {
	kind, body, free := r.Body.value(iso)
	args := []any{r.Status, r.StatusText, r.Headers, kind, body}
	if r.Socket != nil {
		args = append(args, iso.giveWebSocket(r.Socket))
		r.Socket = nil
	}
	if free == nil {
		return args, nil
	}
	return args, func() { free.Free() }
}

// packResponse makes the value the caller's promise resolves to, for a
// caller without the prelude's settlers (responseArgs is the usual way).
func (iso *Isolate) packResponse(r *FetchResponse) quickjs.Value {
	kind, body, free := r.Body.value(iso)
	v, err := iso.callValue("fetchPack", r.Status, r.StatusText, r.Headers, kind, body)
	if free != nil {
		free.Free()
	}
	if err != nil {
		return quickjs.UndefinedValue
	}
	return v
}
