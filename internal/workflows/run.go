package workflows

import (
	"fmt"
	"sort"
	"strings"
)

// Run is one execution of an instance's run(): from its start (or replay)
// to its end, a suspension, or an abandonment. The runner calls its methods
// from one goroutine (the isolate's loop); the engine changes its flags
// under Engine.mu when an operator pauses or stops the instance.
type Run struct {
	e   *Engine
	wf  *workflowState
	key instKey
	// ID is unique in the process; the runner uses it to find the run.
	ID int64
	// Instance is the instance as it was when the run began.
	Instance *Instance

	steps  map[stepKey]*Step
	events []*Event // sent and not consumed, oldest first

	starting bool
	stopped  bool // terminated, restarted, deleted, or engine closing: drop everything
	pause    bool // pause asked for: stop at the next step boundary
	blocked  map[stepKey]bool
	wakeNow  bool // an awaited event arrived while the run was live
	// reached holds the steps this run asked for; at the end, a recorded
	// step it never asked for is reported as unreached.
	reached map[stepKey]bool
	onEnd   func() // see OnEnd
	// codeChanged: RanOn changed the instance's code, not yet written.
	codeChanged bool
	// held: the sleeps the run waits out in memory (ActHold). While there
	// are some the run holds no running slot (Engine.sleepers counts it).
	held map[stepKey]bool
	// doing counts the step.do callbacks running (ActRun, not yet StepDone).
	doing int
}

// OnEnd registers f to be called once the run ends, however it ends
// (suspended, paused, finished, stopped, lost); at once if it has ended.
// f is called with the engine's lock held: it must not block or call the
// engine (posting work elsewhere is what it is for).
func (r *Run) OnEnd(f func()) {
	r.e.mu.Lock()
	if !r.stopped {
		r.onEnd = f
		r.e.mu.Unlock()
		return
	}
	r.e.mu.Unlock()
	f()
}

// stepKey identifies a step in the journal. Each kind of step numbers its
// occurrences of a name separately, as the reference's counters do.
type stepKey struct {
	kind  StepKind
	name  string
	count int
}

// ClassName is the workflow's class.
func (r *Run) ClassName() string { return r.wf.ClassName }

// WorkflowName is the workflow's name.
func (r *Run) WorkflowName() string { return r.wf.Name }

// StepLimit is the most step.do calls an instance may make.
func (r *Run) StepLimit() int { return r.wf.StepLimit }

// Action tells the runner what to do with a step.
type Action string

const (
	ActRun     Action = "run"     // run the callback
	ActDone    Action = "done"    // answered from the journal: Result (and Event fields for waits)
	ActFailed  Action = "failed"  // answered with an error: Error
	ActBlock   Action = "block"   // a sleep or wait not over yet
	ActAbandon Action = "abandon" // stop: the instance was paused, terminated or restarted
	ActPast    Action = "past"    // a new sleepUntil whose time has passed
	ActHold    Action = "hold"    // a sleep to wait out in memory: DelayMs, then SleepDue
)

// Answer is the engine's reply to a step call.
type Answer struct {
	Action    Action
	Result    *Value
	Error     *ErrorInfo
	EventType string
	EventMs   int64
	DelayMs   int64 // ActHold: how long until the sleep is due
}

// StepRequest describes a step call as the runner saw it.
type StepRequest struct {
	Kind  StepKind
	Name  string
	Count int
	// For sleeps: UntilMs (sleepUntil, with Type "until") or DurationMs
	// (sleep). For waits: DurationMs is the timeout and Type the event type.
	UntilMs    int64
	DurationMs int64
	Type       string
	// MayHold: the runner can wait out a sleep in memory (ActHold) and
	// call SleepDue when it is over.
	MayHold bool
}

func (r *Run) seq() int64 {
	r.e.stepSeq++
	return r.e.stepSeq
}

