package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/jsvm"
	"github.com/isola-run/isola/internal/workflows"
	"modernc.org/quickjs"
)

// Workflows: the engine (internal/workflows) decides what runs when and
// keeps the journal; this file runs run(event, step) in the worker's isolate
// and gives JavaScript the binding (env.WF) and the step calls.

// WorkflowRunner starts runs of a workflow's class in the worker's live
// isolate. All instances of a worker's workflows share that isolate, each
// run one async call inside it.
type WorkflowRunner struct {
	Worker *Worker
}

// Start implements workflows.Runner.
func (wr *WorkflowRunner) Start(run *workflows.Run) {
	iso, err := wr.Worker.Isolate()
	if err != nil {
		run.Lost(err)
		return
	}
	lr := &liveRun{run: run, id: run.ID, home: iso, limit: run.StepLimit(), counts: map[countKey]int{}}
	run.OnEnd(lr.ended)
	if !iso.post(func() { iso.startWorkflowRun(lr) }) {
		run.Lost(iso.Err())
	}
}

// liveRun is a run as the isolates holding its step see it. The step goes
// wherever run() sends it (a dispatcher hands it to a tenant's dynamic
// worker): it is not an RPC stub back to the isolate that made it but a
// capability to the run itself (stepTarget), so each isolate runs its
// steps' callbacks where they are and talks to the engine directly. A step
// in a tenant's isolate then costs what a step in the dispatcher's costs.
//
// What must agree across those isolates lives here, under mu: each step
// name's occurrence count, the step.do count against the step limit, and
// the in-flight and blocked steps that decide when the run is dropped.
type liveRun struct {
	id         int64
	home       *Isolate // where run() runs
	homeHandle int      // the step's handle there; released when the run ends
	limit      int

	mu       sync.Mutex
	run      *workflows.Run // nil once the run has ended
	counts   map[countKey]int
	steps    int // step.do calls, against limit
	inflight int // step.do callbacks running
	blocked  int // sleeps and waits not over
	held     int // sleeps waited out in memory (workflows.ActHold)
	// handedOff lists the isolates with calls that handed the step on:
	// when the run ends they abandon those calls.
	handedOff map[*Isolate]bool
}

type countKey struct{ kind, name string }

// current returns the engine's run, nil once it has ended.
func (lr *liveRun) current() *workflows.Run {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.run
}

// ended is the run's OnEnd hook (called with the engine's lock held): the
// journal is let go, and every isolate that handed the step on drops the
// calls that did so, unanswered, so that the isolates they went to are
// idle again (and a tenant's isolate can be evicted while its instance
// sleeps).
func (lr *liveRun) ended() {
	lr.mu.Lock()
	lr.run = nil
	isos := lr.handedOff
	lr.handedOff = nil
	lr.mu.Unlock()
	lr.home.post(func() { lr.home.forgetRun(lr) })
	for iso := range isos {
		if iso != lr.home {
			iso.post(func() { iso.abandonHandoffs(lr) })
		}
	}
}

// stepTarget is a run's step in an isolate's handle table.
type stepTarget struct{ lr *liveRun }

func (t *stepTarget) Kind() string { return "step" }

func (t *stepTarget) Invoke(c *Call) {
	c.Reply(Message{}, errors.New("a workflow step is not called over RPC"))
}

func (iso *Isolate) startWorkflowRun(lr *liveRun) {
	run := lr.current()
	if run == nil {
		return // ended before it started
	}
	if iso.wfRuns == nil {
		iso.wfRuns = map[int64]*liveRun{}
	}
	iso.wfRuns[lr.id] = lr
	h := iso.addHandle(&stepTarget{lr})
	lr.homeHandle = h
	in := run.Instance
	args := []any{h, run.ClassName(), run.WorkflowName(), in.ID, float64(in.CreatedMs), in.Params.JSON}
	var free []quickjs.Value
	for _, b := range in.Params.Bufs {
		v := jsvm.NewArrayBuffer(iso.vm, b)
		free = append(free, v)
		args = append(args, v)
	}
	_, err := iso.call("workflowRun", args...)
	for _, v := range free {
		v.Free()
	}
	if err != nil {
		run.Lost(err)
	}
}

