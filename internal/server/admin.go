package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/workflows"
)

// Admin is the operator's JSON API over a workflow engine: list workflows
// and instances, read an instance's step history, create instances, pause,
// resume, terminate, restart and delete them, send them events. `isola dev`
// serves it on its own loopback listener and `isola workflows` talks to it.
//
//	GET    /api/workflows                                  [{name, instances: {status: count}}]
//	GET    /api/workflows/{name}/instances?status=&limit=  [{id, status, created, started, ended, error}], newest first
//	POST   /api/workflows/{name}/instances                 {"id"?, "params"?} → 201 {id}
//	GET    /api/workflows/{name}/instances/{id}            the instance, its steps and pending events
//	POST   /api/workflows/{name}/instances/{id}/{action}   pause, resume, terminate, restart → {"ok": true}
//	POST   /api/workflows/{name}/instances/{id}/events     {"type", "payload"?} → {"ok": true}
//	DELETE /api/workflows/{name}/instances/{id}            → {"ok": true}
//
// Values (params, outputs, step results, payloads) are shown as plain JSON
// (workflows.Value.Plain) and taken as plain JSON (workflows.ValueFromJSON):
// params left out are {}, as create() makes them; a payload left out is
// undefined, as sendEvent({type}) sends it.
// Times are RFC 3339 strings in UTC, left out when they have not happened.
// Errors are {"error": message} with 400 for bad input or a refused
// operation, 404 for an unknown workflow or instance, 405 for a method the
// path does not take, 500 for anything else.
//
// The API can terminate and delete instances and has no authentication: it
// is meant for a loopback address. Requests that come from a web browser
// (they carry Origin or Sec-Fetch-Site) are refused, so that a web page the
// operator visits cannot drive it, not even through DNS rebinding.
type Admin struct {
	Engine *workflows.Engine
	// Log, if set, receives a line for every change made and every
	// refused change or failure (not for reads that find nothing).
	Log *log.Logger

	once sync.Once
	mux  *http.ServeMux
}

const (
	defaultListLimit = 100
	maxListLimit     = 10_000
	maxBodyBytes     = 4 << 20 // values are limited to 1 MiB; JSON escapes may double it
)

func (a *Admin) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/workflows", a.listWorkflows)
	m.HandleFunc("GET /api/workflows/{name}/instances", a.listInstances)
	m.HandleFunc("POST /api/workflows/{name}/instances", a.create)
	m.HandleFunc("GET /api/workflows/{name}/instances/{id}", a.instance)
	m.HandleFunc("DELETE /api/workflows/{name}/instances/{id}", a.delete)
	m.HandleFunc("POST /api/workflows/{name}/instances/{id}/events", a.sendEvent)
	m.HandleFunc("POST /api/workflows/{name}/instances/{id}/{action}", a.control)
	// The same paths without a method catch the methods they do not take,
	// so that the answer is JSON; anything else is a JSON 404.
	for path, allow := range map[string]string{
		"/api/workflows":                                "GET",
		"/api/workflows/{name}/instances":               "GET, POST",
		"/api/workflows/{name}/instances/{id}":          "GET, DELETE",
		"/api/workflows/{name}/instances/{id}/{action}": "POST",
	} {
		m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: this path takes %s", r.Method, r.URL.Path, allow))
		})
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s (see GET /api/workflows)", r.Method, r.URL.Path))
	})
	a.mux = m
}

func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.once.Do(a.routes)
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
		WriteError(w, http.StatusForbidden, "the admin API does not take requests from web browsers")
		return
	}
	if a.Engine == nil {
		WriteError(w, http.StatusNotFound, "this project has no workflows")
		return
	}
	a.mux.ServeHTTP(w, r)
}

// ---- responses ----

type workflowSummary struct {
	Name      string                   `json:"name"`
	Instances map[workflows.Status]int `json:"instances"`
}

type errorJSON struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type instanceSummary struct {
	ID      string     `json:"id"`
	Status  string     `json:"status"`
	Created string     `json:"created,omitempty"`
	Started string     `json:"started,omitempty"`
	Ended   string     `json:"ended,omitempty"`
	Error   *errorJSON `json:"error,omitempty"`
	Code    *codeJSON  `json:"code,omitempty"`
}