// Step is called when run() reaches a step. For a step.do not in the
// journal it answers ActRun and the runner reports the outcome with
// StepDone.
func (r *Run) Step(req StepRequest) Answer {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.pause {
		r.pauseNowLocked()
	}
	if r.stopped {
		return Answer{Action: ActAbandon}
	}
	k := stepKey{req.Kind, req.Name, req.Count}
	r.reached[k] = true
	s := r.steps[k]
	now := e.now()
	switch req.Kind {
	case KindDo:
		if s == nil {
			r.doing++
			return Answer{Action: ActRun}
		}
		if s.State == StepFailed {
			return Answer{Action: ActFailed, Error: s.Error}
		}
		return Answer{Action: ActDone, Result: s.Result}

	case KindSleep:
		if s == nil && req.Type == "until" && req.UntilMs < now {
			return Answer{Action: ActPast}
		}
		if s == nil {
			wake := req.UntilMs
			if wake == 0 {
				wake = now + req.DurationMs
			}
			s = &Step{Name: req.Name, Count: req.Count, Kind: KindSleep, State: StepSleeping, Seq: r.seq(), StartMs: now, WakeMs: wake}
			if req.Type == "until" {
				s.Type = "until"
			}
			r.steps[k] = s
			r.write(s, true)
		}
		if s.State == StepDone {
			return Answer{Action: ActDone}
		}
		if s.WakeMs <= now {
			s.State, s.EndMs = StepDone, now
			r.write(s, false)
			return Answer{Action: ActDone}
		}
		if req.MayHold && r.mayHoldLocked(s.WakeMs-now) {
			r.holdLocked(k)
			return Answer{Action: ActHold, DelayMs: s.WakeMs - now}
		}
		r.block(k)
		return Answer{Action: ActBlock}

	case KindWait:
		if s != nil && s.State == StepDone {
			return Answer{Action: ActDone, Result: s.Result, EventType: s.Type, EventMs: s.EndMs}
		}
		if s != nil && s.State == StepFailed {
			return Answer{Action: ActFailed, Error: s.Error}
		}
		fresh := s == nil
		if fresh {
			s = &Step{Name: req.Name, Count: req.Count, Kind: KindWait, State: StepWaiting, Seq: r.seq(), StartMs: now,
				WakeMs: now + req.DurationMs, Type: req.Type}
			r.steps[k] = s
		}
		for i, ev := range r.events {
			if ev.Type != s.Type {
				continue
			}
			r.events = append(r.events[:i:i], r.events[i+1:]...)
			s.State, s.Result, s.EndMs = StepDone, &ev.Payload, ev.TimestampMs
			r.write(s, fresh)
			seq := ev.Seq
			wf, id, name, count := r.key.workflow, r.key.id, s.Name, s.Count
			e.store.SubmitOne(func(tx *Tx) error {
				_, err := tx.Exec(`UPDATE events SET consumed_name = ?, consumed_count = ? WHERE workflow = ? AND id = ? AND seq = ?`,
					name, count, wf, id, seq)
				return err
			}, nil)
			return Answer{Action: ActDone, Result: s.Result, EventType: s.Type, EventMs: s.EndMs}
		}
		if s.WakeMs <= now {
			s.State, s.EndMs = StepFailed, now
			s.Error = &ErrorInfo{Name: "WorkflowTimeoutError", Message: waitTimeoutMessage(s)}
			r.write(s, fresh)
			return Answer{Action: ActFailed, Error: s.Error}
		}
		if fresh {
			r.write(s, true)
		}
		r.block(k)
		return Answer{Action: ActBlock}
	}
	return Answer{Action: ActFailed, Error: &ErrorInfo{Name: "Error", Message: "unknown step kind " + string(req.Kind)}}
}

// waitTimeoutMessage is the error a timed-out waitForEvent throws.
func waitTimeoutMessage(s *Step) string {
	return fmt.Sprintf("Execution timed out after %dms", s.WakeMs-s.StartMs)
}

// mayHoldLocked says whether a sleep due in delayMs is waited out in
// memory: short enough, and room for one more run doing so.
func (r *Run) mayHoldLocked(delayMs int64) bool {
	o := &r.e.opts
	return o.SleepInMemory > 0 && delayMs <= o.SleepInMemory.Milliseconds() && !r.pause && !r.wakeNow &&
		(len(r.held) > 0 || r.e.sleepers < o.MaxSleepingInMemory)
}

