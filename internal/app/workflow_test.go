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

// A short sleep is waited out by the live run, as the reference's engine
// does: run() is not started again, and its code outside steps runs once.
// The instance reads "waiting" meanwhile, as a sleeping one does.
// createAndStatusHandler is a worker's fetch handler for env.WF: /create
// makes an instance and answers its id, /status?id= answers its status.
const createAndStatusHandler = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/status") return Response.json(await (await env.WF.get(url.searchParams.get("id"))).status());
    const inst = await env.WF.create();
    return Response.json({ id: inst.id });
  },
};`

func TestShortSleepIsWaitedOutWithoutReplay(t *testing.T) {
	a, logs := load(t, map[string]string{
		"wrangler.jsonc": `{"name":"w","main":"worker.js","compatibility_date":"2026-04-01",
  "workflows":[{"name":"nap","binding":"WF","class_name":"Nap"}]}`,
		"worker.js": `
import { WorkflowEntrypoint } from "cloudflare:workers";
const starts = {};
export class Nap extends WorkflowEntrypoint {
  async run(event, step) {
    starts[event.instanceId] = (starts[event.instanceId] || 0) + 1;
    const a = await step.do("a", async () => 1);
    await step.sleep("nap", 400);
    await step.sleepUntil("until", Date.now() + 100);
    const b = await step.do("b", async () => a + 1);
    return { b, starts: starts[event.instanceId] };
  }
}
` + createAndStatusHandler,
	})
	code, body := get(t, a, "GET", "/create", "")
	var created struct{ ID string }
	if code != 200 || json.Unmarshal([]byte(body), &created) != nil {
		t.Fatalf("create: %d %s\n%s", code, body, logs)
	}
	status := "/status?id=" + created.ID
	pollStatus(t, a, status, "waiting", 2*time.Second)
	st := pollStatus(t, a, status, "complete", 5*time.Second)
	out, _ := json.Marshal(st["output"])
	if string(out) != `{"b":2,"starts":1}` {
		t.Fatalf("output = %s, want run() started once\n%s", out, logs)
	}
	steps, err := a.Workflows.Store().Steps("nap", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name+":"+string(s.State))
	}
	if got := strings.Join(names, " "); got != "a:done nap:done until:done b:done" {
		t.Fatalf("journal: %s", got)
	}
}

// A duration that is not one warns, naming the step, every time it is
// used; a good one (remembered after its first use) never does.
func TestSleepDurationsThatAreNotOneWarn(t *testing.T) {
	a, logs := load(t, map[string]string{
		"wrangler.jsonc": `{"name":"w","main":"worker.js","compatibility_date":"2026-04-01",
  "workflows":[{"name":"naps","binding":"WF","class_name":"Naps"}]}`,
		"worker.js": `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class Naps extends WorkflowEntrypoint {
  async run(event, step) {
    await step.sleep("good", "20 ms");
    await step.sleep("odd unit", "5 parsecs");
    await step.sleep("no unit", "soon");
    await step.sleep("good again", "20 ms");
    return "ok";
  }
}
` + createAndStatusHandler,
	})
	for i := 0; i < 2; i++ {
		code, body := get(t, a, "GET", "/create", "")
		var created struct{ ID string }
		if code != 200 || json.Unmarshal([]byte(body), &created) != nil {
			t.Fatalf("create: %d %s\n%s", code, body, logs)
		}
		pollStatus(t, a, "/status?id="+created.ID, "complete", 5*time.Second)
	}
	out := logs.String()
	for _, want := range []string{
		`step.sleep("odd unit"): "5 parsecs": "parsec" is not a unit (second, minute, hour, day, week, month, year); it counts as 5 ms, as on Cloudflare.`,
		`step.sleep("no unit"): "soon" is not a duration ("<number> <unit>", e.g. "30 seconds"); it counts as 0 ms, as on Cloudflare.`,
	} {
		if n := strings.Count(out, want); n != 2 {
			t.Errorf("%d times (want 2, one an instance): %s\n%s", n, want, out)
		}
	}
	if strings.Contains(out, `"good`) {
		t.Errorf("a good duration warned:\n%s", out)
	}
}