type instanceDetail struct {
	ID            string          `json:"id"`
	Workflow      string          `json:"workflow"`
	Status        string          `json:"status"`
	Params        json.RawMessage `json:"params"`
	Output        json.RawMessage `json:"output"`
	Error         *errorJSON      `json:"error"`
	Created       string          `json:"created,omitempty"`
	Started       string          `json:"started,omitempty"`
	Ended         string          `json:"ended,omitempty"`
	Wake          string          `json:"wake,omitempty"`
	Code          *codeJSON       `json:"code,omitempty"`
	Steps         []stepJSON      `json:"steps"`
	PendingEvents []eventJSON     `json:"pending_events"`
}

type stepJSON struct {
	Name       string          `json:"name"`
	Count      int             `json:"count"`
	Kind       string          `json:"kind"`
	State      string          `json:"state"`
	Attempts   int             `json:"attempts"`
	Started    string          `json:"started,omitempty"`
	Ended      string          `json:"ended,omitempty"`
	DurationMs *int64          `json:"duration_ms,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      *errorJSON      `json:"error,omitempty"`
	Wake       string          `json:"wake,omitempty"`
	Type       string          `json:"type,omitempty"`
	// Unreached: the run that finished the instance never asked for this
	// recorded step (its code changed, or is not deterministic).
	Unreached bool `json:"unreached,omitempty"`
}

func codeOf(in *workflows.Instance) *codeJSON {
	if in.CodeStarted == "" {
		return nil
	}
	return &codeJSON{Started: in.CodeStarted, Latest: in.CodeLatest, Changed: in.CodeStarted != in.CodeLatest}
}

// codeJSON is the dynamic worker code that ran an instance's steps,
// "<loader id>@<version>": the code it started on and the latest.
type codeJSON struct {
	Started string `json:"started"`
	Latest  string `json:"latest"`
	Changed bool   `json:"changed"`
}

type eventJSON struct {
	Type      string          `json:"type"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp string          `json:"timestamp,omitempty"`
}

var okJSON = map[string]bool{"ok": true}

// timeJSON is an RFC 3339 time in UTC with milliseconds; "" for 0.
func timeJSON(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func errJSON(e *workflows.ErrorInfo) *errorJSON {
	if e == nil {
		return nil
	}
	return &errorJSON{Name: e.Name, Message: e.Message}
}

// plain shows a stored value; one that cannot be shown becomes a string
// saying why, so that the rest of the instance can still be read.
func plain(v *workflows.Value) json.RawMessage {
	p, err := v.Plain()
	if err != nil {
		b, _ := json.Marshal(fmt.Sprintf("[cannot show this value: %v]", err))
		return b
	}
	return p
}

// WriteJSON answers v as JSON (HTML characters unescaped, never cached).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		enc.Encode(map[string]string{"error": "encoding the response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// WriteError answers {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// fail answers err: 404 for a missing instance, 400 for a refused
// operation or bad input, else 500. what names the operation and its
// target ("terminate orders/o-1"); the engine's messages, which are the
// reference's, do not always say.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	status := http.StatusInternalServerError
	msg := err.Error()
	var ue *workflows.UserError
	switch {
	case errors.Is(err, workflows.ErrNotFound):
		status = http.StatusNotFound
		msg = fmt.Sprintf("workflow %q has no instance %q", r.PathValue("name"), r.PathValue("id"))
	case errors.As(err, &ue):
		status = http.StatusBadRequest
		if what != "" {
			msg = what + ": " + msg
		}
	default:
		if what != "" {
			msg = what + ": " + msg
		}
	}
	if r.Method != http.MethodGet || status >= 500 {
		a.logf("%s %s: %d %s", r.Method, r.URL.Path, status, msg)
	}
	WriteError(w, status, msg)
}

func (a *Admin) logf(format string, args ...any) {
	if a.Log != nil {
		a.Log.Printf("admin: "+format, args...)
	}
}

func badRequest(format string, args ...any) error {
	return &workflows.UserError{Message: fmt.Sprintf(format, args...)}
}

