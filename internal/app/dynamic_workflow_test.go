package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/testutil/reference"
	"github.com/isola-run/isola/internal/workflows"
)

// The dynamic-workflows example, unmodified: the dispatcher loads tenant
// t-42's code with the Worker Loader, and the tenant's run(event, step)
// gets its steps through the dispatcher's Workflow binding.

const dynamicWorkflowsPackage = "@cloudflare/dynamic-workflows"

// dynamicWorkflowsExample copies the example into a temporary directory
// and gives it the npm package, as `npm install` in its folder would.
func dynamicWorkflowsExample(t testing.TB) string {
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

// loadLinked links @cloudflare/dynamic-workflows into the project in dir,
// as npm install would, and loads it; the app closes when the test ends.
func loadLinked(t *testing.T, dir string, opts Options) (*App, *logBuffer) {
	t.Helper()
	if err := reference.LinkPackages(dir, dynamicWorkflowsPackage); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	a, err := LoadWith(dir, log.New(logs, "", 0), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, logs
}

// tenantRequest sends a request as tenant t-42 through h.
func tenantRequest(t testing.TB, h http.Handler, method, path, body string) (int, string) {
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

// Instances created side by side share group commits, and each kill comes
// with creates in flight and runs at every stage, the earlier rounds'
// among them, replaying: every instance whose id was answered runs to the
// end once the process stays up, with its own output.
func TestDynamicWorkflowsExampleLosesNoAnsweredInstanceUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	dir := dynamicWorkflowsExample(t)
	names := map[string]string{} // answered id → the name it was created with
	for round := 0; round < 3; round++ {
		child := startCrashChild(t, dir)
		h := childHandler{child.port}
		var mu sync.Mutex
		enough := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		goal := len(names) + 60
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					name := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					code, body := tenantRequest(t, h, "POST", "/", `{"name":"`+name+`"}`)
					var created struct{ ID string }
					if code != 200 || json.Unmarshal([]byte(body), &created) != nil || created.ID == "" {
						return // the child is gone
					}
					mu.Lock()
					names[created.ID] = name
					if len(names) >= goal {
						once.Do(func() { close(enough) })
					}
					mu.Unlock()
				}
			}()
		}
		select {
		case <-enough:
		case <-time.After(30 * time.Second):
			child.kill()
			t.Fatalf("round %d: 60 instances were not created in 30 s", round)
		}
		child.kill()
		wg.Wait()
	}

	child := startCrashChild(t, dir)
	defer child.kill()
	h := childHandler{child.port}
	for id, name := range names {
		st := pollTenantStatus(t, h, id, "complete", 20*time.Second)
		if want := "HELLO, " + strings.ToUpper(name) + "!"; st["output"] != want {
			t.Errorf("instance %s: output %#v, want %q", id, st["output"], want)
		}
	}
}

// A tenant's code changes while its instance sleeps: the instance records
// the code it started on and the code that finished it, and the step the
// new code no longer reaches is marked unreached in its history.
const codeChangeConfig = `{
  "name": "code-change", "main": "worker.js", "compatibility_date": "2026-04-01",
  "worker_loaders": [{ "binding": "LOADER" }],
  "durable_objects": { "bindings": [{ "name": "CODE", "class_name": "CodeStore" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["CodeStore"] }],
  "workflows": [{ "name": "dyn", "binding": "WORKFLOWS", "class_name": "DynamicWorkflow" }]
}`