// mayHoldSleep says whether a run may wait out a sleep here, in memory,
// keeping this isolate busy meanwhile: not in a loader cache near its
// budget, which would rather evict it (the run is then dropped and replayed
// when the sleep is due, as every longer sleep is).
func (iso *Isolate) mayHoldSleep() bool {
	return iso.worker == nil || iso.worker.roomy == nil || iso.worker.roomy()
}

// forgetRun drops what the run's home isolate keeps for it.
func (iso *Isolate) forgetRun(lr *liveRun) {
	delete(iso.wfRuns, lr.id)
	iso.releaseHandle(lr.homeHandle)
	iso.abandonHandoffs(lr)
}

// stopWorkflowRuns tells the engine that the runs of a dying isolate are
// lost.
func (iso *Isolate) stopWorkflowRuns(err error) {
	for id, lr := range iso.wfRuns {
		delete(iso.wfRuns, id)
		if run := lr.current(); run != nil {
			run.Lost(err)
		}
	}
}

// handoff is a call that handed a run's step to another isolate.
type handoff struct {
	lr   *liveRun
	drop func() // drops the call's promise here, unsettled
}

// noteStepHandoff is called for each outgoing call: when the call carries
// a live run's step it is tracked, to be abandoned when the run ends (its
// callee forgets it, and the promise here is dropped unsettled: the code
// awaiting it must not resume); and when it goes to a dynamic worker the
// run records which code runs the instance. Runs on the loop.
func (iso *Isolate) noteStepHandoff(t Target, c *Call, caps []Target, complete func(func() quickjs.Value, error)) bool {
	tracked := false
	for _, cp := range caps {
		st, ok := cp.(*stepTarget)
		if !ok {
			continue
		}
		lr := st.lr
		lr.mu.Lock()
		run := lr.run
		if run != nil && !tracked {
			if lr.handedOff == nil {
				lr.handedOff = map[*Isolate]bool{}
			}
			lr.handedOff[iso] = true
		}
		lr.mu.Unlock()
		if run == nil {
			continue
		}
		if et, ok := t.(*EntryTarget); ok && et.Worker.code != "" {
			run.RanOn(et.Worker.code)
		}
		if !tracked {
			if iso.wfHandoff == nil {
				iso.wfHandoff = map[*Call]handoff{}
			}
			c.abandonable = true
			iso.wfHandoff[c] = handoff{lr: lr, drop: func() { complete(nil, errAbandoned) }}
			tracked = true
		}
	}
	return tracked
}

// handoffDone forgets a call that handed a step on, now answered. When it
// failed because the isolate it went to died (a tenant's step hit its CPU
// or memory limit, say) the run is lost, as when its own isolate dies: the
// engine runs it again, and fails it after its third such loss. A step
// whose callback killed the tenant's isolate is so tried again, as the
// reference retries a step whose RPC to the tenant failed.
func (iso *Isolate) handoffDone(c *Call, err error) {
	h, ok := iso.wfHandoff[c]
	if !ok {
		return
	}
	delete(iso.wfHandoff, c)
	var thrown *ThrownError
	if err == nil || errors.Is(err, errAbandoned) || errors.As(err, &thrown) {
		return
	}
	if run := h.lr.current(); run != nil {
		run.Lost(err)
	}
}

// abandonHandoffs abandons this isolate's calls that handed lr's step on.
func (iso *Isolate) abandonHandoffs(lr *liveRun) {
	for c, h := range iso.wfHandoff {
		if h.lr == lr {
			delete(iso.wfHandoff, c)
			c.Abandon()
			h.drop()
		}
	}
}

// WorkflowBinding is a `workflows` binding: env.WF.
type WorkflowBinding struct {
	Engine *workflows.Engine
	Name   string // the workflow's name
}

func (b *WorkflowBinding) Kind() string { return "workflow" }

func (b *WorkflowBinding) Invoke(c *Call) {
	c.Reply(Message{}, errors.New("a Workflow binding cannot be passed over RPC yet"))
}

// createItem is one create() request as the prelude sends it.
type createItem struct {
	ID               *string `json:"id"` // nil: a random UUID
	Params           string  `json:"params"`
	Bufs             int     `json:"bufs"`
	SuccessRetention int64   `json:"successRetention"`
	ErrorRetention   int64   `json:"errorRetention"`
}