// workflow reads {name} and answers 404 when no such workflow is
// registered.
func (a *Admin) workflow(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !a.Engine.HasWorkflow(name) {
		msg := fmt.Sprintf("no workflow named %q", name)
		if names := a.Engine.Workflows(); len(names) > 0 {
			msg += fmt.Sprintf(" (the project has %s)", strings.Join(quoteAll(names), ", "))
		}
		WriteError(w, http.StatusNotFound, msg)
		return "", false
	}
	return name, true
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// readBody decodes a JSON object body into v, refusing unknown fields. An
// empty body leaves v as it is.
func readBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return badRequest("the request body is larger than %d bytes", tooBig.Limit)
		}
		return badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("the request body is not the JSON object expected: %v", err)
	}
	if dec.More() {
		return badRequest("the request body has text after its JSON object")
	}
	return nil
}

// ---- handlers ----

func (a *Admin) listWorkflows(w http.ResponseWriter, r *http.Request) {
	counts, err := a.Engine.Counts()
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	out := []workflowSummary{}
	for _, name := range a.Engine.Workflows() {
		out = append(out, workflowSummary{Name: name, Instances: counts[name]})
	}
	WriteJSON(w, http.StatusOK, out)
}

var statuses = []workflows.Status{
	workflows.Queued, workflows.Running, workflows.Paused, workflows.Errored, workflows.Terminated,
	workflows.Complete, workflows.Waiting, workflows.WaitingForPause, workflows.Unknown,
}