const codeChangeWorker = `
import { DurableObject } from "cloudflare:workers";
import { createDynamicWorkflowEntrypoint, DynamicWorkflowBinding, wrapWorkflowBinding } from "@cloudflare/dynamic-workflows";
export { DynamicWorkflowBinding };

// Tenants' code lives in a Durable Object, so the request isolate and the
// one running workflows see the same versions.
export class CodeStore extends DurableObject {
  put(code) {
    const v = (this.ctx.storage.kv.get("v") ?? 0) + 1;
    this.ctx.storage.kv.put("v", v);
    this.ctx.storage.kv.put("code", code);
    return v;
  }
  get() { return { v: this.ctx.storage.kv.get("v"), code: this.ctx.storage.kv.get("code") }; }
}

async function loadTenant(env, tenant) {
  const { v, code } = await env.CODE.getByName(tenant).get();
  return env.LOADER.get(tenant + ":" + v, async () => ({
    compatibilityDate: "2026-01-01",
    mainModule: "index.js",
    modules: { "index.js": code },
    env: { WORKFLOWS: wrapWorkflowBinding({ tenant }) },
  }));
}

export const DynamicWorkflow = createDynamicWorkflowEntrypoint(async ({ env, metadata }) =>
  (await loadTenant(env, metadata.tenant)).getEntrypoint("TenantWorkflow"));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const tenant = url.searchParams.get("tenant");
    if (url.pathname === "/code") return Response.json(await env.CODE.getByName(tenant).put(await request.text()));
    return (await loadTenant(env, tenant)).getEntrypoint().fetch(request);
  },
};`

func tenantCode(greetStep string) string {
	return `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const g = await step.do("` + greetStep + `", async () => "hi " + event.payload.name);
    await step.sleep("nap", 400);
    return step.do("shout", async () => g.toUpperCase() + " (` + greetStep + `)");
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/status") return Response.json(await (await env.WORKFLOWS.get(url.searchParams.get("id"))).status());
    const inst = await env.WORKFLOWS.create({ params: { name: "Bo" } });
    return Response.json({ id: await inst.id });
  },
};`
}

func TestDynamicWorkflowCodeChangesWhileSleeping(t *testing.T) {
	dir := project(t, map[string]string{"wrangler.jsonc": codeChangeConfig, "worker.js": codeChangeWorker})
	// Code changes while an instance sleeps for hours, whose run is dropped
	// and replayed on waking; this sleep is short, and would be waited out
	// in memory, on the code it began on, unless told otherwise.
	a, logs := loadLinked(t, dir, Options{Workflows: workflows.Options{SleepInMemory: -1}})
	h := workerHandler{a}
	send := func(method, path, body string) string {
		t.Helper()
		code, out := tenantRequest(t, h, method, path, body)
		if code != 200 {
			t.Fatalf("%s %s: %d %s\n%s", method, path, code, out, logs)
		}
		return out
	}
	send("POST", "/code?tenant=t1", tenantCode("greet"))
	var created struct{ ID string }
	json.Unmarshal([]byte(send("POST", "/?tenant=t1", "")), &created)
	pollTenantStatus(t, tenantQuery{h, "t1"}, created.ID, "waiting", 5*time.Second)
	send("POST", "/code?tenant=t1", tenantCode("greet-v2"))
	st := pollTenantStatus(t, tenantQuery{h, "t1"}, created.ID, "complete", 10*time.Second)
	// The new code ran "greet-v2" afresh: the reference's behaviour, which
	// Isola keeps; what it adds is saying so.
	if st["output"] != "HI BO (greet-v2)" {
		t.Fatalf("output = %v", st["output"])
	}

	in, err := a.Workflows.Instance("dyn", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(in.CodeStarted, "t1:1@") || !strings.HasPrefix(in.CodeLatest, "t1:2@") {
		t.Fatalf("code started on %q, latest %q: want t1:1@… and t1:2@…", in.CodeStarted, in.CodeLatest)
	}
	steps, err := a.Workflows.Store().Steps("dyn", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range steps {
		got[s.Name] = s.Unreached
	}
	want := map[string]bool{"greet": true, "nap": false, "greet-v2": false, "shout": false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("steps (name: unreached) = %v, want %v", got, want)
	}
	if !strings.Contains(logs.String(), `finished without reaching recorded steps do "greet" (#1)`) {
		t.Fatalf("no warning about the unreached step in the log:\n%s", logs)
	}
}

// tenantQuery adds ?tenant= to every request.
type tenantQuery struct {
	h      http.Handler
	tenant string
}

func (q tenantQuery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	v.Set("tenant", q.tenant)
	r.URL.RawQuery = v.Encode()
	q.h.ServeHTTP(w, r)
}
