package webui

// End-to-end tests in a real headless Chromium, driven with chromedp: the
// pages, their JavaScript, the UI's API, the playground app and the engine
// underneath, all real. Screenshots go to artifacts/e2e/ at the repository
// root (or $ISOLA_ARTIFACTS). scripts/test installs Debian's chromium and
// sets ISOLA_REQUIRE_BROWSER, so there a missing browser fails the suite
// instead of skipping these tests.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/server"
)

// browserPath finds Chromium, or skips (fails under ISOLA_REQUIRE_BROWSER).
func browserPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (apt-get install chromium; scripts/test does)"
	if os.Getenv("ISOLA_REQUIRE_BROWSER") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// uiServer serves a small project with the UI in front, as isola dev does.
func uiServer(t *testing.T) string {
	t.Helper()
	base, _ := uiServerWith(t)
	return base
}

func uiServerWith(t *testing.T) (string, *UI) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"wrangler.jsonc": `{"name": "e2e-project", "main": "worker.js", "compatibility_date": "2026-04-01"}`,
		"worker.js":      `export default { fetch() { return new Response("project says hi"); } };`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logger := log.New(io.Discard, "", 0)
	if testing.Verbose() {
		logger = log.New(os.Stderr, "isola: ", log.Ltime)
	}
	a, err := app.LoadWith(dir, logger, app.Options{StateDir: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ui, err := New(Options{Project: a, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ui.Close)
	srv := httptest.NewServer(ui.Wrap(&server.Dev{Worker: a.Worker, Log: logger}))
	t.Cleanup(srv.Close)
	return srv.URL, ui
}

// browser starts a headless Chromium tab and records console errors and
// uncaught exceptions, which fail the test at its end.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browserPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		// The machine has no internet: without these, Chromium keeps
		// trying Google's services and logs the failures.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console.error: "+strings.Join(args, " "))
			}
		case *cdpruntime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			problems = append(problems, "uncaught: "+msg)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "browser log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}
	if err := chromedp.Listen(ctx, listen); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enabling the browser log: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdpruntime.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enabling the runtime domain: %v", err)
	}
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
	return ctx
}

// screenshot saves the page as an artifact.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ISOLA_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

type action = chromedp.Action[chromedp.Void]

// until waits until the JavaScript expression is true.
func until(expr string) action {
	poll := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		if err != nil {
			err = fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return chromedp.Void{}, err
	}
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) action {
	return until(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want))
}

// setValue sets a form field's value as a paste would, and tells the page.
func setValue(sel, value string) action {
	sj, _ := json.Marshal(sel)
	vj, _ := json.Marshal(value)
	return eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, sj, vj))
}

// eval runs JavaScript for its effect.
func eval(expr string) action {
	e := chromedp.Evaluate[any](expr)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := e(ctx, t)
		return chromedp.Void{}, err
	}
}

func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

func evalInt(ctx context.Context, t *testing.T, expr string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return n
}

// press sends one key to whatever has the focus.
func press(key string) action { return chromedp.KeyEvent(key) }

func run(t *testing.T, ctx context.Context, what string, actions ...action) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		screenshot(t, ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("%s: %v", what, err)
	}
}

const e2eWorkflow = `import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const greeting = await step.do("greet", async () => "Hello, " + event.payload.name);
    console.log("greeted " + event.payload.name);
    const n = await step.do("flaky", { retries: { limit: 3, delay: 50, backoff: "constant" } }, async (ctx) => {
      if (ctx.attempt < 2) throw new Error("not yet, attempt " + ctx.attempt);
      return ctx.attempt;
    });
    await step.sleep("nap", "1 second");
    const ev = await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
    return step.do("finish", async () => greeting + " after " + n + " attempts, approved by " + ev.payload.by);
  }
}`

