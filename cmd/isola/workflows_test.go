package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/server"
	"github.com/isola-run/isola/internal/workflows"
)

// stepRunner stands in for run(event, step) without JavaScript:
//
//	const n = await step.do("count", () => 41);
//	const ev = await step.waitForEvent("go", { type: "go", timeout: "1 hour" });
//	return { n: n + 1, ev };
type stepRunner struct{}

func (stepRunner) Start(r *workflows.Run) {
	go func() {
		a := r.Step(workflows.StepRequest{Kind: workflows.KindDo, Name: "count", Count: 1})
		switch a.Action {
		case workflows.ActAbandon:
			return
		case workflows.ActRun:
			done := make(chan bool, 1)
			r.StepDone("count", 1, &workflows.Value{JSON: "41"}, nil, 2, time.Now().UnixMilli()-1500, func(abandon bool, err error) {
				done <- abandon || err != nil
			})
			if <-done {
				return
			}
		}
		a = r.Step(workflows.StepRequest{Kind: workflows.KindWait, Name: "go", Count: 1, DurationMs: 3_600_000, Type: "go"})
		switch a.Action {
		case workflows.ActBlock:
			r.Suspend()
		case workflows.ActDone:
			r.Finish(&workflows.Value{JSON: `{"n":42,"ev":` + a.Result.JSON + `}`}, nil)
		}
	}()
}

