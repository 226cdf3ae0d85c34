package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/workflows"
)

// approvalRunner stands in for a workflow's run(event, step) without
// JavaScript:
//
//	const data = await step.do("fetch", () => ({ n: 5n }));
//	const ok = await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
//	return ok;   // the event's payload
type approvalRunner struct{}

func (approvalRunner) Start(r *workflows.Run) { go runApproval(r) }

func runApproval(r *workflows.Run) {
	start := time.Now().UnixMilli()
	a := r.Step(workflows.StepRequest{Kind: workflows.KindDo, Name: "fetch", Count: 1})
	switch a.Action {
	case workflows.ActAbandon:
		return
	case workflows.ActRun:
		done := make(chan bool, 1)
		r.StepDone("fetch", 1, &workflows.Value{JSON: `{"n":{"$":"b","v":"5"}}`}, nil, 1, start, func(abandon bool, err error) {
			done <- abandon || err != nil
		})
		if <-done {
			return
		}
	}
	a = r.Step(workflows.StepRequest{Kind: workflows.KindWait, Name: "approval", Count: 1, DurationMs: 3_600_000, Type: "approve"})
	switch a.Action {
	case workflows.ActBlock:
		r.Suspend()
	case workflows.ActDone:
		r.Finish(a.Result, nil)
	case workflows.ActFailed:
		r.Finish(nil, a.Error)
	}
}

// failRunner's run() throws at once.
type failRunner struct{}

func (failRunner) Start(r *workflows.Run) {
	go r.Finish(nil, &workflows.ErrorInfo{Name: "TypeError", Message: "x is not a function"})
}