func (iso *Isolate) workflowHost(fns map[string]any) {
	stepOf := func(h int) *liveRun {
		if t, ok := iso.handles[h].(*stepTarget); ok {
			return t.lr
		}
		return nil
	}
	// wfStep answers a step call: [action, count, ...]: ["run", n],
	// ["block", n], ["past", n], ["abandon", 0], ["invalid", 0],
	// ["limit", 0, limit], ["failed", n, name, message],
	// ["done", n, json, type, ms, ...bufs]. Occurrence counts are kept
	// here, not in JavaScript, because the step may be used from several
	// isolates; an invalid step.do counts against the limit only.
	fns["wfStep"] = fastHost(7, func(_ *Isolate, in *jsvm.Args) any {
		h, kind, name, valid := in.Int(0), in.String(1), in.String(2), in.Bool(3)
		until, dur, typ := in.Float(4), in.Float(5), in.String(6)
		if in.Err() != nil {
			return nil
		}
		lr := stepOf(h)
		if lr == nil {
			return []any{"abandon", 0}
		}
		lr.mu.Lock()
		run := lr.run
		if run == nil {
			lr.mu.Unlock()
			return []any{"abandon", 0}
		}
		if kind == string(workflows.KindDo) {
			lr.steps++
			if lr.steps > lr.limit {
				lr.mu.Unlock()
				return []any{"limit", 0, lr.limit}
			}
		}
		if !valid {
			lr.mu.Unlock()
			return []any{"invalid", 0}
		}
		k := countKey{kind, name}
		lr.counts[k]++
		count := lr.counts[k]
		lr.mu.Unlock()
		// Not under lr.mu: the engine calls lr.ended with its own lock held.
		a := run.Step(workflows.StepRequest{Kind: workflows.StepKind(kind), Name: name, Count: count,
			UntilMs: int64(until), DurationMs: int64(dur), Type: typ,
			MayHold: kind == string(workflows.KindSleep) && iso.mayHoldSleep()})
		switch a.Action {
		case workflows.ActAbandon:
			return []any{"abandon", 0}
		case workflows.ActFailed:
			return []any{"failed", count, a.Error.Name, a.Error.Message}
		case workflows.ActDone:
			out := []any{"done", count, nil, a.EventType, float64(a.EventMs)}
			if a.Result != nil {
				out[2] = a.Result.JSON
				for _, b := range a.Result.Bufs {
					out = append(out, jsvm.NewArrayBuffer(iso.vm, b))
				}
			}
			return out
		case workflows.ActRun:
			lr.mu.Lock()
			lr.inflight++
			lr.mu.Unlock()
		case workflows.ActBlock:
			lr.mu.Lock()
			lr.blocked++
			lr.mu.Unlock()
		case workflows.ActHold:
			lr.mu.Lock()
			lr.held++
			lr.mu.Unlock()
			return []any{"hold", count, float64(a.DelayMs)}
		}
		return []any{string(a.Action), count}
	})
	// wfSleepDue ends a sleep answered "hold", when its timer fires:
	// ["done", n], ["block", n] (see wfStep) or ["abandon", 0].
	fns["wfSleepDue"] = fastHost(3, func(_ *Isolate, in *jsvm.Args) any {
		h, name, count := in.Int(0), in.String(1), in.Int(2)
		if in.Err() != nil {
			return nil
		}
		lr := stepOf(h)
		if lr == nil {
			return []any{"abandon", 0}
		}
		lr.mu.Lock()
		run := lr.run
		if run != nil {
			lr.held--
		}
		lr.mu.Unlock()
		if run == nil {
			return []any{"abandon", 0}
		}
		a := run.SleepDue(name, count)
		switch a.Action {
		case workflows.ActDone:
			return []any{"done", count, nil, "", 0.0}
		case workflows.ActBlock:
			lr.mu.Lock()
			lr.blocked++
			lr.mu.Unlock()
		case workflows.ActFailed:
			return []any{"failed", count, a.Error.Name, a.Error.Message}
		}
		return []any{string(a.Action), count}
	})
	// wfStepDone records a step.do's outcome; the promise resolves, once
	// it is committed, to "ok", "check" (ok, and a sleep or wait is
	// pending: see whether the run can be dropped) or "abandon".
	// wfAttemptFailed reports a failed attempt of a step that will be tried
	// again: the journal records a step only when it ends, so this line is
	// what shows the operator each attempt's error while retries go on.
	fns["wfAttemptFailed"] = fastHost(7, func(_ *Isolate, in *jsvm.Args) any {
		h, name, count, attempt := in.Int(0), in.String(1), in.Int(2), in.Int(3)
		errName, errMsg, delayMs := in.String(4), in.String(5), in.Float(6)
		if in.Err() != nil {
			return nil
		}
		lr := stepOf(h)
		if lr == nil {
			return nil
		}
		lr.mu.Lock()
		run := lr.run
		lr.mu.Unlock()
		if run == nil {
			return nil
		}
		step := strconv.Quote(name)
		if count > 1 {
			step += fmt.Sprintf(" (#%d)", count)
		}
		iso.logf("warn", fmt.Sprintf("workflow %s instance %s: step %s attempt %d failed: %s: %s; retrying in %s",
			run.Instance.Workflow, run.Instance.ID, step, attempt, errName, errMsg, time.Duration(delayMs*float64(time.Millisecond))))
		return nil
	})
	fns["wfStepDone"] = fastHost(9, func(_ *Isolate, in *jsvm.Args) any {
		h, name, count, ok := in.Int(0), in.String(1), in.Int(2), in.Bool(3)
		jsonText, errName, errMsg, attempts, start := in.String(4), in.String(5), in.String(6), in.Int(7), in.Float(8)
		bufs := in.Values(9)
		if in.Err() != nil {
			return nil
		}
		p, complete := iso.pending()
		lr := stepOf(h)
		var run *workflows.Run
		if lr != nil {
			lr.mu.Lock()
			lr.inflight--
			run = lr.run
			lr.mu.Unlock()
		}
		if run == nil {
			complete(func() quickjs.Value { return iso.jsString("abandon") }, nil)
			return p
		}
		var result *workflows.Value
		var failure *workflows.ErrorInfo
		if ok {
			result = &workflows.Value{JSON: jsonText, Bufs: buffersOf(bufs)}
		} else {
			failure = &workflows.ErrorInfo{Name: errName, Message: errMsg}
		}
		run.StepDone(name, count, result, failure, attempts, int64(start), func(abandon bool, err error) {
			answer := "abandon"
			if !abandon {
				lr.mu.Lock()
				answer = "ok"
				if lr.blocked > 0 {
					answer = "check"
				}
				lr.mu.Unlock()
			}
			complete(func() quickjs.Value { return iso.jsString(answer) }, err)
		})
		return p
	})
	// wfSuspend drops the run if nothing it awaits can settle without the
	// engine: no step.do is running (in any isolate) and a sleep or wait
	// is pending. It reports whether the run is over.
	fns["wfSuspend"] = fastHost(1, func(_ *Isolate, in *jsvm.Args) any {
		h := in.Int(0)
		if in.Err() != nil {
			return nil
		}
		lr := stepOf(h)
		if lr == nil {
			return true
		}
		lr.mu.Lock()
		run := lr.run
		idle := lr.inflight == 0 && lr.held == 0 && lr.blocked > 0
		lr.mu.Unlock()
		if run == nil {
			return true
		}
		if !idle {
			return false
		}
		run.Suspend()
		return true
	})
	fns["wfFinish"] = fastHost(5, func(_ *Isolate, in *jsvm.Args) any {
		h, ok, jsonText, errName, errMsg := in.Int(0), in.Bool(1), in.String(2), in.String(3), in.String(4)
		bufs := in.Values(5)
		if in.Err() != nil {
			return nil
		}
		lr := stepOf(h)
		if lr == nil {
			return nil
		}
		run := lr.current()
		if run == nil {
			return nil
		}
		if ok {
			run.Finish(&workflows.Value{JSON: jsonText, Bufs: buffersOf(bufs)}, nil)
		} else {
			run.Finish(nil, &workflows.ErrorInfo{Name: errName, Message: errMsg})
		}
		return nil
	})
	// wfCall is the binding and its instances: create, get, status, pause,
	// resume, terminate, restart, delete, sendEvent. The result (a promise
	// of it, but for get and status) is a packed array (rpcPack) whose
	// content depends on op.
	fns["wfCall"] = fastHost(4, func(_ *Isolate, in *jsvm.Args) any {
		handle, op, id, arg := in.Int(0), in.String(1), in.String(2), in.String(3)
		bufs := in.Values(4)
		if in.Err() != nil {
			return nil
		}
		b, ok := iso.handles[handle].(*WorkflowBinding)
		if !ok {
			p, complete := iso.pending()
			complete(nil, errors.New("not a Workflow binding"))
			return p
		}
		data := buffersOf(bufs)
		call := func() (func() quickjs.Value, error) {
			result, err := iso.workflowCall(b, op, id, arg, data)
			if errors.Is(err, workflows.ErrNotFound) {
				err = workflows.NotFound()
			}
			return result, err
		}
		if op != "get" && op != "status" {
			return iso.async(call) // writes wait for their commit
		}
		// get and status are one indexed read of the journal (tens of
		// microseconds): answered in the call, they spare the platform's
		// status polls a goroutine and a loop job each (RATIONALE.md).
		// A failure still rejects a promise, so that it reaches the
		// prelude as every other operation's does.
		result, err := call()
		if err != nil {
			p, complete := iso.pending()
			complete(nil, err)
			return p
		}
		if result == nil {
			return nil
		}
		return result()
	})
}

