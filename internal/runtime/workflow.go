package runtime

import (
	"encoding/json"
	"errors"
	"fmt"

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
	if !iso.post(func() { iso.startWorkflowRun(run) }) {
		run.Lost(iso.Err())
	}
}

func (iso *Isolate) startWorkflowRun(run *workflows.Run) {
	if iso.wfRuns == nil {
		iso.wfRuns = map[int64]*workflows.Run{}
	}
	iso.wfRuns[run.ID] = run
	in := run.Instance
	args := []any{int(run.ID), run.ClassName(), run.WorkflowName(), in.ID, float64(in.CreatedMs), run.StepLimit(), in.Params.JSON}
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
		delete(iso.wfRuns, run.ID)
		run.Lost(err)
	}
}

// stopWorkflowRuns tells the engine that the runs of a dying isolate are
// lost.
func (iso *Isolate) stopWorkflowRuns(err error) {
	for id, run := range iso.wfRuns {
		delete(iso.wfRuns, id)
		run.Lost(err)
	}
}

// A dispatcher hands a run's step object to another isolate (a tenant's
// dynamic worker), whose code then calls the step's methods. When the run
// ends here (suspended to sleep, paused, finished), the calls in both
// directions are abandoned: nobody will answer them, and the code awaiting
// them must not resume, so both isolates drop them unanswered. The tenant's
// isolate is then idle and can be evicted: a sleeping instance holds
// nothing in memory, in the dispatcher or in the tenant.

// handoff is a call that handed a run's step to another isolate.
type handoff struct {
	run  int64
	drop func() // drops the call's promise here, unsettled
}

// noteStepHandoff is called for each outgoing call: when the call carries
// a live run's step object it is tracked (and abandoned when the run ends),
// and when it goes to a dynamic worker the run records which code runs the
// instance. Runs on the loop.
func (iso *Isolate) noteStepHandoff(t Target, c *Call, caps []Target, complete func(func() quickjs.Value, error)) bool {
	if len(iso.wfRuns) == 0 || len(caps) == 0 {
		return false
	}
	tracked := false
	for _, cp := range caps {
		x, ok := cp.(*exportTarget)
		if !ok || x.run == 0 {
			continue
		}
		run := iso.wfRuns[x.run]
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
			iso.wfHandoff[c] = handoff{run: x.run, drop: func() { complete(nil, errAbandoned) }}
			tracked = true
		}
	}
	return tracked
}

// deliverToStep delivers a call to a run's step object, or abandons it
// when the run is over.
func (iso *Isolate) deliverToStep(c *Call, target string, run int64) {
	if iso.wfRuns[run] == nil {
		c.Reply(Message{}, errAbandoned)
		return
	}
	iso.deliverFor(c, target, run)
}

// endWorkflowRun forgets a run that ended here and abandons the calls tied
// to its step object.
func (iso *Isolate) endWorkflowRun(id int64) {
	delete(iso.wfRuns, id)
	for cid, run := range iso.wfCallRun {
		if run == id {
			if c := iso.calls[cid]; c != nil {
				iso.forgetCall(cid)
				c.Reply(Message{}, errAbandoned)
			}
		}
	}
	for c, h := range iso.wfHandoff {
		if h.run == id {
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
	runOf := func(id int) *workflows.Run { return iso.wfRuns[int64(id)] }
	// wfStep answers a step call: [action, ...]: ["run"], ["block"],
	// ["abandon"], ["failed", name, message], ["done", json, type, ms, ...bufs].
	fns["wfStep"] = func(runID int, kind, name string, count int, until, dur any, typ string) []any {
		run := runOf(runID)
		if run == nil {
			return []any{"abandon"}
		}
		a := run.Step(workflows.StepRequest{Kind: workflows.StepKind(kind), Name: name, Count: count,
			UntilMs: int64(number(until)), DurationMs: int64(number(dur)), Type: typ})
		switch a.Action {
		case workflows.ActAbandon:
			iso.endWorkflowRun(int64(runID))
			return []any{"abandon"}
		case workflows.ActFailed:
			return []any{"failed", a.Error.Name, a.Error.Message}
		case workflows.ActDone:
			out := []any{"done", nil, a.EventType, float64(a.EventMs)}
			if a.Result != nil {
				out[1] = a.Result.JSON
				for _, b := range a.Result.Bufs {
					out = append(out, jsvm.NewArrayBuffer(iso.vm, b))
				}
			}
			return out
		}
		return []any{string(a.Action)}
	}
	// wfStepDone records a step.do's outcome; the promise resolves to
	// "ok" or "abandon" once it is committed.
	fns["wfStepDone"] = func(runID int, name string, count int, ok bool, jsonText, errName, errMsg string, attempts int, start any, bufs ...quickjs.Value) quickjs.Value {
		p, complete := iso.pending()
		run := runOf(runID)
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
		run.StepDone(name, count, result, failure, attempts, int64(number(start)), func(abandon bool, err error) {
			complete(func() quickjs.Value {
				if abandon {
					iso.endWorkflowRun(int64(runID))
					return iso.jsString("abandon")
				}
				return iso.jsString("ok")
			}, err)
		})
		return p
	}
	fns["wfSuspend"] = func(runID int) {
		if run := runOf(runID); run != nil {
			iso.endWorkflowRun(int64(runID))
			run.Suspend()
		}
	}
	fns["wfFinish"] = func(runID int, ok bool, jsonText, errName, errMsg string, bufs ...quickjs.Value) {
		run := runOf(runID)
		if run == nil {
			return
		}
		iso.endWorkflowRun(int64(runID))
		if ok {
			run.Finish(&workflows.Value{JSON: jsonText, Bufs: buffersOf(bufs)}, nil)
		} else {
			run.Finish(nil, &workflows.ErrorInfo{Name: errName, Message: errMsg})
		}
	}
	// wfCall is the binding and its instances: create, get, status, pause,
	// resume, terminate, restart, delete, sendEvent. The promise resolves
	// to a packed array (rpcPack) whose content depends on op.
	fns["wfCall"] = func(handle int, op, id, arg string, bufs ...quickjs.Value) quickjs.Value {
		b, ok := iso.handles[handle].(*WorkflowBinding)
		if !ok {
			p, complete := iso.pending()
			complete(nil, errors.New("not a Workflow binding"))
			return p
		}
		data := buffersOf(bufs)
		return iso.async(func() (func() quickjs.Value, error) {
			result, err := iso.workflowCall(b, op, id, arg, data)
			if errors.Is(err, workflows.ErrNotFound) {
				err = workflows.NotFound()
			}
			return result, err
		})
	}
}

// workflowCall runs one binding operation (on its own goroutine).
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
	case "get", "status":
		in, err := e.Instance(b.Name, id)
		if err != nil {
			return nil, err
		}
		if op == "get" {
			return nil, nil
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
