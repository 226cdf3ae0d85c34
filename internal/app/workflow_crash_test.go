package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/workflows"
)

// The workflow crash test runs an app with a workflow in a child process
// (this test binary, told so by wfCrashChildEnv), kills it with SIGKILL at
// random moments while hundreds of instances run, restarts it on the same
// state directory each time, and then checks the engine's guarantees against
// what the parent saw: every step callback reports each execution to an HTTP
// server in the parent, tagged with the child's generation (a child's
// generation ends with its kill), so "a kill happened in between" is exact,
// not a guess from timestamps.
//
// The guarantees (internal/workflows/workflows.go):
//   - a step's callback runs at least once: every recorded result carries the
//     token of an execution the parent saw;
//   - its result is recorded exactly once: one journal entry per step, and the
//     instance's output is built from exactly those results;
//   - a recorded step never runs again: the execution whose result is in the
//     journal is the last execution of that step. An earlier execution is fine
//     only if its generation was killed before the result was committed, so
//     two executions of a step (first attempts) in one generation are a
//     violation, and so is any execution after the recorded one, even across
//     a kill: the recorded result was committed by the recorded execution's
//     process, before it died, so a later process had it in the journal.

const (
	wfCrashChildEnv  = "ISOLA_WF_CRASH_CHILD" // the project directory
	wfCrashStateEnv  = "ISOLA_WF_CRASH_STATE" // the state directory, kept across restarts
	wfCrashMaxRunEnv = "ISOLA_WF_CRASH_MAXRUN"
	wfCrashLogEnv    = "ISOLA_WF_CRASH_LOG" // the child appends its log here
)

// runWorkflowCrashChild serves the project in dir on a free port, prints the
// port, and serves until killed, or until its stdin closes: then it closes
// the app (a clean stop) and exits 0.
func runWorkflowCrashChild(dir string) {
	logw := io.Discard
	if p := os.Getenv(wfCrashLogEnv); p != "" {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			logw = f
		}
	}
	maxRun, _ := strconv.Atoi(os.Getenv(wfCrashMaxRunEnv))
	opts := Options{StateDir: os.Getenv(wfCrashStateEnv), Workflows: workflows.Options{MaxRunning: maxRun}}
	a, err := LoadWith(dir, log.New(logw, fmt.Sprintf("[pid %d] ", os.Getpid()), log.Lmicroseconds), opts)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		ln.Close()
		a.Close()
		os.Exit(0)
	}()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Worker.ServeHTTP(w, r, runtime.ServeOptions{DevErrors: true})
	}))
	select {} // the stdin goroutine exits
}

const wfCrashConfig = `{
  "name": "wfcrash",
  "main": "worker.js",
  "compatibility_date": "2026-04-01",
  "workflows": [ { "name": "crash-flow", "binding": "WF", "class_name": "CrashFlow" } ]
}`

