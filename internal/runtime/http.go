package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// inflight is one HTTP request being answered by JavaScript.
type inflight struct {
	id        int
	w         http.ResponseWriter
	r         *http.Request
	done      chan error // receives once, when the response is complete
	responded bool       // loop: a response (or failure) has been sent
	streaming bool       // loop: the body is being written chunk by chunk
	wmu       sync.Mutex // serialises writes to w from op goroutines
	gone      bool       // guarded by wmu: the client went away
	devErrors bool
	// final is a whole response, set by the loop before done receives
	// nil: ServeHTTP's goroutine writes it, which keeps the headers' parsing
	// and net/http's writing off the loop.
	final *finalResponse
}

type finalResponse struct {
	status  int
	headers string // name, value, ... joined by NUL
	data    []byte
	socket  *wsEnd // a WebSocket upgrade's end for the client (websocket.go)
	upgrade bool   // a WebSocket upgrade: with socket nil, one to drop at once
}

// RequestError is a failed invocation: the worker threw, or a limit was hit.
// Status is what the client was sent (when a response could still be sent).
type RequestError struct {
	Err error
}

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// ServeOptions tune how ServeHTTP reports failures.
type ServeOptions struct {
	// DevErrors puts the error and its stack in a failed response's body, as
	// `wrangler dev` does; otherwise the body is empty.
	DevErrors bool
}

// headerBlob encodes headers as the prelude reads them: lower-case names and
// values alternating, NUL-separated (neither may contain a NUL).
func headerBlob(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		lk := strings.ToLower(k)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte(0)
			}
			b.WriteString(lk)
			b.WriteByte(0)
			b.WriteString(v)
		}
	}
	return b.String()
}

// ServeHTTP delivers r to the worker's fetch handler and writes its response.
// It returns once the response is complete; the error says why it failed, if
// it did, and the response was then a 500 (or the connection was aborted if
// the body had already started).
func (iso *Isolate) ServeHTTP(w http.ResponseWriter, r *http.Request, opts ServeOptions) error {
	// A worker may stream its response while it still reads the request
	// (an echo does); HTTP/1 in net/http forbids that unless asked.
	http.NewResponseController(w).EnableFullDuplex()
	url := requestURL(r)
	headers := headerBlob(r.Header)
	req := &inflight{w: w, r: r, done: make(chan error, 1), devErrors: opts.DevErrors}
	// A request has a body (maybe empty) when it says so with a length or a
	// transfer encoding; a body-less GET gets request.body === null.
	hasBody := r.ContentLength > 0 || len(r.TransferEncoding) > 0 || r.Header.Get("Content-Length") != "" ||
		(r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0)
	if !iso.post(func() {
		iso.nextID++
		req.id = iso.nextID
		iso.inflight[req.id] = req
		bodyID := 0
		if hasBody {
			bodyID = iso.addBody(r.Body)
		}
		if _, err := iso.call("fetch", req.id, r.Method, url, headers, bodyID); err != nil && iso.Err() == nil {
			// (A call that killed the isolate, a limit hit, fails with the
			// limit's message as the isolate shuts down.)
			iso.failRequest(req, err)
		}
	}) {
		return iso.Err()
	}
	wall := time.NewTimer(iso.limits.Wall)
	defer wall.Stop()
	select {
	case err := <-req.done:
		return req.finish(err)
	case <-wall.C:
		iso.post(func() { iso.failRequest(req, fmt.Errorf("Worker did not respond within %s.", iso.limits.Wall)) })
	case <-r.Context().Done():
		req.wmu.Lock()
		req.gone = true
		req.wmu.Unlock()
		iso.post(func() { iso.failRequest(req, errors.New("Client disconnected.")) })
	case <-iso.done:
		// A response handed over just before the isolate died is still
		// the answer.
		select {
		case err := <-req.done:
			return req.finish(err)
		default:
		}
		req.wmu.Lock()
		defer req.wmu.Unlock()
		if !req.gone {
			req.gone = true
			writeFailure(w, iso.Err(), req.devErrors)
		}
		return &RequestError{iso.Err()}
	}
	select {
	case err := <-req.done:
		return req.finish(err)
	case <-iso.done:
		select {
		case err := <-req.done:
			return req.finish(err)
		default:
		}
		return &RequestError{iso.Err()}
	}
}