func newEngine(t *testing.T) *workflows.Engine {
	t.Helper()
	store, err := workflows.OpenStore(filepath.Join(t.TempDir(), "wf.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	e := workflows.New(store, workflows.Options{})
	for _, w := range []workflows.Workflow{
		{Name: "approvals", ClassName: "Approvals", Runner: approvalRunner{}},
		{Name: "broken", ClassName: "Broken", Runner: failRunner{}},
	} {
		if err := e.Register(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		store.Close()
	})
	return e
}

type adminClient struct {
	t   *testing.T
	url string
}

func newAdmin(t *testing.T) (*adminClient, *workflows.Engine) {
	e := newEngine(t)
	srv := httptest.NewServer(&Admin{Engine: e})
	t.Cleanup(srv.Close)
	return &adminClient{t: t, url: srv.URL}, e
}

// do sends a request and decodes the JSON answer into out (if not nil).
// It fails the test unless the status is want.
func (c *adminClient) do(method, path, body string, want int, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// fails checks that a request fails with status and an error naming want.
func (c *adminClient) fails(method, path, body string, status int, want string) {
	c.t.Helper()
	var e struct{ Error string }
	c.do(method, path, body, status, &e)
	if !strings.Contains(e.Error, want) {
		c.t.Fatalf("%s %s: error %q, want it to contain %q", method, path, e.Error, want)
	}
}

type detail struct {
	ID, Workflow, Status          string
	Params, Output                json.RawMessage
	Error                         *errorJSON
	Created, Started, Ended, Wake string
	Steps                         []stepJSON
	PendingEvents                 []eventJSON `json:"pending_events"`
}

func (c *adminClient) instance(wf, id string) detail {
	c.t.Helper()
	var d detail
	c.do("GET", "/api/workflows/"+wf+"/instances/"+id, "", 200, &d)
	return d
}

// waitStatus polls an instance until it has status.
func (c *adminClient) waitStatus(wf, id, status string) detail {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := c.instance(wf, id)
		if d.Status == status {
			return d
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s/%s: status %q, want %q", wf, id, d.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAdminLifecycle(t *testing.T) {
	c, _ := newAdmin(t)
	base := "/api/workflows/approvals/instances"

	var created struct{ ID string }
	c.do("POST", base, `{"id": "order-1", "params": {"$": "dollar", "when": "now", "n": 1.50}}`, 201, &created)
	if created.ID != "order-1" {
		t.Fatalf("created %q", created.ID)
	}
	d := c.waitStatus("approvals", "order-1", "waiting")
	if string(d.Params) != `{"$":"dollar","when":"now","n":1.50}` {
		t.Errorf("params %s", d.Params)
	}
	if d.Workflow != "approvals" || d.Created == "" || d.Started == "" || d.Ended != "" || d.Wake == "" || string(d.Output) != "null" || d.Error != nil {
		t.Errorf("instance %+v", d)
	}
	if _, err := time.Parse(time.RFC3339, d.Created); err != nil {
		t.Errorf("created: %v", err)
	}
	if len(d.Steps) != 2 {
		t.Fatalf("steps %+v", d.Steps)
	}
	fetch, wait := d.Steps[0], d.Steps[1]
	if fetch.Name != "fetch" || fetch.Count != 1 || fetch.Kind != "do" || fetch.State != "done" || fetch.Attempts != 1 ||
		string(fetch.Result) != `{"n":"5"}` || fetch.DurationMs == nil || fetch.Started == "" || fetch.Ended == "" {
		t.Errorf("fetch step %+v", fetch)
	}
	if wait.Name != "approval" || wait.Kind != "waitForEvent" || wait.State != "waiting" || wait.Type != "approve" ||
		wait.Wake == "" || wait.Ended != "" || wait.DurationMs != nil || wait.Result != nil {
		t.Errorf("wait step %+v", wait)
	}

	// An event nobody waits for stays pending; the awaited one ends the run.
	c.do("POST", base+"/order-1/events", `{"type": "other", "payload": [1, {"$": 2}]}`, 200, nil)
	d = c.instance("approvals", "order-1")
	if len(d.PendingEvents) != 1 || d.PendingEvents[0].Type != "other" || string(d.PendingEvents[0].Payload) != `[1,{"$":2}]` || d.PendingEvents[0].Timestamp == "" {
		t.Fatalf("pending events %+v", d.PendingEvents)
	}
	c.do("POST", base+"/order-1/events", `{"type": "approve", "payload": {"by": "ana"}}`, 200, nil)
	d = c.waitStatus("approvals", "order-1", "complete")
	if string(d.Output) != `{"by":"ana"}` || d.Ended == "" || d.Steps[1].State != "done" || string(d.Steps[1].Result) != `{"by":"ana"}` {
		t.Fatalf("completed %+v", d)
	}

	// Lists and counts.
	var list []instanceSummary
	c.do("GET", base+"?status=complete", "", 200, &list)
	if len(list) != 1 || list[0].ID != "order-1" || list[0].Status != "complete" || list[0].Ended == "" {
		t.Fatalf("list %+v", list)
	}
	c.do("GET", base+"?status=waiting&limit=5", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("waiting list %+v", list)
	}
	var wfs []workflowSummary
	c.do("GET", "/api/workflows", "", 200, &wfs)
	if len(wfs) != 2 || wfs[0].Name != "approvals" || wfs[0].Instances["complete"] != 1 || wfs[1].Name != "broken" || len(wfs[1].Instances) != 0 {
		t.Fatalf("workflows %+v", wfs)
	}

	// A finished instance can be restarted: its journal starts again.
	c.do("POST", base+"/order-1/restart", "", 200, nil)
	d = c.waitStatus("approvals", "order-1", "waiting")
	if len(d.Steps) != 2 || d.Steps[1].State != "waiting" || len(d.PendingEvents) != 0 {
		t.Fatalf("restarted %+v", d)
	}

	c.do("DELETE", base+"/order-1", "", 200, nil)
	c.fails("GET", base+"/order-1", "", 404, `workflow "approvals" has no instance "order-1"`)
	c.fails("DELETE", base+"/order-1", "", 404, "no instance")
}

func TestAdminPauseResumeTerminate(t *testing.T) {
	c, _ := newAdmin(t)
	base := "/api/workflows/approvals/instances"
	var created struct{ ID string }
	c.do("POST", base, "", 201, &created)
	if len(created.ID) != 36 {
		t.Fatalf("generated id %q", created.ID)
	}
	id := created.ID
	d := c.waitStatus("approvals", id, "waiting")
	if string(d.Params) != `{}` {
		t.Errorf("default params %s", d.Params)
	}
	c.do("POST", base+"/"+id+"/pause", "", 200, nil)
	c.waitStatus("approvals", id, "paused")
	c.do("POST", base+"/"+id+"/pause", "", 200, nil) // pausing a paused instance does nothing
	c.do("POST", base+"/"+id+"/resume", "{}", 200, nil)
	c.waitStatus("approvals", id, "waiting")
	c.do("POST", base+"/"+id+"/terminate", "", 200, nil)
	d = c.waitStatus("approvals", id, "terminated")
	if d.Ended == "" {
		t.Errorf("terminated without an end: %+v", d)
	}
	c.fails("POST", base+"/"+id+"/terminate", "", 400, "terminate approvals/"+id+": ")
	c.do("POST", base+"/"+id+"/events", `{"type": "approve"}`, 200, nil) // kept, as the reference does
}

func TestAdminErroredInstance(t *testing.T) {
	c, _ := newAdmin(t)
	c.do("POST", "/api/workflows/broken/instances", `{"id": "b1", "params": null}`, 201, nil)
	d := c.waitStatus("broken", "b1", "errored")
	if d.Error == nil || d.Error.Name != "TypeError" || d.Error.Message != "x is not a function" || string(d.Params) != "null" {
		t.Fatalf("errored %+v", d)
	}
	var list []instanceSummary
	c.do("GET", "/api/workflows/broken/instances", "", 200, &list)
	if len(list) != 1 || list[0].Error == nil || list[0].Error.Message != "x is not a function" {
		t.Fatalf("list %+v", list)
	}
}

func TestAdminErrors(t *testing.T) {
	c, _ := newAdmin(t)
	base := "/api/workflows/approvals/instances"
	c.do("POST", base, `{"id": "a"}`, 201, nil)

	// 404: unknown workflow, instance, path, action.
	c.fails("GET", "/api/workflows/nope/instances", "", 404, `no workflow named "nope" (the project has "approvals", "broken")`)
	c.fails("POST", "/api/workflows/nope/instances", "", 404, `no workflow named "nope"`)
	c.fails("GET", base+"/missing", "", 404, `workflow "approvals" has no instance "missing"`)
	for _, action := range []string{"pause", "resume", "terminate", "restart"} {
		c.fails("POST", base+"/missing/"+action, "", 404, "no instance")
	}
	c.fails("POST", base+"/missing/events", `{"type": "t"}`, 404, "no instance")
	c.fails("POST", base+"/a/frobnicate", "", 404, `unknown action "frobnicate"`)
	c.fails("GET", "/nope", "", 404, "no such endpoint")

	// 400: bad input and refused operations.
	c.fails("POST", base, `{"id": "a"}`, 400, "create approvals/a: ")
	c.fails("POST", base, `{"id": "-bad"}`, 400, "create approvals/-bad: ")
	c.fails("POST", base, `{"id": ""}`, 400, "create approvals/: ")
	c.fails("POST", base, `{"params": {"a": }}`, 400, "not the JSON object expected")
	c.fails("POST", base, `{"parameters": {}}`, 400, `unknown field "parameters"`)
	c.fails("POST", base, `[1]`, 400, "not the JSON object expected")
	c.fails("POST", base, `{} {}`, 400, "text after")
	c.fails("POST", base, `{"params": "`+strings.Repeat("x", 1<<20)+`"}`, 400, "create approvals: ")
	c.fails("POST", base, strings.Repeat(" ", maxBodyBytes+1), 400, "larger than")
	c.fails("POST", base+"/a/events", `{"payload": 1}`, 400, `needs a "type"`)
	c.fails("POST", base+"/a/events", `{"type": ""}`, 400, `needs a "type"`)
	c.fails("POST", base+"/a/pause", `{"force": true}`, 400, `unknown field "force"`)
	c.fails("GET", base+"?status=sleeping", "", 400, `status "sleeping": expected one of queued, running`)
	c.fails("GET", base+"?limit=0", "", 400, `limit "0"`)
	c.fails("GET", base+"?limit=x", "", 400, `limit "x"`)

	// 405, with Allow.
	c.fails("PUT", "/api/workflows", "", 405, "takes GET")
	c.fails("DELETE", base, "", 405, "takes GET, POST")
	c.fails("POST", base+"/a", "", 405, "takes GET, DELETE")
	c.fails("GET", base+"/a/pause", "", 405, "takes POST")
	c.fails("GET", base+"/a/events", "", 405, "takes POST")
	req, _ := http.NewRequest("PUT", c.url+"/api/workflows", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", resp.Header.Get("Allow"))
	}
}

func TestAdminRefusesBrowsers(t *testing.T) {
	c, _ := newAdmin(t)
	for _, h := range [][2]string{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "same-origin"}} {
		req, _ := http.NewRequest("POST", c.url+"/api/workflows/approvals/instances", nil)
		req.Header.Set(h[0], h[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("%s: status %d", h[0], resp.StatusCode)
		}
	}
	var list []instanceSummary
	c.do("GET", "/api/workflows/approvals/instances", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("a browser request created %+v", list)
	}
}

func TestAdminWithoutWorkflows(t *testing.T) {
	srv := httptest.NewServer(&Admin{})
	defer srv.Close()
	c := &adminClient{t: t, url: srv.URL}
	c.fails("GET", "/api/workflows", "", 404, "no workflows")
}

func TestTimeJSON(t *testing.T) {
	if s := timeJSON(0); s != "" {
		t.Errorf("zero: %q", s)
	}
	if s := timeJSON(1714564800005); s != "2024-05-01T12:00:00.005Z" {
		t.Errorf("got %q", s)
	}
}