// Each step returns "<deterministic part>#<token>"; the run's output is
// built from the five results. s3 fails on its first attempt and succeeds on
// its second, after a short constant delay.
const wfCrashWorker = `
import { WorkflowEntrypoint } from "cloudflare:workers";

function det(i, s) { return s + "/" + i + "/" + ((i * 37 + s.charCodeAt(1) * 11) % 1000); }

async function report(env, i, s, attempt) {
  const t = crypto.randomUUID();
  const r = await fetch(env.PARENT + "/exec?i=" + i + "&s=" + s + "&a=" + attempt + "&t=" + t);
  const body = await r.text();
  if (r.status !== 200) throw new Error("the parent answered " + r.status + ": " + body);
  return t;
}

export class CrashFlow extends WorkflowEntrypoint {
  async run(event, step) {
    const i = event.payload.i;
    const env = this.env;
    const plain = (s) => step.do(s, async (ctx) => det(i, s) + "#" + await report(env, i, s, ctx.attempt));
    const r1 = await plain("s1");
    const r2 = await plain("s2");
    await step.sleep("nap", 50 + (i % 4) * 50);
    const r3 = await step.do("s3", { retries: { limit: 3, delay: 20, backoff: "constant" } }, async (ctx) => {
      const t = await report(env, i, "s3", ctx.attempt);
      if (ctx.attempt === 1) throw new Error("s3 of instance " + i + " fails on its first attempt");
      return det(i, "s3") + "#" + t;
    });
    const r4 = await plain("s4");
    const r5 = await plain("s5");
    return "out/" + i + ":" + [r1, r2, r3, r4, r5].join("|");
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const n = Number(url.searchParams.get("n"));
    if (url.pathname === "/create") {
      for (let from = 0; from < n; from += 100) {
        const batch = [];
        for (let i = from; i < Math.min(n, from + 100); i++) batch.push({ id: "inst-" + i, params: { i } });
        await env.WF.createBatch(batch);
      }
      return new Response("created " + n);
    }
    if (url.pathname === "/progress") {
      const counts = {};
      const bad = [];
      await Promise.all(Array.from({ length: n }, async (_, i) => {
        const s = await (await env.WF.get("inst-" + i)).status();
        counts[s.status] = (counts[s.status] || 0) + 1;
        if (s.status === "errored" || s.status === "terminated") bad.push({ i, status: s.status, error: s.error });
      }));
      return Response.json({ counts, bad });
    }
    return new Response("?", { status: 404 });
  }
};
`

var wfCrashSteps = []string{"s1", "s2", "s3", "s4", "s5"}

func wfCrashDet(i int, s string) string {
	return fmt.Sprintf("%s/%d/%d", s, i, (i*37+int(s[1])*11)%1000)
}

// wfExec is one execution of a step callback, as the parent saw it.
type wfExec struct {
	inst    int
	step    string
	attempt int
	token   string
	gen     int
	at      time.Time
}

type wfExecLog struct {
	mu    sync.Mutex
	execs []wfExec
	bad   []string
}

func (l *wfExecLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	// /g/<generation>/exec?i=&s=&a=&t=
	q := r.URL.Query()
	g, ok := strings.CutPrefix(r.URL.Path, "/g/")
	g, ok2 := strings.CutSuffix(g, "/exec")
	gen, err1 := strconv.Atoi(g)
	inst, err2 := strconv.Atoi(q.Get("i"))
	attempt, err3 := strconv.Atoi(q.Get("a"))
	if !ok || !ok2 || err1 != nil || err2 != nil || err3 != nil || q.Get("t") == "" {
		l.mu.Lock()
		l.bad = append(l.bad, r.URL.String())
		l.mu.Unlock()
		http.Error(w, "bad report", 400)
		return
	}
	l.mu.Lock()
	l.execs = append(l.execs, wfExec{inst: inst, step: q.Get("s"), attempt: attempt, token: q.Get("t"), gen: gen, at: at})
	l.mu.Unlock()
	// Hold the callback a little: a kill then often lands between a
	// callback's start and its result's commit.
	time.Sleep(time.Duration(10+rand.IntN(50)) * time.Millisecond)
	io.WriteString(w, "ok")
}

type wfCrashChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	base  string
}

func startWorkflowCrashChild(t *testing.T, dir, state, logPath, parent string, gen, maxRun int) *wfCrashChild {
	t.Helper()
	// The generation travels in the URL the worker reports to.
	devVars := fmt.Sprintf("PARENT=%s/g/%d\n", parent, gen)
	if err := os.WriteFile(filepath.Join(dir, ".dev.vars"), []byte(devVars), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), wfCrashChildEnv+"="+dir, wfCrashStateEnv+"="+state,
		wfCrashMaxRunEnv+"="+strconv.Itoa(maxRun), wfCrashLogEnv+"="+logPath)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "error") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child (generation %d) did not start: %q %v", gen, line, err)
	}
	return &wfCrashChild{cmd: cmd, stdin: stdin, base: "http://127.0.0.1:" + strings.TrimSpace(line)}
}

func (c *wfCrashChild) kill() {
	c.cmd.Process.Kill() // SIGKILL
	c.cmd.Wait()
}