// finish writes the whole response the loop handed over, if it did and the
// client is still there.
func (req *inflight) finish(err error) error {
	f := req.final
	if f == nil {
		return err
	}
	req.wmu.Lock()
	defer req.wmu.Unlock()
	if req.gone {
		return err
	}
	if f.upgrade {
		h := http.Header{}
		setResponseHeaders(h, f.headers)
		if aerr := attachWebSocket(req.w, req.r, f.socket, h); aerr != nil && err == nil {
			err = &RequestError{fmt.Errorf("WebSocket upgrade: %w", aerr)}
		}
		return err
	}
	h := req.w.Header()
	setResponseHeaders(h, f.headers)
	if h.Get("Content-Length") == "" && f.status != 204 && f.status != 304 {
		h.Set("Content-Length", strconv.Itoa(len(f.data)))
	}
	req.w.WriteHeader(f.status)
	req.w.Write(f.data)
	return err
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// setResponseHeaders adds a worker's response headers (name, value, ...
// joined by NUL) to h.
func setResponseHeaders(h http.Header, blob string) {
	for rest := blob; rest != ""; {
		var k, v string
		k, rest, _ = strings.Cut(rest, "\x00")
		v, rest, _ = strings.Cut(rest, "\x00")
		h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], v)
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no sniffing: workerd sends no type it was not given
	}
}

// respond is called by the prelude with the worker's Response. body is
// undefined/null (no body), a string, an ArrayBuffer, or true: the body
// follows through write/closeStream and the returned id names the stream.
func (iso *Isolate) respond(id, status int, statusText, headers string, body quickjs.Value, webSocket quickjs.Value) string {
	req := iso.inflight[id]
	if req == nil || req.responded {
		return ""
	}
	if x, _ := webSocket.Any(); x != nil && !webSocket.IsUndefined() {
		e, err := iso.takeResponseWebSocket(webSocket)
		if err == nil && !asksUpgrade(headerBlob(req.r.Header)) {
			e.abandon()
			err = errNotUpgrade
		}
		if err != nil && (err == errNotUpgrade || !asksUpgrade(headerBlob(req.r.Header))) {
			iso.failRequest(req, err)
			return ""
		}
		if err != nil {
			// An end that cannot go (it was used): workerd completes the
			// handshake and drops the connection, and logs why.
			iso.logf("error", "Uncaught "+errorName(err)+": "+errorText(err))
		}
		req.responded = true
		delete(iso.inflight, id)
		req.final = &finalResponse{status: status, headers: headers, socket: e, upgrade: true}
		req.done <- nil
		return ""
	}
	req.responded = true
	var data []byte
	streaming := false
	kind, _ := body.Any()
	switch b := kind.(type) {
	case nil, quickjs.Undefined:
	case string:
		data = []byte(b)
	case bool:
		streaming = b
	default:
		buf, ok := jsvm.ArrayBufferBytes(body)
		if !ok {
			iso.failRequest(req, errors.New("respond: unsupported body"))
			return ""
		}
		data = buf
	}
	if !streaming {
		delete(iso.inflight, id)
		req.final = &finalResponse{status: status, headers: headers, data: data}
		req.done <- nil
		return ""
	}
	setResponseHeaders(req.w.Header(), headers)
	req.streaming = true
	req.w.WriteHeader(status)
	return strconv.Itoa(id)
}

// writeChunk writes one chunk of a streamed response and flushes it, so the
// client sees it at once; the promise settles when the write is done, which
// gives the stream back-pressure.
func (iso *Isolate) writeChunk(id int, chunk quickjs.Value) quickjs.Value {
	req := iso.inflight[id]
	data, _ := jsvm.ArrayBufferBytes(chunk)
	return iso.async(func() (func() quickjs.Value, error) {
		if req == nil || !req.streaming {
			return nil, errors.New("This WritableStream has been closed.")
		}
		req.wmu.Lock()
		defer req.wmu.Unlock()
		if req.gone {
			return nil, errors.New("Network connection lost.")
		}
		if _, err := req.w.Write(data); err != nil {
			return nil, errors.New("Network connection lost.")
		}
		if f, ok := req.w.(http.Flusher); ok {
			f.Flush()
		}
		return nil, nil
	})
}

// closeStream ends a streamed response; a non-empty errText aborts it (the
// client sees a truncated body, as with workerd).
func (iso *Isolate) closeStream(id int, errText string) {
	req := iso.inflight[id]
	if req == nil {
		return
	}
	delete(iso.inflight, id)
	if errText != "" {
		iso.logf("error", "Uncaught (in response body) "+iso.script.SourceMap.MapStack(errText))
		req.done <- &RequestError{errors.New(errText)}
		return
	}
	req.done <- nil
}