// TestWorkflowPlayground types a workflow, runs it with the keyboard, sees
// each step checked, a retry's failed attempt, a sleep's deadline, sends the
// awaited event from its form and reads the output.
func TestWorkflowPlayground(t *testing.T) {
	base := uiServer(t)
	ctx := browser(t)
	run(t, ctx, "open the workflow playground",
		chromedp.Navigate(base+"/_isola/#/workflow"),
		chromedp.WaitVisible(chromedp.CSS("#wf-code")),
		setValue("#wf-code", ""),
		chromedp.SendKeys(chromedp.CSS("#wf-code"), e2eWorkflow),
		setValue("#wf-params", ""),
		chromedp.SendKeys(chromedp.CSS("#wf-params"), `{"name": "Ada"}`),
		// From the params editor, Tab reaches Run; Enter presses it.
		press(kb.Tab),
		until(`document.activeElement.id === "wf-run"`),
		press(kb.Enter),
		waitText("#wf-steps", "greet"),
	)
	run(t, ctx, "the instance waits for its event",
		waitText("#wf-status", "waiting"),
		chromedp.WaitVisible(chromedp.CSS(`#wf-steps li[data-step="approval"][data-state="waiting"] form`)),
		waitText("#wf-steps", "attempt 1 failed: Error: not yet, attempt 1"),
	)
	steps := text(ctx, t, "#wf-steps")
	for _, want := range []string{"greet", "flaky", "2 attempts", "nap", "slept", "waiting for “approve” until"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps while waiting lack %q:\n%s", want, steps)
		}
	}
	if s := text(ctx, t, `#wf-steps li[data-step="finish"]`); !strings.Contains(s, "○") {
		t.Errorf("the step not reached yet should show unchecked: %q", s)
	}
	screenshot(t, ctx, "workflow-waiting")
	run(t, ctx, "send the event from the keyboard",
		chromedp.Focus(chromedp.CSS(`#wf-steps li[data-step="approval"] textarea`)),
		setValue(`#wf-steps li[data-step="approval"] textarea`, ""),
		chromedp.SendKeys(chromedp.CSS(`#wf-steps li[data-step="approval"] textarea`), `{"by": "Grace"}`),
		press(kb.Tab),
		press(kb.Enter),
		waitText("#wf-status", "complete"),
		waitText("#wf-output", "Hello, Ada after 2 attempts, approved by Grace"),
		waitText("#wf-logs", "greeted Ada"),
	)
	done := evalInt(ctx, t, `document.querySelectorAll('#wf-steps > li[data-state="done"]').length`)
	notDone := evalInt(ctx, t, `document.querySelectorAll('#wf-steps > li:not([data-state="done"])').length`)
	if done != 5 || notDone != 0 {
		t.Errorf("%d steps checked and %d not, want all 5 checked:\n%s", done, notDone, text(ctx, t, "#wf-steps"))
	}
	if evalInt(ctx, t, `document.getElementById("wf-terminate").disabled ? 1 : 0`) != 1 {
		t.Error("Terminate is enabled on a complete instance")
	}
	screenshot(t, ctx, "workflow-complete")
}

// TestWorkflowPlaygroundControls pauses, resumes and terminates a sleeping
// instance, and shows a run that fails for good.
func TestWorkflowPlaygroundControls(t *testing.T) {
	base := uiServer(t)
	ctx := browser(t)
	code := `import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    await step.do("first", async () => 1);
    await step.sleep("long", "1 hour");
    return "never";
  }
}`
	run(t, ctx, "run a long sleep",
		chromedp.Navigate(base+"/_isola/#/workflow"),
		chromedp.WaitVisible(chromedp.CSS("#wf-code")),
		setValue("#wf-code", code),
		chromedp.Click(chromedp.CSS("#wf-run")),
		waitText("#wf-steps", "sleeping until"),
		chromedp.Click(chromedp.CSS("#wf-pause")),
		waitText("#wf-status", "paused"),
		chromedp.Click(chromedp.CSS("#wf-resume")),
		until(`!document.getElementById("wf-status").textContent.includes("paused")`),
		chromedp.Click(chromedp.CSS("#wf-terminate")),
		waitText("#wf-status", "terminated"),
		chromedp.Click(chromedp.CSS("#wf-restart")),
		waitText("#wf-steps", "sleeping until"),
		until(`!document.getElementById("wf-terminate").disabled`),
	)
	bad := `import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    return step.do("doomed", { retries: { limit: 1, delay: 10 } }, async () => { throw new Error("always fails"); });
  }
}`
	run(t, ctx, "run a failing step",
		setValue("#wf-code", bad),
		chromedp.Click(chromedp.CSS("#wf-run")),
		waitText("#wf-status", "errored"),
		waitText("#wf-output", "Error: always fails"),
		waitText(`#wf-steps li[data-step="doomed"]`, "attempt 1 failed: Error: always fails"),
	)
	screenshot(t, ctx, "workflow-errored")
}