// workflowCall runs one binding operation: on a goroutine of its own, but
// for the reads get and status, which run in the host call.
func (iso *Isolate) workflowCall(b *WorkflowBinding, op, id, arg string, bufs [][]byte) (func() quickjs.Value, error) {
	e := b.Engine
	pack := func(args ...any) func() quickjs.Value {
		return func() quickjs.Value {
			var free []quickjs.Value
			for i, a := range args {
				if bs, ok := a.([]byte); ok {
					v := jsvm.NewArrayBuffer(iso.vm, bs)
					free = append(free, v)
					args[i] = v
				}
			}
			v, err := iso.callValue("rpcPack", args...)
			for _, f := range free {
				f.Free()
			}
			if err != nil {
				return quickjs.UndefinedValue
			}
			return v
		}
	}
	switch op {
	case "create":
		var items []createItem
		if err := json.Unmarshal([]byte(arg), &items); err != nil {
			return nil, err
		}
		reqs := make([]workflows.CreateRequest, len(items))
		for i, it := range items {
			if it.Bufs > len(bufs) {
				return nil, errors.New("create: buffer count mismatch")
			}
			id := workflows.AutoID
			if it.ID != nil {
				id = *it.ID
			}
			reqs[i] = workflows.CreateRequest{ID: id, Params: workflows.Value{JSON: it.Params, Bufs: bufs[:it.Bufs]},
				SuccessRetentionMs: it.SuccessRetention, ErrorRetentionMs: it.ErrorRetention}
			bufs = bufs[it.Bufs:]
		}
		var ins []*workflows.Instance
		var err error
		if id == "batch" {
			ins, err = e.CreateBatch(b.Name, reqs)
		} else if len(reqs) == 1 {
			var in *workflows.Instance
			if in, err = e.Create(b.Name, reqs[0]); err == nil {
				ins = []*workflows.Instance{in}
			}
		} else {
			err = errors.New("create: one instance expected")
		}
		if err != nil {
			return nil, err
		}
		ids := make([]any, len(ins))
		for i, in := range ins {
			ids[i] = in.ID
		}
		return pack(ids...), nil
	case "get":
		return nil, e.Exists(b.Name, id)
	case "status":
		in, err := e.Instance(b.Name, id)
		if err != nil {
			return nil, err
		}
		args := []any{string(in.Status), nil, nil, nil}
		if in.Error != nil {
			args[1], args[2] = in.Error.Name, in.Error.Message
		}
		if in.Output != nil {
			args[3] = in.Output.JSON
			for _, b := range in.Output.Bufs {
				args = append(args, b)
			}
		}
		return pack(args...), nil
	case "pause", "resume", "terminate", "restart", "delete":
		var err error
		switch op {
		case "pause":
			err = e.Pause(b.Name, id)
		case "resume":
			err = e.Resume(b.Name, id)
		case "terminate":
			err = e.Terminate(b.Name, id)
		case "restart":
			err = e.Restart(b.Name, id)
		case "delete":
			err = e.Delete(b.Name, id)
		}
		return nil, err
	case "sendEvent":
		var ev struct {
			Type    string `json:"type"`
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(arg), &ev); err != nil {
			return nil, err
		}
		return nil, e.SendEvent(b.Name, id, ev.Type, workflows.Value{JSON: ev.Payload, Bufs: bufs})
	}
	return nil, fmt.Errorf("unknown workflow operation %q", op)
}

func (iso *Isolate) jsString(s string) quickjs.Value {
	v, _ := iso.vm.NewString(s)
	return v
}