// failFromJS reports an exception from the fetch handler.
func (iso *Isolate) failFromJS(id int, text string) {
	req := iso.inflight[id]
	if req == nil {
		return
	}
	if text == "null" && iso.heapWasNearLimit() {
		// QuickJS throws null when it cannot even allocate the out-of-memory
		// error; the values that filled the heap may be freed by now.
		text = "InternalError: out of memory"
	}
	if iso.Err() != nil || iso.checkFatalText(text) {
		return // shutdown fails the request with the limit's message
	}
	text = iso.script.SourceMap.MapStack(text)
	iso.logf("error", "Uncaught "+text)
	iso.failRequest(req, &scriptError{text})
}

// scriptError is an exception thrown by worker code, with its stack.
type scriptError struct{ text string }

func (e *scriptError) Error() string { return e.text }

// failRequest ends a request that has not completed: a 500 if nothing was
// sent yet, otherwise the stream is cut.
func (iso *Isolate) failRequest(req *inflight, err error) {
	if iso.inflight[req.id] != req {
		return
	}
	delete(iso.inflight, req.id)
	if req.responded && req.streaming {
		req.done <- &RequestError{err}
		return
	}
	req.responded = true
	if _, ok := err.(*scriptError); !ok && err != nil {
		iso.logf("error", err.Error())
	}
	go func() {
		req.wmu.Lock()
		if !req.gone {
			writeFailure(req.w, err, req.devErrors)
		}
		req.wmu.Unlock()
		req.done <- &RequestError{err}
	}()
}

func writeFailure(w http.ResponseWriter, err error, dev bool) {
	body := ""
	if dev && err != nil {
		body = "Error: " + errorText(err) + "\n"
		if se, ok := err.(*scriptError); ok {
			body = se.text + "\n"
		}
	}
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, body)
}

// ---- outbound fetch ----

var outboundClient = &http.Client{
	Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	},
	// Redirects are followed by the prelude, which knows the request's
	// redirect mode and rewrites methods as fetch requires.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type fetchMeta struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
}

type fetchResult struct {
	Status     int         `json:"status"`
	StatusText string      `json:"statusText"`
	Headers    [][2]string `json:"headers"`
	Body       int         `json:"body"`
	URL        string      `json:"url"`
	WebSocket  int         `json:"webSocket,omitempty"` // an upgrade's end (websocket.go)
}

// fetch performs one HTTP exchange for the prelude's fetch(). The body is
// buffered by the prelude; the response body streams through read().
func (iso *Isolate) fetch(metaJSON string, body quickjs.Value) quickjs.Value {
	var meta fetchMeta
	err := json.Unmarshal([]byte(metaJSON), &meta)
	var data []byte
	hasBody := false
	if !body.IsUndefined() {
		data, hasBody = jsvm.ArrayBufferBytes(body)
	}
	return iso.async(func() (func() quickjs.Value, error) {
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if hasBody {
			rd = bytes.NewReader(data)
		}
		req, err := http.NewRequest(meta.Method, meta.URL, rd)
		if err != nil {
			return nil, fmt.Errorf("Fetch API cannot load: %s", meta.URL)
		}
		for _, kv := range meta.Headers {
			if strings.EqualFold(kv[0], "host") {
				req.Host = kv[1]
				continue
			}
			req.Header.Add(kv[0], kv[1])
		}
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", "Cloudflare-Workers")
		}
		if strings.EqualFold(strings.TrimSpace(req.Header.Get("Upgrade")), "websocket") {
			return iso.fetchWebSocket(req)
		}
		resp, err := outboundClient.Do(req)
		if err != nil {
			return nil, namedError{"TypeError", fmt.Sprintf("Network connection lost. (%v)", err)}
		}
		res := fetchResult{Status: resp.StatusCode, StatusText: strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" "), URL: meta.URL}
		for k, vs := range resp.Header {
			for _, v := range vs {
				res.Headers = append(res.Headers, [2]string{k, v})
			}
		}
		return func() quickjs.Value {
			res.Body = iso.addBody(resp.Body)
			out, _ := json.Marshal(res)
			v, _ := iso.vm.NewString(string(out))
			return v
		}, nil
	})
}

// heapWasNearLimit reports whether the heap came near its limit recently
// (see jsvm.GCThreshold): a collection ran with the heap above 60% of it.
func (iso *Isolate) heapWasNearLimit() bool {
	return iso.gcThresholdNearLimit() || float64(jsvm.Memory(iso.vm).MallocSize) > 0.9*float64(iso.limits.Memory)
}

// gcThresholdNearLimit: the collector last ran with the heap above 60% of
// the limit (its threshold is 1.5 times the heap it left).
func (iso *Isolate) gcThresholdNearLimit() bool {
	return float64(jsvm.GCThreshold(iso.vm)) > 0.9*float64(iso.limits.Memory)
}