func (a *Admin) listInstances(w http.ResponseWriter, r *http.Request) {
	name, ok := a.workflow(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := workflows.ListFilter{Workflow: name, Limit: defaultListLimit}
	if s := q.Get("status"); s != "" {
		found := false
		for _, st := range statuses {
			found = found || string(st) == s
		}
		if !found {
			names := make([]string, len(statuses))
			for i, st := range statuses {
				names[i] = string(st)
			}
			a.fail(w, r, "", badRequest("status %q: expected one of %s", s, strings.Join(names, ", ")))
			return
		}
		f.Status = workflows.Status(s)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			a.fail(w, r, "", badRequest("limit %q: expected a number from 1 to %d", s, maxListLimit))
			return
		}
		f.Limit = n
	}
	list, err := a.Engine.List(f)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	out := make([]instanceSummary, 0, len(list))
	for _, in := range list {
		out = append(out, instanceSummary{ID: in.ID, Status: string(in.Status), Created: timeJSON(in.CreatedMs),
			Started: timeJSON(in.StartedMs), Ended: timeJSON(in.EndedMs), Error: errJSON(in.Error), Code: codeOf(in)})
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *Admin) create(w http.ResponseWriter, r *http.Request) {
	name, ok := a.workflow(w, r)
	if !ok {
		return
	}
	var body struct {
		ID     *string         `json:"id"`
		Params json.RawMessage `json:"params"`
	}
	if err := readBody(w, r, &body); err != nil {
		a.fail(w, r, "", err)
		return
	}
	params := workflows.Value{JSON: "{}"} // create() without params gives {}
	if len(body.Params) > 0 {
		var err error
		if params, err = workflows.ValueFromJSON(body.Params); err != nil {
			a.fail(w, r, "", badRequest("params: %v", err))
			return
		}
	}
	req := workflows.CreateRequest{ID: workflows.AutoID, Params: params}
	what := "create " + name
	if body.ID != nil {
		req.ID = *body.ID
		what += "/" + *body.ID
	}
	in, err := a.Engine.Create(name, req)
	if err != nil {
		a.fail(w, r, what, err)
		return
	}
	a.logf("created %s/%s", name, in.ID)
	WriteJSON(w, http.StatusCreated, map[string]string{"id": in.ID})
}

func (a *Admin) instance(w http.ResponseWriter, r *http.Request) {
	name, ok := a.workflow(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	in, err := a.Engine.Instance(name, id)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	st := a.Engine.Store()
	steps, err := st.Steps(name, id)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	events, err := st.PendingEvents(name, id)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	out := instanceDetail{ID: in.ID, Workflow: in.Workflow, Status: string(in.Status), Params: plain(&in.Params),
		Output: plain(in.Output), Error: errJSON(in.Error), Created: timeJSON(in.CreatedMs),
		Started: timeJSON(in.StartedMs), Ended: timeJSON(in.EndedMs), Wake: timeJSON(in.WakeMs),
		Steps: make([]stepJSON, 0, len(steps)), PendingEvents: make([]eventJSON, 0, len(events))}
	out.Code = codeOf(in)
	for _, s := range steps {
		sj := stepJSON{Name: s.Name, Count: s.Count, Kind: string(s.Kind), State: string(s.State), Attempts: s.Attempts,
			Started: timeJSON(s.StartMs), Ended: timeJSON(s.EndMs), Error: errJSON(s.Error), Wake: timeJSON(s.WakeMs), Type: s.Type,
			Unreached: s.Unreached}
		if s.StartMs != 0 && s.EndMs != 0 {
			// A wait's end is the event's time, which may come before the
			// wait began.
			d := max(s.EndMs-s.StartMs, 0)
			sj.DurationMs = &d
		}
		if s.Result != nil {
			sj.Result = plain(s.Result)
		}
		out.Steps = append(out.Steps, sj)
	}
	for _, ev := range events {
		out.PendingEvents = append(out.PendingEvents, eventJSON{Type: ev.Type, Payload: plain(&ev.Payload), Timestamp: timeJSON(ev.TimestampMs)})
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *Admin) control(w http.ResponseWriter, r *http.Request) {
	name, ok := a.workflow(w, r)
	if !ok {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	var op func(string, string) error
	switch action {
	case "pause":
		op = a.Engine.Pause
	case "resume":
		op = a.Engine.Resume
	case "terminate":
		op = a.Engine.Terminate
	case "restart":
		op = a.Engine.Restart
	default:
		WriteError(w, http.StatusNotFound, fmt.Sprintf("unknown action %q: expected pause, resume, terminate, restart or events", action))
		return
	}
	if err := readBody(w, r, &struct{}{}); err != nil {
		a.fail(w, r, "", err)
		return
	}
	if err := op(name, id); err != nil {
		a.fail(w, r, action+" "+name+"/"+id, err)
		return
	}
	a.logf("%s %s/%s", action, name, id)
	WriteJSON(w, http.StatusOK, okJSON)
}

func (a *Admin) sendEvent(w http.ResponseWriter, r *http.Request) {
	name, ok := a.workflow(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	var body struct {
		Type    *string         `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := readBody(w, r, &body); err != nil {
		a.fail(w, r, "", err)
		return
	}
	if body.Type == nil || *body.Type == "" {
		a.fail(w, r, "", badRequest(`the event needs a "type" (the type its waitForEvent waits for)`))
		return
	}
	// No payload is undefined, as sendEvent({type}) gives.
	payload, err := workflows.ValueFromJSON(body.Payload)
	if err != nil {
		a.fail(w, r, "", badRequest("payload: %v", err))
		return
	}
	if err := a.Engine.SendEvent(name, id, *body.Type, payload); err != nil {
		a.fail(w, r, fmt.Sprintf("send event %q to %s/%s", *body.Type, name, id), err)
		return
	}
	a.logf("event %q sent to %s/%s", *body.Type, name, id)
	WriteJSON(w, http.StatusOK, okJSON)
}

func (a *Admin) delete(w http.ResponseWriter, r *http.Request) {
	name, ok := a.workflow(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	// Delete succeeds for an instance that does not exist; say so instead.
	if _, err := a.Engine.Instance(name, id); err != nil {
		a.fail(w, r, "", err)
		return
	}
	if err := a.Engine.Delete(name, id); err != nil {
		a.fail(w, r, "delete "+name+"/"+id, err)
		return
	}
	a.logf("deleted %s/%s", name, id)
	WriteJSON(w, http.StatusOK, okJSON)
}

// ---- listening ----

// ListenBackground binds addr and serves h on its own goroutine until the
// process ends. It returns the bound address (addr may have port 0).
func ListenBackground(addr string, h http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	return ln.Addr(), nil
}