// TestAppPlayground runs the app-platform example's App, edits it, and sees
// the new code run on the same data, with the data shown beside it.
func TestAppPlayground(t *testing.T) {
	base := uiServer(t)
	ctx := browser(t)
	run(t, ctx, "open the app playground and send a request",
		chromedp.Navigate(base+"/_isola/#/app"),
		chromedp.WaitVisible(chromedp.CSS("#app-code")),
		until(`document.getElementById("app-code").value.includes("export class App")`),
		chromedp.Click(chromedp.CSS("#app-save")),
		waitText("#app-saved", "Saved"),
		chromedp.Click(chromedp.CSS("#app-send")),
		waitText("#app-response", "You've made 1 requests."),
		chromedp.Click(chromedp.CSS("#app-send")),
		waitText("#app-response", "You've made 2 requests."),
		waitText("#app-data", "counter"),
	)
	newCode := `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(request) {
    const path = new URL(request.url).pathname;
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS visits (path TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO visits VALUES (?)", path);
    const counter = (this.ctx.storage.kv.get("counter") || 0) + 1;
    this.ctx.storage.kv.put("counter", counter);
    console.log("visit", counter, path);
    return new Response("Visit " + counter + " to " + path);
  }
}`
	run(t, ctx, "edit, save with Ctrl+Enter and send with the keyboard",
		setValue("#app-code", newCode),
		chromedp.Focus(chromedp.CSS("#app-code")),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		waitText("#app-saved", "Saved"),
		setValue("#app-path", ""),
		chromedp.SendKeys(chromedp.CSS("#app-path"), "/hello"),
		press(kb.Enter), // submits the request form
		waitText("#app-response", "Visit 3 to /hello"),
		waitText("#app-data", "visits"),
		waitText("#app-data", "/hello"),
		waitText("#app-logs", "visit 3 /hello"),
	)
	screenshot(t, ctx, "app-playground")
}

// TestDashboard shows isolates, objects with their data, instances with a
// status filter and a step timeline, and live logs.
func TestDashboard(t *testing.T) {
	base := uiServer(t)
	ctx := browser(t)
	run(t, ctx, "make something to show",
		chromedp.Navigate(base+"/_isola/#/workflow"),
		chromedp.WaitVisible(chromedp.CSS("#wf-code")),
		setValue("#wf-code", e2eWorkflow),
		chromedp.Click(chromedp.CSS("#wf-run")),
		chromedp.WaitVisible(chromedp.CSS(`#wf-steps li[data-step="approval"][data-state="waiting"] form`)),
		chromedp.Navigate(base+"/_isola/#/app"),
		until(`document.getElementById("app-code").value.includes("export class App")`),
		chromedp.Click(chromedp.CSS("#app-save")),
		waitText("#app-saved", "Saved"),
		chromedp.Click(chromedp.CSS("#app-send")),
		waitText("#app-response", "You've made 1 requests."),
	)
	run(t, ctx, "the dashboard lists them",
		chromedp.Navigate(base+"/_isola/#/dashboard"),
		waitText("#isolates", "LOADER"),
		waitText("#isolates", "wf-"),
		waitText("#objects", "AppRunner"),
		waitText("#objects", "CodeStore"),
		waitText("#instances", "waiting"),
		waitText("#dash-logs", "greeted Alice"),
	)
	run(t, ctx, "open an object's data and an instance's timeline with the keyboard",
		chromedp.Focus(chromedp.CSS(`#objects tr:has(td:nth-child(4):not(:empty)) button`)), // the facet
		press(kb.Enter),
		waitText("#object-data", "counter"),
		chromedp.Focus(chromedp.CSS(`#instances a[data-instance]`)),
		press(kb.Enter),
		waitText("#instance-detail", "flaky"),
		waitText("#instance-detail", "Output size"),
	)
	detail := text(ctx, t, "#instance-detail")
	for _, want := range []string{"greet", "flaky", "nap", "approval", "waiting"} {
		if !strings.Contains(detail, want) {
			t.Errorf("timeline lacks %q:\n%s", want, detail)
		}
	}
	run(t, ctx, "filter by status and tenant",
		setValue("#filter-status", "complete"),
		waitText("#instances", "No instances match"),
		setValue("#filter-status", ""),
		waitText("#instances", "wf-"),
		chromedp.SendKeys(chromedp.CSS("#filter-tenant"), "no-such-tenant"),
		waitText("#instances", "No instances match"),
	)
	screenshot(t, ctx, "dashboard")
}

