package workflows

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// funcRunner runs a Go function as the workflow's run(): it plays the part
// of the prelude, replaying from the top on every start.
type funcRunner struct {
	fn     func(r *Run) // returns after calling Finish, Suspend or getting an abandon
	starts atomic.Int64
}

func (f *funcRunner) Start(r *Run) {
	f.starts.Add(1)
	go f.fn(r)
}

// doStep is step.do in Go: answered from the journal or run and recorded.
// It reports false when the run must stop.
func doStep(r *Run, name string, count int, executions *atomic.Int64, result string) (string, bool) {
	a := r.Step(StepRequest{Kind: KindDo, Name: name, Count: count})
	switch a.Action {
	case ActDone:
		return a.Result.JSON, true
	case ActRun:
		executions.Add(1)
		done := make(chan bool, 1)
		r.StepDone(name, count, &Value{JSON: result}, nil, 1, 0, func(abandon bool, err error) { done <- !abandon && err == nil })
		return result, <-done
	}
	return "", false
}

type harness struct {
	t      *testing.T
	dir    string
	clock  *fakeClock
	store  *Store
	engine *Engine
}

func newHarness(t *testing.T, dir string, opts Options, wfs ...Workflow) *harness {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := OpenStore(filepath.Join(dir, "wf.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	e := New(s, opts)
	for _, w := range wfs {
		if err := e.Register(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, clock: clock, store: s, engine: e}
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	h.engine.Close()
	h.store.Close()
}

func (h *harness) waitStatus(wf, id string, want Status) *Instance {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var in *Instance
	var err error
	for time.Now().Before(deadline) {
		in, err = h.engine.Instance(wf, id)
		if err == nil && in.Status == want {
			return in
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.t.Fatalf("%s/%s: status %v (err %v), want %s", wf, id, statusOf(in), err, want)
	return nil
}

func statusOf(in *Instance) Status {
	if in == nil {
		return ""
	}
	return in.Status
}

func (h *harness) create(wf, id string) {
	h.t.Helper()
	if _, err := h.engine.Create(wf, CreateRequest{ID: id, Params: Value{JSON: "{}"}}); err != nil {
		h.t.Fatal(err)
	}
}

func TestStepsRecordedOnceAndReplayedAfterSleep(t *testing.T) {
	var execs atomic.Int64
	runner := &funcRunner{}
	runner.fn = func(r *Run) {
		a, ok := doStep(r, "a", 1, &execs, `"A"`)
		if !ok {
			return
		}
		if ans := r.Step(StepRequest{Kind: KindSleep, Name: "nap", Count: 1, DurationMs: 60_000}); ans.Action == ActBlock {
			r.Suspend()
			return
		}
		b, ok := doStep(r, "b", 1, &execs, `"B"`)
		if !ok {
			return
		}
		r.Finish(&Value{JSON: fmt.Sprintf("[%s,%s]", a, b)}, nil)
	}
	h := newHarness(t, "", Options{}, Workflow{Name: "w", Runner: runner})
	h.create("w", "i1")
	h.waitStatus("w", "i1", Waiting)
	in, _ := h.engine.Instance("w", "i1")
	if want := h.clock.Now().Add(time.Minute).UnixMilli(); in.WakeMs != want {
		t.Fatalf("wake = %d, want %d", in.WakeMs, want)
	}
	h.clock.Add(59 * time.Second)
	h.engine.Tick()
	time.Sleep(20 * time.Millisecond)
	if st := h.waitStatus("w", "i1", Waiting); st == nil {
		return
	}
	h.clock.Add(time.Second)
	h.engine.Tick()
	in = h.waitStatus("w", "i1", Complete)
	if in.Output.JSON != `["A","B"]` {
		t.Fatalf("output %s", in.Output.JSON)
	}
	if n := execs.Load(); n != 2 {
		t.Fatalf("callbacks ran %d times, want 2", n)
	}
	if n := runner.starts.Load(); n != 2 {
		t.Fatalf("run started %d times, want 2 (once, then once after the sleep)", n)
	}
	steps, _ := h.store.Steps("w", "i1")
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%s:%s:%s", s.Kind, s.Name, s.State))
	}
	if fmt.Sprint(got) != "[do:a:done sleep:nap:done do:b:done]" {
		t.Fatalf("journal %v", got)
	}
}

// waitRunner waits for an event of type "go" and returns its payload.
func waitRunner(timeoutMs int64) *funcRunner {
	runner := &funcRunner{}
	runner.fn = func(r *Run) {
		ans := r.Step(StepRequest{Kind: KindWait, Name: "w", Count: 1, DurationMs: timeoutMs, Type: "go"})
		switch ans.Action {
		case ActBlock:
			r.Suspend()
		case ActDone:
			ans2 := r.Step(StepRequest{Kind: KindWait, Name: "w", Count: 2, DurationMs: timeoutMs, Type: "go"})
			if ans2.Action == ActBlock {
				r.Suspend()
				return
			}
			if ans2.Action == ActDone {
				r.Finish(&Value{JSON: "[" + ans.Result.JSON + "," + ans2.Result.JSON + "]"}, nil)
			} else {
				r.Finish(nil, ans2.Error)
			}
		case ActFailed:
			r.Finish(nil, ans.Error)
		}
	}
	return runner
}

func TestEventsSentEarlyAreKeptInOrder(t *testing.T) {
	h := newHarness(t, "", Options{MaxRunning: 1}, Workflow{Name: "w", Runner: waitRunner(60_000)})
	// Pause first so the events arrive before any wait.
	h.create("w", "i")
	if err := h.engine.Pause("w", "i"); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("w", "i", Paused)
	for _, p := range []string{"1", "2", "3"} {
		if err := h.engine.SendEvent("w", "i", "go", Value{JSON: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.engine.Resume("w", "i"); err != nil {
		t.Fatal(err)
	}
	in := h.waitStatus("w", "i", Complete)
	if in.Output.JSON != "[1,2]" {
		t.Fatalf("output %s, want [1,2]", in.Output.JSON)
	}
	ev, _ := h.store.PendingEvents("w", "i")
	if len(ev) != 1 || ev[0].Payload.JSON != "3" {
		t.Fatalf("pending events %v", ev)
	}
}

func TestEventWakesWaitingInstance(t *testing.T) {
	h := newHarness(t, "", Options{}, Workflow{Name: "w", Runner: waitRunner(60_000)})
	h.create("w", "i")
	h.waitStatus("w", "i", Waiting)
	h.engine.SendEvent("w", "i", "other", Value{JSON: "0"})
	h.engine.SendEvent("w", "i", "go", Value{JSON: "1"})
	h.waitStatus("w", "i", Waiting)
	h.engine.SendEvent("w", "i", "go", Value{JSON: "2"})
	in := h.waitStatus("w", "i", Complete)
	if in.Output.JSON != "[1,2]" {
		t.Fatalf("output %s", in.Output.JSON)
	}
}

func TestWaitTimesOut(t *testing.T) {
	h := newHarness(t, "", Options{}, Workflow{Name: "w", Runner: waitRunner(1000)})
	h.create("w", "i")
	h.waitStatus("w", "i", Waiting)
	h.clock.Add(time.Second)
	h.engine.Tick()
	in := h.waitStatus("w", "i", Errored)
	if in.Error.Name != "WorkflowTimeoutError" || in.Error.Message != "Execution timed out after 1000ms" {
		t.Fatalf("error %+v", in.Error)
	}
	// A late event changes nothing.
	h.engine.SendEvent("w", "i", "go", Value{JSON: "1"})
	time.Sleep(20 * time.Millisecond)
	h.waitStatus("w", "i", Errored)
}

func TestControlAndBadInput(t *testing.T) {
	h := newHarness(t, "", Options{}, Workflow{Name: "w", Runner: waitRunner(60_000)})
	if _, err := h.engine.Create("w", CreateRequest{ID: "-bad"}); err == nil || err.Error() != "Workflow instance has invalid id" {
		t.Fatalf("bad id: %v", err)
	}
	long := make([]byte, 101)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := h.engine.Create("w", CreateRequest{ID: string(long)}); err == nil {
		t.Fatal("101-character id accepted")
	}
	h.create("w", "i")
	if _, err := h.engine.Create("w", CreateRequest{ID: "i"}); err == nil {
		t.Fatal("duplicate id accepted")
	}
	if _, err := h.engine.Instance("w", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing instance: %v", err)
	}
	h.waitStatus("w", "i", Waiting)
	h.engine.Pause("w", "i")
	h.waitStatus("w", "i", Paused)
	h.engine.Resume("w", "i")
	h.waitStatus("w", "i", Waiting)
	if err := h.engine.Terminate("w", "i"); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("w", "i", Terminated)
	err := h.engine.Terminate("w", "i")
	if err == nil || err.Error() != "(instance.cannot_terminate) Cannot terminate instance since its on a finite state" {
		t.Fatalf("second terminate: %v", err)
	}
	if err := h.engine.Restart("w", "i"); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("w", "i", Waiting)
	h.engine.SendEvent("w", "i", "go", Value{JSON: "1"})
	h.engine.SendEvent("w", "i", "go", Value{JSON: "2"})
	h.waitStatus("w", "i", Complete)
	if err := h.engine.Delete("w", "i"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Instance("w", "i"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted instance: %v", err)
	}
}

func TestRunningInstancesResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	var execs atomic.Int64
	block := make(chan struct{})
	first := &funcRunner{}
	first.fn = func(r *Run) {
		doStep(r, "a", 1, &execs, "1")
		<-block // the process "dies" here
	}
	h := newHarness(t, dir, Options{}, Workflow{Name: "w", Runner: first})
	h.create("w", "i")
	h.waitStatus("w", "i", Running)
	for i := 0; i < 500; i++ { // until step a is committed
		if st, _ := h.store.Steps("w", "i"); len(st) == 1 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.close()
	close(block)

	second := &funcRunner{}
	second.fn = func(r *Run) {
		a, ok := doStep(r, "a", 1, &execs, "1")
		if !ok {
			return
		}
		b, ok := doStep(r, "b", 1, &execs, "2")
		if ok {
			r.Finish(&Value{JSON: a + b}, nil)
		}
	}
	h2 := newHarness(t, dir, Options{}, Workflow{Name: "w", Runner: second})
	in := h2.waitStatus("w", "i", Complete)
	if in.Output.JSON != "12" || execs.Load() != 2 {
		t.Fatalf("output %s after %d executions", in.Output.JSON, execs.Load())
	}
}

func TestSchedulerIsFairBetweenWorkflows(t *testing.T) {
	var mu sync.Mutex
	var order []string
	mk := func(name string) *funcRunner {
		f := &funcRunner{}
		f.fn = func(r *Run) {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			r.Finish(&Value{JSON: "0"}, nil)
		}
		return f
	}
	h := newHarness(t, "", Options{MaxRunning: 1}, Workflow{Name: "a", Runner: mk("a")}, Workflow{Name: "b", Runner: mk("b")})
	h.engine.Pause("a", "x") // no such instance: nothing happens
	// Queue many of a before any of b.
	var reqs []CreateRequest
	for i := 0; i < 20; i++ {
		reqs = append(reqs, CreateRequest{ID: fmt.Sprintf("a%d", i)})
	}
	h.engine.mu.Lock() // hold the dispatcher back while both queues fill
	h.engine.closing = true
	h.engine.mu.Unlock()
	if _, err := h.engine.CreateBatch("a", reqs); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.CreateBatch("b", []CreateRequest{{ID: "b0"}, {ID: "b1"}}); err != nil {
		t.Fatal(err)
	}
	h.engine.mu.Lock()
	h.engine.closing = false
	h.engine.mu.Unlock()
	h.engine.kickDispatch()
	h.waitStatus("a", "a19", Complete)
	h.waitStatus("b", "b1", Complete)
	mu.Lock()
	defer mu.Unlock()
	// b's two instances start among the first four, not after a's twenty.
	pos := 0
	for i, n := range order {
		if n == "b" {
			pos = i
		}
	}
	if pos > 3 {
		t.Fatalf("b waited behind a: order %v", order)
	}
}

func TestRetentionDeletesFinishedInstances(t *testing.T) {
	done := &funcRunner{}
	done.fn = func(r *Run) { r.Finish(&Value{JSON: "1"}, nil) }
	h := newHarness(t, "", Options{Retention: time.Hour}, Workflow{Name: "w", Runner: done})
	h.create("w", "i")
	h.waitStatus("w", "i", Complete)
	h.clock.Add(time.Hour + time.Second)
	h.engine.Tick()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := h.engine.Instance("w", "i"); errors.Is(err, ErrNotFound) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the instance outlived its retention")
}

func TestInstanceSurvivesIsolateDeathsUpToALimit(t *testing.T) {
	var starts atomic.Int64
	runner := &funcRunner{}
	runner.fn = func(r *Run) {
		n := starts.Add(1)
		if r.Instance.ID == "flaky" && n <= 2 || r.Instance.ID == "doomed" {
			r.Lost(errors.New("Worker exceeded CPU time limit."))
			return
		}
		r.Finish(&Value{JSON: "1"}, nil)
	}
	h := newHarness(t, "", Options{}, Workflow{Name: "w", Runner: runner})
	h.create("w", "flaky")
	h.waitStatus("w", "flaky", Complete)
	h.create("w", "doomed")
	in := h.waitStatus("w", "doomed", Errored)
	if in.Error.Message != "Worker exceeded CPU time limit." {
		t.Fatalf("error %+v", in.Error)
	}
}

// A live run is stored as queued; the admin counts report it as running.
func TestCountsReportLiveRunsAsRunning(t *testing.T) {
	release := make(chan struct{})
	runner := &funcRunner{}
	runner.fn = func(r *Run) {
		if r.Instance.ID == "busy" {
			<-release
		}
		r.Finish(&Value{JSON: "1"}, nil)
	}
	h := newHarness(t, "", Options{}, Workflow{Name: "w", Runner: runner})
	h.create("w", "done")
	h.waitStatus("w", "done", Complete)
	h.create("w", "busy")
	h.waitStatus("w", "busy", Running)
	counts, err := h.engine.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(counts["w"]); got != "map[complete:1 running:1]" {
		t.Fatalf("counts %s, want map[complete:1 running:1]", got)
	}
	close(release)
	h.waitStatus("w", "busy", Complete)
}

// holdRunner's run(): step "a", a sleep of 5 s that it may wait out in
// memory, step "b". When held it reports the answer and waits for the test
// to say the timer fired, then asks SleepDue, as the prelude does.
func holdRunner(held chan<- Answer, fire <-chan struct{}, execs *atomic.Int64) *funcRunner {
	runner := &funcRunner{}
	runner.fn = func(r *Run) {
		if _, ok := doStep(r, "a", 1, execs, `"A"`); !ok {
			return
		}
		ans := r.Step(StepRequest{Kind: KindSleep, Name: "nap", Count: 1, DurationMs: 5000, MayHold: true})
		if ans.Action == ActHold {
			held <- ans
			<-fire
			ans = r.SleepDue("nap", 1)
		}
		switch ans.Action {
		case ActBlock:
			r.Suspend()
			return
		case ActDone:
		default:
			return
		}
		if _, ok := doStep(r, "b", 1, execs, `"B"`); !ok {
			return
		}
		r.Finish(&Value{JSON: `"done"`}, nil)
	}
	return runner
}

func TestShortSleepWaitedOutInMemory(t *testing.T) {
	held, fire := make(chan Answer, 1), make(chan struct{})
	var execs atomic.Int64
	runner := holdRunner(held, fire, &execs)
	other := &funcRunner{fn: func(r *Run) { r.Finish(&Value{JSON: `"other"`}, nil) }}
	h := newHarness(t, "", Options{MaxRunning: 1, SleepInMemory: 10 * time.Second},
		Workflow{Name: "wf", ClassName: "W", Runner: runner}, Workflow{Name: "other", ClassName: "O", Runner: other})
	h.create("wf", "one")
	if ans := <-held; ans.DelayMs != 5000 {
		t.Fatalf("held for %d ms, want 5000", ans.DelayMs)
	}
	// Sleeping, even in memory, is waiting; and a waiting run leaves its
	// slot to the queue.
	h.waitStatus("wf", "one", Waiting)
	h.create("other", "two")
	h.waitStatus("other", "two", Complete)

	h.clock.Add(5 * time.Second)
	fire <- struct{}{}
	if in := h.waitStatus("wf", "one", Complete); in.Output.JSON != `"done"` {
		t.Fatalf("output %s", in.Output.JSON)
	}
	if n := runner.starts.Load(); n != 1 {
		t.Fatalf("run() started %d times, want once: the sleep was not waited out in memory", n)
	}
	steps, err := h.store.Steps("wf", "one")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[1].Name != "nap" || steps[1].State != StepDone {
		t.Fatalf("journal %+v, want a, nap (done), b", steps)
	}
}

// heldInstance is instance "one" of holdRunner's workflow, started and
// waiting out its sleep in memory.
type heldInstance struct {
	*harness
	runner *funcRunner
	execs  *atomic.Int64
	fire   chan struct{} // the sleep's timer
}

func startHeld(t *testing.T) *heldInstance {
	held, fire := make(chan Answer, 2), make(chan struct{}, 2)
	execs := &atomic.Int64{}
	runner := holdRunner(held, fire, execs)
	h := newHarness(t, "", Options{SleepInMemory: 10 * time.Second}, Workflow{Name: "wf", ClassName: "W", Runner: runner})
	h.create("wf", "one")
	<-held
	return &heldInstance{h, runner, execs, fire}
}

func TestHeldSleepNotYetDueIsDroppedAndReplayed(t *testing.T) {
	h := startHeld(t)
	runner, execs := h.runner, h.execs
	h.fire <- struct{}{} // the timer fired, but the engine's clock has not moved
	// Dropped: the stored status says so (a held run's stays "queued").
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if in, err := h.store.Instance("wf", "one"); err == nil && in.Status == Waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run was never dropped")
		}
	}
	h.clock.Add(6 * time.Second)
	h.engine.Tick()
	h.waitStatus("wf", "one", Complete)
	if n := runner.starts.Load(); n != 2 {
		t.Fatalf("run() started %d times, want twice (dropped, then replayed)", n)
	}
	if n := execs.Load(); n != 2 {
		t.Fatalf("%d step callbacks ran, want 2", n)
	}
}

func TestPauseEndsASleepWaitedOutInMemory(t *testing.T) {
	h := startHeld(t)
	runner := h.runner
	if err := h.engine.Pause("wf", "one"); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("wf", "one", Paused) // at once, not when the sleep ends
	h.fire <- struct{}{}
	h.clock.Add(6 * time.Second)
	if err := h.engine.Resume("wf", "one"); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("wf", "one", Complete)
	if n := runner.starts.Load(); n != 2 {
		t.Fatalf("run() started %d times, want twice", n)
	}
}

func TestSleepsAreNotHeldWithAClockOfTheCallers(t *testing.T) {
	o := Options{Now: time.Now}.WithDefaults()
	if o.SleepInMemory != 0 {
		t.Fatalf("SleepInMemory = %v with a caller's clock, want 0", o.SleepInMemory)
	}
	if o := (Options{}).WithDefaults(); o.SleepInMemory != DefaultSleepInMemory {
		t.Fatalf("SleepInMemory = %v, want the default", o.SleepInMemory)
	}
}
