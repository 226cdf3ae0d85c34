package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestObjectDataLiveAndStored reads a facet's data while it runs (on its
// loop) and after its object has stopped (from the database, read-only):
// both show the same.
func TestObjectDataLiveAndStored(t *testing.T) {
	base, ui := uiServerWith(t)
	code, _ := json.Marshal(map[string]string{"code": `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (n INTEGER, s TEXT, b BLOB)");
    this.ctx.storage.sql.exec("INSERT INTO t VALUES (1, 'one', x'0102')");
    this.ctx.storage.kv.put("k", { nested: [1, 2] });
    return new Response("ok");
  }
}`})
	if status, body := call(t, "PUT", base+"/_isola/api/playground/app/code", string(code)); status != 200 {
		t.Fatalf("save: %d %s", status, body)
	}
	dataURL := base + "/_isola/api/objects/data?app=playground&class=AppRunner&id=app&facet=app"
	if status, body := call(t, "GET", dataURL, ""); status != 200 || !strings.Contains(body, `"exists":false`) {
		t.Fatalf("before the first request: %d %s", status, body)
	}
	if status, body := call(t, "GET", base+"/_isola/api/playground/app/run/", ""); status != 200 || body != "ok" {
		t.Fatalf("run: %d %q", status, body)
	}
	want := []string{`"exists":true`, `"name":"t"`, `"columns":["n","s","b"]`, `[1,"one","x'0102'"]`, `{"key":"k","value":"{ nested: [ 1, 2 ] }"}`}
	check := func(when string, live bool) {
		status, body := call(t, "GET", dataURL, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", when, status, body)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: %s lacks %s", when, body, w)
			}
		}
		if got := strings.Contains(body, `"live":true`); got != live {
			t.Errorf("%s: live = %v, want %v: %s", when, got, live, body)
		}
	}
	check("live", true)
	ui.Playground().Actors.Close() // every object stops; its database is closed
	check("stored", false)
}

func TestAPIErrorsNameWhatIsWrong(t *testing.T) {
	base, _ := uiServerWith(t)
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/_isola/api/objects/data?app=nope&class=A&id=x", "", 404, `no app \"nope\": expected project or playground`},
		{"GET", "/_isola/api/objects/data?app=playground", "", 400, "class and id are required"},
		{"GET", "/_isola/api/objects/data?app=playground&class=Nope&id=x", "", 404, `unknown Durable Object class \"Nope\"`},
		{"GET", "/_isola/api/apps/project/workflows", "", 404, "the project app has no workflows"},
		{"GET", "/_isola/api/apps/playground/workflows/nope/instances", "", 404, `no workflow named \"nope\"`},
		{"GET", "/_isola/api/nothing", "", 404, "no such endpoint: GET /_isola/api/nothing"},
		{"POST", "/_isola/api/playground/workflow", `{"code": ""}`, 400, "code: expected the workflow's source"},
		{"DELETE", "/_isola/", "", 405, "the UI's pages take GET"},
	} {
		status, body := call(t, c.method, base+c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, status, body, c.status, c.want)
		}
	}
	// The project's own worker still answers everything outside /_isola/.
	if status, body := call(t, "GET", base+"/_isolate", ""); status != 200 || body != "project says hi" {
		t.Errorf("outside the UI: %d %q", status, body)
	}
}

// TestLogsStreamByTenant reads the live log as the pages do.
func TestLogsStreamByTenant(t *testing.T) {
	base, _ := uiServerWith(t)
	code, _ := json.Marshal(map[string]any{"code": `import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) { console.log("hello from", event.payload.who); return 1; }
}`, "params": map[string]string{"who": "the tenant"}})
	status, body := call(t, "POST", base+"/_isola/api/playground/workflow", string(code))
	if status != 201 {
		t.Fatalf("run: %d %s", status, body)
	}
	var made struct{ Tenant string }
	json.Unmarshal([]byte(body), &made)
	res, err := http.Get(base + "/_isola/api/logs?app=playground&tenant=" + made.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	buf := make([]byte, 0, 4096)
	for !strings.Contains(string(buf), "hello from the tenant") {
		chunk := make([]byte, 1024)
		n, err := res.Body.Read(chunk)
		if err != nil {
			t.Fatalf("stream ended before the line: %v; got %q", err, buf)
		}
		buf = append(buf, chunk[:n]...)
	}
	if !strings.HasPrefix(string(buf), "data: {") || !strings.Contains(string(buf), `"tenant":"`+made.Tenant+`"`) {
		t.Errorf("stream: %q", buf)
	}
}