// holdLocked notes a sleep waited out in memory. A run whose every
// pending step is such a sleep is waiting: its running slot goes to the
// queue meanwhile.
func (r *Run) holdLocked(k stepKey) {
	e := r.e
	if len(r.held) == 0 {
		r.wf.live--
		e.running--
		e.sleepers++
		e.kickDispatch()
	}
	if r.held == nil {
		r.held = map[stepKey]bool{}
	}
	r.held[k] = true
}

// unholdLocked ends a sleep waited out in memory; the run takes a running
// slot again (past MaxRunning if need be: it was running before).
func (r *Run) unholdLocked(k stepKey) {
	if !r.held[k] {
		return
	}
	delete(r.held, k)
	if len(r.held) == 0 {
		r.wf.live++
		r.e.running++
		r.e.sleepers--
	}
}

// sleepingLocked: the run is live, and all it awaits are sleeps it waits
// out in memory (and perhaps sleeps or waits it would be dropped for).
func (r *Run) sleepingLocked() bool {
	return len(r.held) > 0 && r.doing == 0
}

// SleepDue is called when a sleep answered ActHold should be over: ActDone
// if it is; ActBlock if the engine's clock says otherwise (the runner then
// treats it as any pending sleep); ActAbandon if the run was stopped or
// paused meanwhile.
func (r *Run) SleepDue(name string, count int) Answer {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	k := stepKey{KindSleep, name, count}
	r.unholdLocked(k)
	if r.pause {
		r.pauseNowLocked()
	}
	if r.stopped {
		return Answer{Action: ActAbandon}
	}
	s := r.steps[k]
	if s == nil {
		return Answer{Action: ActFailed, Error: &ErrorInfo{Name: "Error", Message: fmt.Sprintf("workflows: no sleep %q (occurrence %d) to end", name, count)}}
	}
	if s.State == StepDone {
		return Answer{Action: ActDone}
	}
	if now := e.now(); s.WakeMs <= now {
		s.State, s.EndMs = StepDone, now
		r.write(s, false)
		return Answer{Action: ActDone}
	}
	r.block(k)
	return Answer{Action: ActBlock}
}

func (r *Run) block(k stepKey) {
	if r.blocked == nil {
		r.blocked = map[stepKey]bool{}
	}
	r.blocked[k] = true
}

// write records s (an insert when fresh, else an update). Called under
// Engine.mu, so writes reach the store in the order they were decided.
func (r *Run) write(s *Step, fresh bool) {
	r.submitStep(s, fresh, nil)
}