// TestKeyboardReachesEveryControl tabs through each view from the top and
// checks that the controls a user needs come up in order.
func TestKeyboardReachesEveryControl(t *testing.T) {
	base := uiServer(t)
	ctx := browser(t)
	for _, c := range []struct {
		view string
		want []string
	}{
		{"workflow", []string{"nav-dashboard", "nav-workflow", "nav-app", "wf-code", "wf-params", "wf-run"}},
		{"app", []string{"nav-dashboard", "nav-workflow", "nav-app", "app-code", "app-save", "app-method", "app-path", "app-body", "app-send", "app-logs"}},
		{"dashboard", []string{"nav-dashboard", "dash-refresh", "filter-app", "filter-workflow", "filter-status", "filter-tenant", "log-app", "log-tenant", "dash-logs"}},
	} {
		run(t, ctx, "open "+c.view,
			chromedp.Navigate(base+"/_isola/#/"+c.view),
			until(`!document.getElementById("view-`+c.view+`").hidden`),
			eval(`document.activeElement.blur()`),
		)
		var seen []string
		for i := 0; i < 60 && len(seen) < 200; i++ {
			run(t, ctx, "tab", press(kb.Tab))
			id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, id)
		}
		next := 0
		for _, id := range seen {
			if next < len(c.want) && id == c.want[next] {
				next++
			}
		}
		if next < len(c.want) {
			t.Errorf("%s view: Tab never reached %q after %v; the focus went through %v", c.view, c.want[next], c.want[:next], seen)
		}
	}
}

// TestUIRefusesOtherHostsAndOrigins is the guard against DNS rebinding and
// cross-site requests, without a browser.
func TestUIRefusesOtherHostsAndOrigins(t *testing.T) {
	for _, c := range []struct {
		method, host, origin, site string
		ok                         bool
	}{
		{"GET", "127.0.0.1:8787", "", "", true},
		{"GET", "localhost:8787", "", "", true},
		{"GET", "[::1]:8787", "", "", true},
		{"GET", "evil.example:8787", "", "", false},
		{"POST", "127.0.0.1:8787", "http://127.0.0.1:8787", "same-origin", true},
		{"POST", "127.0.0.1:8787", "", "", true}, // curl
		{"POST", "127.0.0.1:8787", "http://evil.example", "", false},
		{"POST", "127.0.0.1:8787", "", "cross-site", false},
	} {
		r := httptest.NewRequest(c.method, "http://"+c.host+"/_isola/api/apps", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		status, msg := guard(r)
		if (status == 0) != c.ok {
			t.Errorf("%s host %s origin %q site %q: status %d %q, want allowed=%v", c.method, c.host, c.origin, c.site, status, msg, c.ok)
		}
	}
}
