package app

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/testutil/reference"
)

// The dynamic-workflows example, unmodified: the dispatcher loads tenant
// t-42's code with the Worker Loader, and the tenant's run(event, step)
// gets its steps through the dispatcher's Workflow binding.

const dynamicWorkflowsPackage = "@cloudflare/dynamic-workflows"

// dynamicWorkflowsExample copies the example into a temporary directory
// and gives it the npm package, as `npm install` in its folder would.
func dynamicWorkflowsExample(t *testing.T) string {
	t.Helper()
	src := "../../../shared/examples/dynamic-workflows"
	dir := t.TempDir()
	for _, name := range []string{"worker.js", "wrangler.jsonc", "package.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Skipf("the shared examples are not here: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := reference.LinkPackages(dir, dynamicWorkflowsPackage); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tenantRequest sends a request as tenant t-42 through h.
func tenantRequest(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://localhost"+path, rd)
	req.Header.Set("x-tenant-id", "t-42")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

type workerHandler struct{ a *App }

func (h workerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.a.Worker.ServeHTTP(w, r, runtime.ServeOptions{DevErrors: true})
}

// childHandler forwards to a crash child over HTTP.
type childHandler struct{ port string }

func (h childHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, _ := http.NewRequest(r.Method, "http://127.0.0.1:"+h.port+r.URL.RequestURI(), r.Body)
	req.Header = r.Header.Clone()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		http.Error(w, err.Error(), 599)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// pollTenantStatus asks /status until the instance's status is want.
func pollTenantStatus(t *testing.T, h http.Handler, id, want string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		code, body := tenantRequest(t, h, "GET", "/status?id="+id, "")
		last = body
		var st map[string]any
		if code == 200 && json.Unmarshal([]byte(body), &st) == nil && st["status"] == want {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("instance %s never became %q; last answer: %s", id, want, last)
	return nil
}

func createAlice(t *testing.T, h http.Handler) string {
	t.Helper()
	code, body := tenantRequest(t, h, "POST", "/", `{"name":"Alice"}`)
	var created struct{ ID string }
	if code != 200 || json.Unmarshal([]byte(body), &created) != nil || created.ID == "" {
		t.Fatalf("POST /: %d %s", code, body)
	}
	return created.ID
}

func checkShouted(t *testing.T, st map[string]any) {
	t.Helper()
	if st["output"] != "HELLO, ALICE!" {
		t.Fatalf("output = %#v, want \"HELLO, ALICE!\" (status %v)", st["output"], st)
	}
}

func TestDynamicWorkflowsExample(t *testing.T) {
	dir := dynamicWorkflowsExample(t)
	logs := &logBuffer{}
	a, err := Load(dir, log.New(logs, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h := workerHandler{a}
	id := createAlice(t, h)
	checkShouted(t, pollTenantStatus(t, h, id, "complete", 10*time.Second))

	// The envelope the library wraps the tenant's params in is what the
	// engine stores.
	in, err := a.Workflows.Instance("dynamic-workflow", id)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(in.Params.JSON); !strings.Contains(got, `"__dispatcherMetadata":{"tenantId":"t-42"}`) {
		t.Fatalf("stored params = %s, want the dispatcher's envelope", got)
	}
}

func TestDynamicWorkflowsExampleSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	dir := dynamicWorkflowsExample(t)
	child := startCrashChild(t, dir)
	h := childHandler{child.port}
	id := createAlice(t, h)
	// "greet" is recorded and the instance sleeps for a second: kill it there.
	pollTenantStatus(t, h, id, "waiting", 5*time.Second)
	child.kill()

	child = startCrashChild(t, dir)
	defer child.kill()
	checkShouted(t, pollTenantStatus(t, childHandler{child.port}, id, "complete", 10*time.Second))
}