func (r *Run) submitStep(s *Step, fresh bool, done func(error)) {
	wf, id := r.key.workflow, r.key.id
	st := *s
	res, resBufs := nullValue(st.Result)
	var en, em any
	if st.Error != nil {
		en, em = st.Error.Name, st.Error.Message
	}
	r.e.store.SubmitOne(func(tx *Tx) error {
		if fresh {
			_, err := tx.Exec(`INSERT INTO steps (workflow, id, name, count, kind, state, seq, result, result_bufs,
			  error_name, error_message, attempts, start_ms, end_ms, wake_ms, type) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				wf, id, st.Name, st.Count, string(st.Kind), string(st.State), st.Seq, res, resBufs, en, em,
				st.Attempts, st.StartMs, st.EndMs, st.WakeMs, st.Type)
			return err
		}
		_, err := tx.Exec(`UPDATE steps SET state = ?, result = ?, result_bufs = ?, error_name = ?, error_message = ?,
		  attempts = ?, end_ms = ? WHERE workflow = ? AND id = ? AND name = ? AND count = ?`,
			string(st.State), res, resBufs, en, em, st.Attempts, st.EndMs, wf, id, st.Name, st.Count)
		return err
	}, done)
}

// StepDone records a step.do's outcome: its result, or the error its last
// attempt threw. reply runs once the record is committed (from another
// goroutine); abandon tells the runner to stop there.
func (r *Run) StepDone(name string, count int, result *Value, failure *ErrorInfo, attempts int, startMs int64,
	reply func(abandon bool, err error)) {
	e := r.e
	e.mu.Lock()
	if r.stopped {
		e.mu.Unlock()
		reply(true, nil)
		return
	}
	if r.doing > 0 {
		r.doing--
	}
	k := stepKey{KindDo, name, count}
	r.reached[k] = true
	if old := r.steps[k]; old != nil {
		e.mu.Unlock()
		reply(false, fmt.Errorf("workflows: step %q (occurrence %d) is already recorded", name, count))
		return
	}
	s := &Step{Name: name, Count: count, Kind: KindDo, State: StepDone, Seq: r.seq(), Result: result, Error: failure,
		Attempts: attempts, StartMs: startMs, EndMs: e.now()}
	if failure != nil {
		s.State = StepFailed
	}
	r.steps[k] = s
	r.submitStep(s, true, func(err error) {
		e.mu.Lock()
		if r.pause {
			r.pauseNowLocked()
		}
		abandon := r.stopped
		e.mu.Unlock()
		reply(abandon, err)
	})
	e.mu.Unlock()
}

// Suspend ends the run because everything it awaits is a sleep or a wait.
// The instance waits on disk until the earliest of them is due (or an event
// it waits for arrives).
func (r *Run) Suspend() {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.stopped {
		return
	}
	r.suspendLocked()
}

func (r *Run) suspendLocked() {
	e := r.e
	wake := int64(0)
	for _, ks := range []map[stepKey]bool{r.blocked, r.held} {
		for k := range ks {
			s := r.steps[k]
			if s == nil || (s.State != StepSleeping && s.State != StepWaiting) {
				continue
			}
			if wake == 0 || s.WakeMs < wake {
				wake = s.WakeMs
			}
		}
	}
	e.endLocked(r)
	wf, id := r.key.workflow, r.key.id
	if r.pause {
		r.setStatusLocked(Paused, 0)
		return
	}
	if r.wakeNow || wake == 0 {
		// Nothing to wait for after all: run again.
		e.enqueueLocked(r.wf, queued{key: r.key})
		e.kickDispatch()
		return
	}
	started := r.Instance.StartedMs
	cs, cl := r.codeArgs()
	e.store.SubmitOne(func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE instances SET status = 'waiting', wake_ms = ?, started_ms = ?, `+setCode+` WHERE workflow = ? AND id = ?`,
			wake, started, cs, cl, wf, id)
		return err
	}, func(err error) {
		if err == nil {
			e.tickAt(wake)
		}
	})
}

// pauseNowLocked ends the run at a step boundary because a pause was asked
// for: the instance is paused, and resuming replays it.
func (r *Run) pauseNowLocked() {
	if r.stopped {
		return
	}
	r.e.endLocked(r)
	r.setStatusLocked(Paused, 0)
}

func (r *Run) setStatusLocked(s Status, wake int64) {
	wf, id := r.key.workflow, r.key.id
	var started int64
	if r.Instance != nil {
		started = r.Instance.StartedMs
	}
	cs, cl := r.codeArgs()
	r.e.store.SubmitOne(func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE instances SET status = ?, wake_ms = ?, started_ms = MAX(started_ms, ?), `+setCode+` WHERE workflow = ? AND id = ?`,
			string(s), nullInt(wake), started, cs, cl, wf, id)
		return err
	}, nil)
}

// Finish records run()'s end: its output, or the error it threw.
func (r *Run) Finish(output *Value, failure *ErrorInfo) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.stopped {
		return
	}
	e.endLocked(r)
	delete(e.losses, r.key)
	r.reportUnreachedLocked()
	r.finishLocked(output, failure)
}

// reportUnreachedLocked marks the recorded steps the finishing run never
// asked for. With deterministic code there are none; there are some when a
// tenant's code changed while the instance slept and renamed or dropped a
// step, which the reference lets pass silently.
func (r *Run) reportUnreachedLocked() {
	var names []string
	var keys []stepKey
	for k := range r.steps {
		if !r.reached[k] {
			keys = append(keys, k)
			names = append(names, fmt.Sprintf("%s %q (#%d)", k.kind, k.name, k.count))
		}
	}
	if len(keys) == 0 {
		return
	}
	sort.Strings(names)
	in := r.Instance
	code := ""
	if in != nil && in.CodeStarted != in.CodeLatest {
		code = fmt.Sprintf(" (it started on code %s and finished on %s)", in.CodeStarted, in.CodeLatest)
	}
	r.e.opts.Log("warn", fmt.Sprintf("workflows: %s/%s finished without reaching recorded steps %s%s",
		r.key.workflow, r.key.id, strings.Join(names, ", "), code))
	wf, id := r.key.workflow, r.key.id
	r.e.store.SubmitOne(func(tx *Tx) error {
		for _, k := range keys {
			if _, err := tx.Exec(`UPDATE steps SET unreached = 1 WHERE workflow = ? AND id = ? AND kind = ? AND name = ? AND count = ?`,
				wf, id, string(k.kind), k.name, k.count); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

// RanOn records that this run handed its steps to the given code
// ("<loader id>@<version>"): the first such code is the one the instance
// started on; a later, different one means the code changed under it.
// It is written with the instance's next status change (the run's
// suspension or end), which saves a write per run; a run cut short by a
// crash before then records it again when it runs again.
func (r *Run) RanOn(code string) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	in := r.Instance
	if r.stopped || in == nil || code == in.CodeLatest {
		return
	}
	if in.CodeStarted == "" {
		in.CodeStarted = code
	} else {
		e.opts.Log("warn", fmt.Sprintf("workflows: %s/%s started on code %s and now runs on %s",
			r.key.workflow, r.key.id, in.CodeStarted, code))
	}
	in.CodeLatest = code
	r.codeChanged = true
}

// setCode sets the code columns in an instance update, from codeArgs.
const setCode = `code_started = COALESCE(?, code_started), code_latest = COALESCE(?, code_latest)`

// codeArgs are the code columns for an instance update: unchanged
// (COALESCE with NULL) unless RanOn changed them.
func (r *Run) codeArgs() (started, latest any) {
	if !r.codeChanged || r.Instance == nil {
		return nil, nil
	}
	r.codeChanged = false
	return r.Instance.CodeStarted, r.Instance.CodeLatest
}

func (r *Run) finishLocked(output *Value, failure *ErrorInfo) {
	e := r.e
	now := e.now()
	status, keep := Complete, e.opts.Retention.Milliseconds()
	if r.Instance != nil && r.Instance.SuccessRetentionMs > 0 {
		keep = r.Instance.SuccessRetentionMs
	}
	if failure != nil {
		status, keep = Errored, e.opts.Retention.Milliseconds()
		if r.Instance != nil && r.Instance.ErrorRetentionMs > 0 {
			keep = r.Instance.ErrorRetentionMs
		}
	}
	out, outBufs := nullValue(output)
	var en, em any
	if failure != nil {
		en, em = failure.Name, failure.Message
	}
	wf, id := r.key.workflow, r.key.id
	var started int64
	if r.Instance != nil {
		started = r.Instance.StartedMs
	}
	cs, cl := r.codeArgs()
	e.store.SubmitOne(func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE instances SET status = ?, ended_ms = ?, wake_ms = NULL, output = ?, output_bufs = ?,
		  error_name = ?, error_message = ?, expire_ms = ?, started_ms = MAX(started_ms, ?), `+setCode+` WHERE workflow = ? AND id = ?`,
			string(status), now, out, outBufs, en, em, now+keep, started, cs, cl, wf, id)
		return err
	}, nil)
}

// Lost reports that the run cannot go on: its isolate died (a CPU or memory
// limit, for instance). Every run live in that isolate is lost with it, and
// the one that caused it cannot be told from the others, so the instance is
// queued again, and fails with err only when it was among the lost
// maxLosses times. When the engine is closing it simply resumes on the
// next start.
func (r *Run) Lost(err error) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.stopped || e.closing {
		e.endLocked(r)
		return
	}
	e.endLocked(r)
	if e.losses == nil {
		e.losses = map[instKey]int{}
	}
	e.losses[r.key]++
	if n := e.losses[r.key]; n < maxLosses {
		e.opts.Log("warn", fmt.Sprintf("workflows: %s/%s: its isolate died (%v); running it again (%d of %d)", r.key.workflow, r.key.id, err, n+1, maxLosses))
		e.enqueueLocked(r.wf, queued{key: r.key})
		e.kickDispatch()
		return
	}
	delete(e.losses, r.key)
	r.finishLocked(nil, &ErrorInfo{Name: "Error", Message: err.Error()})
}

// maxLosses is how many isolate deaths an instance lives through.
const maxLosses = 3
