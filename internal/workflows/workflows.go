// Package workflows is Isola's durable execution engine: Cloudflare
// Workflows on local disk.
//
// An instance's journal (its steps, their results, its sleeps, the events
// sent to it) lives in SQLite. The workflow's run(event, step) is executed by
// a Runner (the runtime package, in the worker's isolate); every time it runs
// it starts from the top, and each step it reaches is answered from the
// journal when the journal has it. So a run can be dropped at any moment (a
// crash, a sleep, a pause) and replayed later to the same point.
//
// Guarantees:
//   - a step's callback runs at least once: a crash between the callback's
//     end and its result's commit runs it again on replay;
//   - its result is recorded exactly once: a step is written once, keyed by
//     (instance, name, occurrence count), and a second write of the same key
//     is refused;
//   - a recorded step never runs again: replay answers it from the journal.
//
// A sleeping or waiting instance has no run: its journal says when it must
// wake (instances.wake_ms), and one timer goroutine wakes whatever is due.
// Nothing per instance stays in memory while it sleeps.
//
// Lock order: Engine.mu, then the store's writer queue lock (a leaf). The
// store never calls back into the engine while holding its lock.
package workflows

import (
	"errors"
	"fmt"
)

// Status is an instance's status, exactly as the Workflows API names it.
type Status string

const (
	Queued          Status = "queued"
	Running         Status = "running"
	Paused          Status = "paused"
	Errored         Status = "errored"
	Terminated      Status = "terminated"
	Complete        Status = "complete"
	Waiting         Status = "waiting"
	WaitingForPause Status = "waitingForPause"
	Unknown         Status = "unknown"
)

// Finished reports whether s is an end state.
func (s Status) Finished() bool {
	return s == Errored || s == Terminated || s == Complete
}

// Value is a JavaScript value as the prelude encodes it (tagged JSON, see
// internal/runtime/js/65_rpc.js) with the binary buffers it refers to.
type Value struct {
	JSON string
	Bufs [][]byte
}

// Size is the value's encoded size, which the 1 MiB limits apply to.
func (v *Value) Size() int {
	if v == nil {
		return 0
	}
	n := len(v.JSON)
	for _, b := range v.Bufs {
		n += len(b)
	}
	return n
}

// ErrorInfo is an error as status() reports it.
type ErrorInfo struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Instance is one workflow instance as stored.
type Instance struct {
	Workflow  string
	ID        string
	Status    Status
	Params    Value
	CreatedMs int64
	StartedMs int64 // first start; 0 before
	EndedMs   int64 // when it finished; 0 before
	WakeMs    int64 // when a waiting instance must run again; 0 for none
	Output    *Value
	Error     *ErrorInfo
	// Retention after the end, in ms; 0 means the engine's default.
	SuccessRetentionMs int64
	ErrorRetentionMs   int64
	// The code that ran the instance, for instances whose steps a dispatcher
	// hands to a dynamic worker: "<loader id>@<version>", the version a hash
	// of the modules. CodeStarted is the first code to run it, CodeLatest the
	// last; they differ when the tenant's code changed under the instance.
	CodeStarted string
	CodeLatest  string
}

// StepKind says what a journal entry records.
type StepKind string

const (
	KindDo    StepKind = "do"
	KindSleep StepKind = "sleep"
	KindWait  StepKind = "waitForEvent"
)

// StepState is how far a step has got.
type StepState string

const (
	StepDone     StepState = "done"     // a result (do), a finished sleep, a received event
	StepFailed   StepState = "failed"   // a final error (do), a timed-out wait
	StepSleeping StepState = "sleeping" // a sleep not yet over
	StepWaiting  StepState = "waiting"  // a wait for an event not yet arrived
)

// Step is one journal entry, keyed by (Name, Count): Count is the
// occurrence of Name in the run, from 1.
type Step struct {
	Name     string
	Count    int
	Kind     StepKind
	State    StepState
	Seq      int64 // order of recording within the instance
	Result   *Value
	Error    *ErrorInfo
	Attempts int
	StartMs  int64
	EndMs    int64
	WakeMs   int64 // a sleep's end; a wait's timeout
	Type     string
	// Unreached marks a recorded step that the run which finished the
	// instance never asked for: the code changed under the instance (or is
	// not deterministic), and this step's result was not used.
	Unreached bool
}

// Event is an event sent to an instance.
type Event struct {
	Seq         int64
	Type        string
	Payload     Value
	TimestampMs int64
}

// Errors the engine returns; the runtime turns them into the reference's
// JavaScript errors.
var (
	ErrNotFound  = errors.New("instance not found")
	ErrDuplicate = errors.New("instance already exists")
)

// UserError is bad input or a refused operation, reported to the caller as
// a JavaScript error of class Name with the reference's message.
type UserError struct{ Name, Message string }

func (e *UserError) Error() string { return e.Message }

// JSName is the JavaScript error class the runtime throws.
func (e *UserError) JSName() string {
	if e.Name == "" {
		return "Error"
	}
	return e.Name
}

func userErrorf(format string, args ...any) error {
	return &UserError{Message: fmt.Sprintf(format, args...)}
}