// stop closes the child's stdin: it closes the app and exits.
func (c *wfCrashChild) stop(t *testing.T) {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the child's clean stop: %v", err)
		}
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-done
		t.Errorf("the child did not stop within 15 s of being asked to (App.Close hangs?)")
	}
}

type wfProgress struct {
	Counts map[string]int
	Bad    []struct {
		I      int
		Status string
		Error  *workflows.ErrorInfo
	}
}

func TestWorkflowCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	const (
		instances = 200
		kills     = 32
		maxRun    = 6 // instances running at once: the work spans many generations
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ISOLA_WF_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 0x15a1a))
	t.Logf("seed %d (ISOLA_WF_CRASH_SEED reproduces the kill schedule)", seed)

	execs := &wfExecLog{}
	srv := httptest.NewServer(execs)
	defer srv.Close()

	dir := project(t, map[string]string{"wrangler.jsonc": wfCrashConfig, "worker.js": wfCrashWorker})
	state := filepath.Join(t.TempDir(), "state")
	logPath := filepath.Join(t.TempDir(), "child.log")
	dumpLog := func() {
		b, _ := os.ReadFile(logPath)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		t.Logf("child log (tail):\n%s", b)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	begin := time.Now()

	gen := 1
	child := startWorkflowCrashChild(t, dir, state, logPath, srv.URL, gen, maxRun)
	defer func() { child.cmd.Process.Kill(); child.cmd.Wait() }()
	resp, err := client.Get(fmt.Sprintf("%s/create?n=%d", child.base, instances))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}

	// Kill at random moments: right after a start (during recovery and
	// replay) as well as in the middle of the work.
	killAt := map[int]time.Time{} // generation -> when it was killed
	var lifetimes []time.Duration
	started := time.Now()
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(rng.IntN(700)) * time.Millisecond)
		killAt[gen] = time.Now()
		lifetimes = append(lifetimes, killAt[gen].Sub(started))
		child.kill()
		gen++
		child = startWorkflowCrashChild(t, dir, state, logPath, srv.URL, gen, maxRun)
		started = time.Now()
	}
	killPhase := time.Since(begin)
	execs.mu.Lock()
	execsDuringKills := len(execs.execs)
	execs.mu.Unlock()

	// Let the last generation finish everything. An instance that ends
	// otherwise than complete is reported by the checks below, with the
	// executions that explain it.
	var prog wfProgress
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(fmt.Sprintf("%s/progress?n=%d", child.base, instances))
		if err != nil {
			t.Fatalf("progress: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		prog = wfProgress{}
		if resp.StatusCode != 200 || json.Unmarshal(body, &prog) != nil {
			t.Fatalf("progress: %d %s", resp.StatusCode, body)
		}
		if prog.Counts["complete"]+len(prog.Bad) == instances {
			break
		}
		if time.Now().After(deadline) {
			dumpLog()
			t.Fatalf("after %d kills, not every instance finishes within 30 s of the last restart: %v (a hang after a restart, or a lost instance)", kills, prog.Counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(prog.Bad) > 0 {
		dumpLog()
		t.Errorf("%d instances did not complete after %d kills: %v", len(prog.Bad), kills, prog.Counts)
		for _, b := range prog.Bad[:min(5, len(prog.Bad))] {
			t.Errorf("  inst-%d: %s: %+v", b.I, b.Status, *b.Error)
		}
	}
	finishPhase := time.Since(begin) - killPhase
	child.stop(t)

	// Read the journal.
	store, err := workflows.OpenStore(filepath.Join(state, "workflows", "workflows.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	execs.mu.Lock()
	all := append([]wfExec(nil), execs.execs...)
	badReports := append([]string(nil), execs.bad...)
	execs.mu.Unlock()
	for _, b := range badReports {
		t.Errorf("malformed report from the worker: %s", b)
	}
	type stepKey struct {
		inst int
		step string
	}
	byStep := map[stepKey][]wfExec{}
	for _, e := range all {
		if e.inst < 0 || e.inst >= instances || !slices.Contains(wfCrashSteps, e.step) {
			t.Errorf("a report for no such step: %+v", e)
			continue
		}
		byStep[stepKey{e.inst, e.step}] = append(byStep[stepKey{e.inst, e.step}], e)
	}

	var completed, reexecuted, extraRuns, violations int
	fail := func(format string, args ...any) {
		violations++
		if violations <= 30 {
			t.Errorf(format, args...)
		}
	}
	for i := 0; i < instances; i++ {
		id := fmt.Sprintf("inst-%d", i)
		in, err := store.Instance("crash-flow", id)
		if err != nil {
			fail("%s: %v (a lost instance)", id, err)
			continue
		}
		// An instance that did not complete is still checked below: its
		// journal and executions say why.
		done := in.Status == workflows.Complete
		if done {
			completed++
		} else {
			fail("%s: status %s, want complete (%+v)", id, in.Status, in.Error)
		}
		steps, err := store.Steps("crash-flow", id)
		if err != nil {
			t.Fatal(err)
		}
		// (2) The journal holds exactly the six steps, in their order (a
		// beginning of them, for an instance that did not complete).
		var names []string
		for _, s := range steps {
			names = append(names, string(s.Kind)+":"+s.Name+"#"+strconv.Itoa(s.Count))
		}
		want := "do:s1#1 do:s2#1 sleep:nap#1 do:s3#1 do:s4#1 do:s5#1"
		if got := strings.Join(names, " "); got != want && (done || !strings.HasPrefix(want, got)) {
			fail("%s: journal %q, want %q", id, got, want)
			continue
		}
		var results []string
		var napWake int64
		recorded := map[string]wfExec{}
		for _, s := range steps {
			if s.State != workflows.StepDone {
				fail("%s: step %s is %s, want done", id, s.Name, s.State)
				continue
			}
			if s.Kind == workflows.KindSleep {
				napWake = s.WakeMs
				if want := int64(50 + (i%4)*50); s.WakeMs-s.StartMs != want || s.EndMs < s.WakeMs {
					fail("%s: sleep from %d to %d ended at %d, want %d ms and not early", id, s.StartMs, s.WakeMs, s.EndMs, want)
				}
				continue
			}
			var res string
			if s.Result == nil || json.Unmarshal([]byte(s.Result.JSON), &res) != nil {
				fail("%s: step %s has result %+v, want a string", id, s.Name, s.Result)
				continue
			}
			results = append(results, res)
			det, token, _ := strings.Cut(res, "#")
			if det != wfCrashDet(i, s.Name) {
				fail("%s: step %s recorded %q, want the deterministic part %q", id, s.Name, res, wfCrashDet(i, s.Name))
			}
			ex := byStep[stepKey{i, s.Name}]
			// (2) The recorded token is one the parent saw executed, by the
			// attempt the journal counts.
			rec := -1
			for j, e := range ex {
				if e.token == token {
					rec = j
				}
			}
			if rec < 0 {
				fail("%s: step %s recorded token %s, which no execution of that step reported", id, s.Name, token)
				continue
			}
			r := ex[rec]
			recorded[s.Name] = r
			if r.attempt != s.Attempts {
				fail("%s: step %s recorded %d attempts, but the recorded result came from attempt %d", id, s.Name, s.Attempts, r.attempt)
			}
			if s.Name == "s3" && s.Attempts != 2 {
				fail("%s: step s3 recorded %d attempts, want 2 (it fails once)", id, s.Attempts)
			}
			// (3) No re-execution without a crash: within one generation the
			// attempts of a step go 1, 2, ... once each; a first attempt
			// again means the step ran again in the same process.
			sort.SliceStable(ex, func(a, b int) bool {
				if ex[a].gen != ex[b].gen {
					return ex[a].gen < ex[b].gen
				}
				return ex[a].at.Before(ex[b].at)
			})
			rec = -1
			gens := 0
			for j, e := range ex {
				if e.token == token {
					rec = j
				}
				if j == 0 || e.gen != ex[j-1].gen {
					gens++
					if e.attempt != 1 {
						fail("%s: step %s started with attempt %d in generation %d", id, s.Name, e.attempt, e.gen)
					}
					if j > 0 {
						// A kill between the two: the earlier process died
						// before the later one existed.
						if k, ok := killAt[ex[j-1].gen]; !ok || !e.at.After(k) {
							fail("%s: step %s ran in generation %d at %v and again in generation %d at %v with no kill between",
								id, s.Name, ex[j-1].gen, ex[j-1].at.Sub(begin), e.gen, e.at.Sub(begin))
						}
					}
					continue
				}
				if e.attempt != ex[j-1].attempt+1 {
					fail("%s: step %s ran attempt %d after attempt %d in generation %d, with no kill between (a re-execution without a crash)",
						id, s.Name, e.attempt, ex[j-1].attempt, e.gen)
				}
			}
			// (3) The recorded execution is the step's last: nothing ran it
			// after its result was recorded, in its process or a later one.
			if rec != len(ex)-1 {
				late := ex[rec+1]
				fail("%s: step %s was recorded from generation %d (attempt %d, at %v), yet ran again in generation %d (attempt %d, at %v): a recorded step ran again",
					id, s.Name, r.gen, r.attempt, r.at.Sub(begin), late.gen, late.attempt, late.at.Sub(begin))
			}
			if s.Name != "s1" && s.Name != "s2" {
				// Steps after the sleep never run before it ends.
				for _, e := range ex {
					if e.at.UnixMilli() < napWake {
						fail("%s: step %s ran at %d, before the sleep's end %d", id, s.Name, e.at.UnixMilli(), napWake)
					}
				}
			}
			if gens > 1 {
				reexecuted++
				extraRuns += gens - 1
			}
		}
		// (3) A step's result is durable before the next step runs: every
		// execution of a step comes after the recorded execution of the
		// step before it (s2 -> s3 includes the sleep between them).
		for k := 1; k < len(wfCrashSteps); k++ {
			prev, ok := recorded[wfCrashSteps[k-1]]
			if !ok {
				continue
			}
			for _, e := range byStep[stepKey{i, wfCrashSteps[k]}] {
				if e.gen < prev.gen || (e.gen == prev.gen && !e.at.After(prev.at)) {
					fail("%s: step %s ran in generation %d (at %v) before the execution of %s that was recorded (generation %d, at %v): a step ran before the one before it was journaled",
						id, e.step, e.gen, e.at.Sub(begin), prev.step, prev.gen, prev.at.Sub(begin))
					break
				}
			}
		}
		// (1) The output is built from exactly the recorded results.
		if !done {
			continue
		}
		wantOut := fmt.Sprintf("out/%d:%s", i, strings.Join(results, "|"))
		var out string
		if in.Output == nil || json.Unmarshal([]byte(in.Output.JSON), &out) != nil || out != wantOut {
			fail("%s: output %+v, want %q", id, in.Output, wantOut)
		}
	}
	if violations > 30 {
		t.Errorf("... %d violations in all", violations)
	}
	if len(all) < instances*6 {
		t.Errorf("only %d step executions reported for %d instances, want at least %d", len(all), instances, instances*6)
	}

	// How many generations did work, and how many kills cut a callback
	// short (its generation saw a step start whose result it never recorded).
	worked := map[int]bool{}
	for _, e := range all {
		worked[e.gen] = true
	}
	sort.Slice(lifetimes, func(a, b int) bool { return lifetimes[a] < lifetimes[b] })
	t.Logf("%d kills over %v (child lifetimes %v .. %v, median %v), then %v to finish; %d generations",
		kills, killPhase.Round(time.Millisecond), lifetimes[0].Round(time.Millisecond), lifetimes[len(lifetimes)-1].Round(time.Millisecond),
		lifetimes[len(lifetimes)/2].Round(time.Millisecond), finishPhase.Round(time.Millisecond), gen)
	t.Logf("%d of %d instances complete; %d step executions reported (%d during the kill phase) in %d of %d generations; %d of %d steps (instance, step) ran again after a crash, %d extra runs in all",
		completed, instances, len(all), execsDuringKills, len(worked), gen, reexecuted, instances*len(wfCrashSteps), extraRuns)
	if reexecuted == 0 {
		t.Logf("note: no kill landed between a callback and its commit this time")
	}
}
