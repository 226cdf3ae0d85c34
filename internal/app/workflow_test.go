package app

import (
	"encoding/json"
	"github.com/isola-run/isola/internal/workflows"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pollStatus asks path until the JSON answer's status is want.
func pollStatus(t *testing.T, a *App, path, want string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		code, body := get(t, a, "GET", path, "")
		last = body
		if code == 200 {
			var st map[string]any
			if err := json.Unmarshal([]byte(body), &st); err == nil && st["status"] == want {
				return st
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: status never became %q; last answer: %s\n%s", path, want, last, a.debugLog(workflowsListAll))
	return nil
}

func TestWorkflowBasicExample(t *testing.T) {
	src := "../../../shared/examples/workflow-basic"
	files := map[string]string{}
	for _, name := range []string{"worker.js", "wrangler.jsonc"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Skipf("the shared examples are not here: %v", err)
		}
		files[name] = string(b)
	}
	a, logs := load(t, files)
	code, body := get(t, a, "GET", "/create", "")
	if code != 200 {
		t.Fatalf("create: %d %s\n%s", code, body, logs)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(body), &created)
	status := "/status?id=" + created.ID
	pollStatus(t, a, status, "waiting", 5*time.Second)
	// It sleeps 2 s and then waits for the event; it stays waiting.
	time.Sleep(2500 * time.Millisecond)
	pollStatus(t, a, status, "waiting", time.Second)
	if code, body := get(t, a, "GET", "/send?id="+created.ID, ""); code != 200 {
		t.Fatalf("send: %d %s\n%s", code, body, logs)
	}
	st := pollStatus(t, a, status, "complete", 5*time.Second)
	out, _ := json.Marshal(st["output"])
	if string(out) != `{"a":"Hello, Alice!","got":{"ok":true}}` {
		t.Fatalf("output = %s\n%s", out, logs)
	}
	if strings.Contains(logs.String(), "error") {
		t.Logf("log:\n%s", logs)
	}
}

// debugLog lists the instances f selects, each with its stored and live
// status, and its steps.
func (a *App) debugLog(f workflows.ListFilter) string {
	if a.Workflows == nil {
		return ""
	}
	ins, _ := a.Workflows.Store().List(f)
	var b strings.Builder
	for _, in := range ins {
		b.WriteString(in.ID + " stored " + string(in.Status))
		if live, err := a.Workflows.Instance(in.Workflow, in.ID); err == nil {
			b.WriteString(" live " + string(live.Status))
		}
		b.WriteString("\n")
		steps, _ := a.Workflows.Store().Steps(in.Workflow, in.ID)
		for _, s := range steps {
			b.WriteString("  " + s.Name + " " + string(s.Kind) + " " + string(s.State) + "\n")
		}
	}
	return b.String()
}

var workflowsListAll = workflows.ListFilter{}
