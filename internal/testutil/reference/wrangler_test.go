package reference

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// copyDir copies the regular files of src into dst (created).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNodeAtLeast(t *testing.T) {
	min := [3]int{22, 12, 0}
	for v, want := range map[string]bool{
		"v22.12.0": true, "v22.23.3": true, "v23.0.0": true, "v22.11.9": false,
		"v20.20.2": false, "v22.12": false, "junk": false,
	} {
		if got := nodeAtLeast(v, min); got != want {
			t.Errorf("nodeAtLeast(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestStartWrangler walks a workflow on wrangler dev (testdata/sleep-then-event):
// create, wait for the instance to block on its event, send the event, and
// read the output.
func TestStartWrangler(t *testing.T) {
	if _, _, err := WranglerCLI(); err != nil {
		t.Fatal(err) // never skip: the Workflows cases depend on it
	}
	example, err := filepath.Abs(filepath.Join("testdata", "sleep-then-event"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "sleep-then-event")
	copyDir(t, example, dir) // wrangler writes .wrangler/ into the project

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	persist := filepath.Join(t.TempDir(), "state") // kept across the two runs below
	started := time.Now()
	p, err := StartWrangler(ctx, dir, FreePort(), WranglerOptions{PersistDir: persist})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrangler dev ready after %s", time.Since(started).Round(time.Millisecond))
	pgid := p.Pid()
	stopped := false
	defer func() {
		if !stopped {
			p.Stop()
		}
	}()
	defer func() {
		if t.Failed() {
			t.Logf("wrangler output:\n%s", p.Output())
		}
	}()

	get := func(path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+path, nil)
		req.Close = true // the second wrangler gets a new port; no pooled connections
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.StatusCode, body
	}
	type status struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  json.RawMessage `json:"error"`
	}
	getStatus := func(id string) (status, string) {
		t.Helper()
		code, body := get("/status?id=" + id)
		var s status
		if code != 200 || json.Unmarshal(body, &s) != nil {
			t.Fatalf("GET /status: %d %s", code, body)
		}
		return s, string(body)
	}

	first := time.Now()
	code, body := get("/create")
	t.Logf("GET /create (first request, %s): %d %s", time.Since(first).Round(time.Millisecond), code, body)
	var created struct{ ID string }
	if code != 200 || json.Unmarshal(body, &created) != nil || created.ID == "" {
		t.Fatalf("GET /create: %d %s", code, body)
	}
	id := created.ID

	// The instance sleeps 2 s, then waits for the event. The local engine
	// reports "running" through both (it never sets "waiting"), so
	// "waiting" ends the poll early where an engine reports it, and 2.5 s
	// without it is taken as the event wait.
	createdAt := time.Now()
	last := ""
	for {
		s, raw := getStatus(id)
		if s.Status != last {
			t.Logf("%dms after create: GET /status: %s", time.Since(createdAt).Milliseconds(), raw)
			last = s.Status
		}
		if s.Status == "waiting" || (s.Status == "running" && time.Since(createdAt) > 2500*time.Millisecond) {
			break
		}
		if s.Status != "queued" && s.Status != "running" {
			t.Fatalf("status %q before the event was sent", s.Status)
		}
		if time.Since(createdAt) > 20*time.Second {
			t.Fatalf("no waiting state after 20 s: %s", raw)
		}
		time.Sleep(100 * time.Millisecond)
	}

	code, body = get("/send?id=" + id)
	t.Logf("GET /send: %d %s", code, body)
	if code != 200 {
		t.Fatalf("GET /send: %d %s", code, body)
	}
	sentAt := time.Now()
	var final status
	var raw string
	for {
		final, raw = getStatus(id)
		if final.Status == "complete" || final.Status == "errored" || final.Status == "terminated" {
			break
		}
		if time.Since(sentAt) > 20*time.Second {
			t.Fatalf("not complete 20 s after the event: %s", raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%dms after the event: GET /status: %s", time.Since(sentAt).Milliseconds(), raw)
	if final.Status != "complete" {
		t.Fatalf("final status %q, want complete: %s", final.Status, raw)
	}
	const want = `{"a":"Hello, Alice!","got":{"ok":true}}`
	if string(final.Output) != want {
		t.Errorf("output %s, want %s", final.Output, want)
	}

	tmp := p.tmpDir
	p.Stop()
	stopped = true
	if groupAlive(pgid) {
		t.Errorf("wrangler's process group %d is still alive after Stop", pgid)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (%v)", tmp, err)
	}

	// The caller's persistence directory outlives Stop: a new wrangler on
	// it still knows the finished instance.
	if _, err := os.Stat(filepath.Join(persist, "v3", "workflows")); err != nil {
		t.Fatalf("no Workflows state in the persistence directory: %v", err)
	}
	p, err = StartWrangler(ctx, dir, FreePort(), WranglerOptions{PersistDir: persist})
	if err != nil {
		t.Fatal(err)
	}
	stopped = false
	again, raw := getStatus(id)
	t.Logf("after a restart of wrangler: GET /status: %s", raw)
	if again.Status != "complete" || string(again.Output) != want {
		t.Errorf("after a restart of wrangler the instance is %s", raw)
	}
}