func startEngine(t *testing.T) *workflows.Engine {
	t.Helper()
	store, err := workflows.OpenStore(filepath.Join(t.TempDir(), "wf.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	e := workflows.New(store, workflows.Options{})
	if err := e.Register(workflows.Workflow{Name: "orders", ClassName: "Orders", Runner: stepRunner{}}); err != nil {
		t.Fatal(err)
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

// wf runs `isola workflows args...` against url and returns its output.
func wf(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(append([]string{"workflows"}, append(args, "--admin", url)...), &out, &errOut)
	return out.String(), err
}

func mustWF(t *testing.T, url string, args ...string) string {
	t.Helper()
	out, err := wf(t, url, args...)
	if err != nil {
		t.Fatalf("workflows %q: %v", args, err)
	}
	return out
}

func waitFor(t *testing.T, url, id, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d map[string]any
		if err := json.Unmarshal([]byte(mustWF(t, url, "status", "orders", id, "--json")), &d); err != nil {
			t.Fatal(err)
		}
		if d["status"] == status {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %v, want %s", id, d["status"], status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWorkflowsCommands(t *testing.T) {
	e := startEngine(t)
	srv := httptest.NewServer(&server.Admin{Engine: e})
	defer srv.Close()
	url := srv.URL

	if out := mustWF(t, url, "create", "orders", `{"sku": "A-1", "qty": 2}`, "--id", "o1"); out != "created orders/o1\n" {
		t.Fatalf("create: %q", out)
	}
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(mustWF(t, url, "create", "orders", "--json")), &created); err != nil || len(created.ID) != 36 {
		t.Fatalf("create --json: %+v %v", created, err)
	}
	d := waitFor(t, url, "o1", "waiting")
	if p, _ := json.Marshal(d["params"]); string(p) != `{"qty":2,"sku":"A-1"}` {
		t.Errorf("params %s", p)
	}
	waitFor(t, url, created.ID, "waiting")

	out := mustWF(t, url, "status", "orders", "o1")
	for _, want := range []string{
		"Instance  o1 (workflow orders)", "Status    waiting until ", `Params    {"sku":"A-1","qty":2}`,
		"STEP", "KIND", "ATTEMPTS", "DURATION",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status: no %q in\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^count +do +done +2 +\S+ \S+ +1\.5\d*s\s*$`).MatchString(out) {
		t.Errorf("status: no row for the count step in\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^go +waitForEvent "go" +waiting +\S+ \S+ +until `).MatchString(out) {
		t.Errorf("status: no row for the wait in\n%s", out)
	}

	out = mustWF(t, url, "list")
	if !strings.Contains(out, "WORKFLOW  ID") || !regexp.MustCompile(`(?m)^orders +o1 +waiting `).MatchString(out) || !strings.Contains(out, created.ID) {
		t.Errorf("list:\n%s", out)
	}
	out = mustWF(t, url, "list", "--workflow", "orders", "--status", "waiting", "--limit", "1")
	if strings.Count(out, "\n") != 2 || strings.Contains(out, "WORKFLOW") {
		t.Errorf("list --workflow --limit 1:\n%s", out)
	}
	if out := mustWF(t, url, "list", "--status", "complete"); out != "no instances\n" {
		t.Errorf("list --status complete: %q", out)
	}
	var all []struct {
		Workflow  string
		Instances []map[string]any
	}
	if err := json.Unmarshal([]byte(mustWF(t, url, "list", "--json")), &all); err != nil || len(all) != 1 || all[0].Workflow != "orders" || len(all[0].Instances) != 2 {
		t.Errorf("list --json: %+v %v", all, err)
	}
	out = mustWF(t, url)
	if !regexp.MustCompile(`(?m)^orders +2 +waiting 2\s*$`).MatchString(out) {
		t.Errorf("summary:\n%s", out)
	}

	if out := mustWF(t, url, "send-event", "orders", "o1", "other", `[1, 2]`); out != "sent event \"other\" to orders/o1\n" {
		t.Errorf("send-event: %q", out)
	}
	out = mustWF(t, url, "status", "orders", "o1")
	if !strings.Contains(out, "PENDING EVENT") || !regexp.MustCompile(`(?m)^other +\S+ \S+ +\[1,2\]`).MatchString(out) {
		t.Errorf("pending event not shown:\n%s", out)
	}
	mustWF(t, url, "send-event", "orders", "o1", "go", `{"by": "ana"}`)
	waitFor(t, url, "o1", "complete")
	out = mustWF(t, url, "status", "orders", "o1")
	if !strings.Contains(out, `Output    {"n":42,"ev":{"by":"ana"}}`) || !strings.Contains(out, "Ended") {
		t.Errorf("complete:\n%s", out)
	}

	id := created.ID
	for _, c := range [][2]string{{"pause", "paused"}, {"resume", "resumed"}, {"terminate", "terminated"}, {"restart", "restarted"}} {
		if out := mustWF(t, url, c[0], "orders", id); out != c[1]+" orders/"+id+"\n" {
			t.Errorf("%s: %q", c[0], out)
		}
		if c[0] == "pause" {
			waitFor(t, url, id, "paused")
		}
	}
	waitFor(t, url, id, "waiting")
	if out := mustWF(t, url, "terminate", "orders", id, "--json"); !strings.Contains(out, `"ok": true`) {
		t.Errorf("terminate --json: %q", out)
	}

	// Errors come from the API with its message.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "orders", "nope"}, `workflow "orders" has no instance "nope"`},
		{[]string{"status", "shipping", "o1"}, `no workflow named "shipping" (the project has "orders")`},
		{[]string{"terminate", "orders", id}, "terminate orders/" + id + ": "},
		{[]string{"create", "orders", "--id", "o1"}, "create orders/o1: "},
		{[]string{"list", "--status", "asleep"}, `status "asleep": expected one of`},
		{[]string{"create", "orders", "{sku: 1}"}, `params-json "{sku: 1}" is not valid JSON`},
		{[]string{"send-event", "orders", "o1", "t", "nope"}, "payload-json"},
		{[]string{"status", "orders"}, "status takes <W> <id>, got 1 arguments"},
		{[]string{"send-event", "orders", "o1"}, "send-event takes <W> <id> <type> [payload-json]"},
		{[]string{"list", "extra"}, "list takes no arguments"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		_, err := wf(t, url, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("workflows %q: got %v, want %q", c.args, err, c.want)
		}
	}
}

func TestWorkflowsAdminURL(t *testing.T) {
	// Nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	_, err = wf(t, closed, "list")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the admin API at "+closed+": is `isola dev` running?") {
		t.Errorf("not running: %v", err)
	}

	// The worker's port instead of the admin API's.
	worker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer worker.Close()
	_, err = wf(t, worker.URL, "list")
	if err == nil || !strings.Contains(err.Error(), "did not answer as Isola's admin API") {
		t.Errorf("not the admin API: %v", err)
	}

	if _, err := wf(t, "localhost:8788", "list"); err == nil || !strings.Contains(err.Error(), "expected a URL") {
		t.Errorf("bad --admin: %v", err)
	}

	// ISOLA_ADMIN is the default; --admin wins over it.
	srv := httptest.NewServer(&server.Admin{Engine: startEngine(t)})
	defer srv.Close()
	t.Setenv("ISOLA_ADMIN", srv.URL)
	var out bytes.Buffer
	if err := run([]string{"workflows", "list"}, &out, io.Discard); err != nil || out.String() != "no instances\n" {
		t.Errorf("ISOLA_ADMIN: %q %v", out.String(), err)
	}
	if _, err := wf(t, closed, "list"); err == nil {
		t.Error("--admin did not override ISOLA_ADMIN")
	}

	out.Reset()
	if err := run([]string{"workflows", "help"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "isola workflows send-event") {
		t.Errorf("help: %v %q", err, out.String())
	}
}

func TestServeAdmin(t *testing.T) {
	a := &app.App{Workflows: startEngine(t)}
	var out, errOut bytes.Buffer
	if err := serveAdmin(a, "127.0.0.1:0", 8787, nil, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^Admin API on (http://127\.0\.0\.1:\d+)\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("printed %q", out.String())
	}
	if got := mustWF(t, m[1], "list"); got != "no instances\n" {
		t.Errorf("list over the started API: %q", got)
	}

	// The default address (the worker's port + 1) taken: a warning, and
	// isola dev goes on. An address given with --admin must work.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	out.Reset()
	if err := serveAdmin(a, "", port-1, nil, nil, &out, &errOut); err != nil || out.Len() != 0 || !strings.Contains(errOut.String(), "admin API not started") {
		t.Errorf("default address taken: %v, out %q, err %q", err, out.String(), errOut.String())
	}
	if err := serveAdmin(a, busy.Addr().String(), 8787, nil, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--admin off") {
		t.Errorf("--admin address taken: %v", err)
	}
}

func TestAdminListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"9000":           "127.0.0.1:9000",
		"127.0.0.1:8788": "127.0.0.1:8788",
		"[::1]:8788":     "[::1]:8788",
		"0.0.0.0:0":      "0.0.0.0:0",
	} {
		if got, err := adminListenAddr(in); err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "70000", "localhost", "host:port", "1.2.3.4:99999"} {
		if _, err := adminListenAddr(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
