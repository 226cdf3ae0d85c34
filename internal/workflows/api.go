package workflows

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// CreateRequest is one instance to create.
type CreateRequest struct {
	ID                 string // AutoID for a random UUID
	Params             Value
	SuccessRetentionMs int64
	ErrorRetentionMs   int64
}

const (
	maxIDLength   = 100
	maxBatch      = 100
	maxValueBytes = 1 << 20
)

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9-_]*$`)

// ValidateID checks an instance id as create() does.
func ValidateID(id string) error {
	if len(id) > maxIDLength || !idPattern.MatchString(id) {
		return &UserError{Name: "WorkflowError", Message: "Workflow instance has invalid id"}
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Create makes an instance of a workflow and queues it. An id already in
// use is an error.
func (e *Engine) Create(workflow string, req CreateRequest) (*Instance, error) {
	ins, err := e.create(workflow, []CreateRequest{req}, false)
	if err != nil {
		return nil, err
	}
	return ins[0], nil
}

// CreateBatch makes instances of a workflow, all or none. As in the
// reference, an id repeated in the batch or already in use is skipped:
// the result holds the instances made.
func (e *Engine) CreateBatch(workflow string, reqs []CreateRequest) ([]*Instance, error) {
	return e.create(workflow, reqs, true)
}

// AutoID asks create for a random UUID.
const AutoID = "\x00auto"

func (e *Engine) create(workflow string, reqs []CreateRequest, batch bool) ([]*Instance, error) {
	w, err := e.workflow(workflow)
	if err != nil {
		return nil, err
	}
	now := e.now()
	ins := make([]*Instance, 0, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		id := r.ID
		if id == AutoID {
			id = newUUID()
		} else if err := ValidateID(id); err != nil {
			return nil, err
		}
		if r.Params.Size() > maxValueBytes {
			return nil, &UserError{Name: "WorkflowError", Message: "Params must be smaller than 1 MiB"}
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		ins = append(ins, &Instance{Workflow: workflow, ID: id, Status: Queued, Params: r.Params, CreatedMs: now,
			SuccessRetentionMs: r.SuccessRetentionMs, ErrorRetentionMs: r.ErrorRetentionMs})
	}
	var dup string
	var made []*Instance
	insert := func(tx *Tx, in *Instance) error {
		_, err := tx.Exec(`INSERT INTO instances (workflow, id, status, params, params_bufs, created_ms,
		  success_retention_ms, error_retention_ms) VALUES (?,?,?,?,?,?,?,?)`,
			in.Workflow, in.ID, string(Queued), in.Params.JSON, packBufs(in.Params.Bufs), in.CreatedMs,
			in.SuccessRetentionMs, in.ErrorRetentionMs)
		return err
	}
	if !batch {
		// One statement: the primary key refuses a duplicate, and no
		// savepoint is needed around it.
		in := ins[0]
		ch := make(chan error, 1)
		e.store.SubmitOne(func(tx *Tx) error { return insert(tx, in) }, func(err error) { ch <- err })
		err = <-ch
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
			dup, err = in.ID, ErrDuplicate
		}
		made = ins
	} else {
		err = e.store.Update(func(tx *Tx) error {
			made = made[:0]
			for _, in := range ins {
				var one int
				err := tx.QueryRow(`SELECT 1 FROM instances WHERE workflow = ? AND id = ?`, in.Workflow, in.ID).Scan(&one)
				if err == nil {
					continue
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if err := insert(tx, in); err != nil {
					return err
				}
				made = append(made, in)
			}
			return nil
		})
	}
	if errors.Is(err, ErrDuplicate) {
		return nil, &UserError{Name: "WorkflowError", Message: fmt.Sprintf("(instance.already_exists) Workflow instance with id %q already exists", dup)}
	}
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	for _, in := range made {
		e.enqueueLocked(w, queued{key: instKey{workflow, in.ID}, fresh: in})
	}
	e.mu.Unlock()
	e.kickDispatch()
	return made, nil
}

// Instance returns an instance's record, with the status a live run gives
// it; ErrNotFound when there is none.
func (e *Engine) Instance(workflow, id string) (*Instance, error) {
	if _, err := e.workflow(workflow); err != nil {
		return nil, err
	}
	in, err := e.store.Instance(workflow, id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	in.Status = e.liveStatusLocked(instKey{workflow, id}, in.Status)
	e.mu.Unlock()
	return in, nil
}

// Exists reports whether workflow has an instance id (ErrNotFound if not):
// get() asks only that, and reads no row to find out.
func (e *Engine) Exists(workflow, id string) error {
	if _, err := e.workflow(workflow); err != nil {
		return err
	}
	return e.store.Exists(workflow, id)
}

// NotFound is the error get() throws for a missing instance (the
// reference's message names no id).
func NotFound() error {
	return &UserError{Message: "instance.not_found"}
}

// Pause stops an instance at its next step boundary (at once if it is not
// running). Pausing a paused instance does nothing.
func (e *Engine) Pause(workflow, id string) error {
	return e.control(workflow, id, func(r *Run) error {
		if r.sleepingLocked() {
			// A sleep waited out in memory ends at once, as the
			// reference's ends on a pause; resuming replays the run,
			// which finds the sleep in the journal.
			r.pause = true
			r.pauseNowLocked()
			return nil
		}
		if !r.pause {
			r.pause = true
			r.setStatusLocked(WaitingForPause, 0)
		}
		return nil
	}, func(st Status) (Status, error) {
		// As in the reference, pausing what cannot be paused (a finished
		// instance) does nothing. A queued instance can be: unlike the
		// reference's, ours may wait in the queue for a while.
		if st == Queued || st == Waiting || st == Running {
			return Paused, nil
		}
		return "", nil
	}, true)
}

// Resume lets a paused instance go on.
func (e *Engine) Resume(workflow, id string) error {
	return e.control(workflow, id, func(r *Run) error {
		if r.pause {
			r.pause = false
			r.setStatusLocked(Running, 0)
		}
		return nil // resuming a running instance does nothing, as in the reference
	}, func(st Status) (Status, error) {
		if st == Paused {
			return Queued, nil
		}
		return "", nil
	}, false)
}

// Terminate ends an instance for good.
func (e *Engine) Terminate(workflow, id string) error {
	return e.control(workflow, id, func(r *Run) error {
		e.endLocked(r)
		r.finishTerminatedLocked()
		return nil
	}, func(st Status) (Status, error) {
		if st.Finished() {
			// The reference's message, typo included.
			return "", &UserError{Name: "WorkflowError", Message: "(instance.cannot_terminate) Cannot terminate instance since its on a finite state"}
		}
		return Terminated, nil
	}, true)
}

func (r *Run) finishTerminatedLocked() {
	now := r.e.now()
	keep := r.e.opts.Retention.Milliseconds()
	wf, id := r.key.workflow, r.key.id
	r.e.store.SubmitOne(func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE instances SET status = 'terminated', ended_ms = ?, wake_ms = NULL, expire_ms = ? WHERE workflow = ? AND id = ?`,
			now, now+keep, wf, id)
		return err
	}, nil)
}

// Restart runs an instance again from the beginning, with its journal and
// events cleared.
func (e *Engine) Restart(workflow, id string) error {
	w, err := e.workflow(workflow)
	if err != nil {
		return err
	}
	k := instKey{workflow, id}
	e.mu.Lock()
	if r, ok := e.live[k]; ok {
		e.endLocked(r)
	}
	e.dequeueLocked(k)
	done := make(chan error, 1)
	e.store.Submit(func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE instances SET status = 'queued', started_ms = 0, ended_ms = 0, wake_ms = NULL,
		  output = NULL, output_bufs = NULL, error_name = NULL, error_message = NULL, expire_ms = NULL,
		  code_started = NULL, code_latest = NULL WHERE workflow = ? AND id = ?`, workflow, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		for _, q := range []string{`DELETE FROM steps WHERE workflow = ? AND id = ?`, `DELETE FROM events WHERE workflow = ? AND id = ?`} {
			if _, err := tx.Exec(q, workflow, id); err != nil {
				return err
			}
		}
		return nil
	}, func(err error) { done <- err })
	e.mu.Unlock()
	if err := <-done; err != nil {
		return err
	}
	e.mu.Lock()
	e.enqueueLocked(w, queued{key: k})
	e.mu.Unlock()
	e.kickDispatch()
	return nil
}

// Delete removes an instance and its journal.
func (e *Engine) Delete(workflow, id string) error {
	if _, err := e.workflow(workflow); err != nil {
		return err
	}
	k := instKey{workflow, id}
	e.mu.Lock()
	if r, ok := e.live[k]; ok {
		e.endLocked(r)
	}
	e.dequeueLocked(k)
	done := make(chan error, 1)
	e.store.Submit(func(tx *Tx) error { return deleteInstance(tx, k) }, func(err error) { done <- err })
	e.mu.Unlock()
	return <-done
}

// control applies an operator's operation: live(r) for an instance whose
// run is live, else transition(status) → the status to store ("" for no
// change). dequeue says whether a queued instance leaves the queue.
func (e *Engine) control(workflow, id string, live func(*Run) error, transition func(Status) (Status, error), dequeue bool) error {
	w, err := e.workflow(workflow)
	if err != nil {
		return err
	}
	k := instKey{workflow, id}
	e.mu.Lock()
	if r, ok := e.live[k]; ok && !r.stopped {
		err := live(r)
		e.mu.Unlock()
		return err
	}
	wasQueued := false
	if dequeue {
		wasQueued = e.dequeueLocked(k)
	}
	var to Status
	done := make(chan error, 1)
	e.store.Submit(func(tx *Tx) error {
		var st string
		err := tx.QueryRow(`SELECT status FROM instances WHERE workflow = ? AND id = ?`, workflow, id).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if to, err = transition(Status(st)); err != nil || to == "" {
			return err
		}
		now := e.now()
		switch to {
		case Terminated:
			_, err = tx.Exec(`UPDATE instances SET status = ?, ended_ms = ?, wake_ms = NULL, expire_ms = ? WHERE workflow = ? AND id = ?`,
				string(to), now, now+e.opts.Retention.Milliseconds(), workflow, id)
		default:
			// A paused instance forgets its wake time: resuming replays it,
			// and the replay finds its sleeps and waits again.
			_, err = tx.Exec(`UPDATE instances SET status = ?, wake_ms = NULL WHERE workflow = ? AND id = ?`, string(to), workflow, id)
		}
		return err
	}, func(err error) { done <- err })
	e.mu.Unlock()
	err = <-done
	if err != nil {
		if wasQueued {
			// Refused: put it back.
			e.mu.Lock()
			e.enqueueLocked(w, queued{key: k})
			e.mu.Unlock()
			e.kickDispatch()
		}
		return err
	}
	if to == Queued {
		e.mu.Lock()
		e.enqueueLocked(w, queued{key: k})
		e.mu.Unlock()
		e.kickDispatch()
	}
	return nil
}

// SendEvent delivers an event to an instance: a wait for its type takes it
// now or later, oldest first.
func (e *Engine) SendEvent(workflow, id, typ string, payload Value) error {
	w, err := e.workflow(workflow)
	if err != nil {
		return err
	}
	if payload.Size() > maxValueBytes {
		return &UserError{Message: "Event payload must be smaller than 1 MiB"}
	}
	k := instKey{workflow, id}
	now := e.now()
	e.mu.Lock()
	e.eventSeq++
	ev := &Event{Seq: e.eventSeq, Type: typ, Payload: payload, TimestampMs: now}
	r, live := e.live[k]
	live = live && !r.stopped
	if live {
		r.events = append(r.events, ev)
		for bk := range r.blocked {
			if s := r.steps[bk]; s != nil && s.State == StepWaiting && s.Type == typ {
				r.wakeNow = true
			}
		}
		if r.wakeNow && r.sleepingLocked() {
			// A wait this event ends sits beside a sleep waited out in
			// memory: drop the run now, so that it runs again at once,
			// instead of when the sleep is over.
			r.suspendLocked()
		}
	} else if e.inQueue[k] {
		for i := range w.queue {
			if w.queue[i].key == k {
				w.queue[i].fresh = nil // it must read its events when it starts
			}
		}
	}
	wake := false
	done := make(chan error, 1)
	e.store.Submit(func(tx *Tx) error {
		var st string
		err := tx.QueryRow(`SELECT status FROM instances WHERE workflow = ? AND id = ?`, workflow, id).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO events (workflow, id, seq, type, payload, payload_bufs, ts_ms) VALUES (?,?,?,?,?,?,?)`,
			workflow, id, ev.Seq, typ, payload.JSON, packBufs(payload.Bufs), now); err != nil {
			return err
		}
		if live || Status(st) != Waiting {
			return nil
		}
		var one int
		err = tx.QueryRow(`SELECT 1 FROM steps WHERE workflow = ? AND id = ? AND state = 'waiting' AND type = ? LIMIT 1`, workflow, id, typ).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		wake = true
		_, err = tx.Exec(`UPDATE instances SET status = 'queued', wake_ms = NULL WHERE workflow = ? AND id = ?`, workflow, id)
		return err
	}, func(err error) { done <- err })
	e.mu.Unlock()
	if err := <-done; err != nil {
		return err
	}
	if wake {
		e.mu.Lock()
		e.enqueueLocked(w, queued{key: k})
		e.mu.Unlock()
		e.kickDispatch()
	}
	return nil
}

// Workflows lists the registered workflow names.
func (e *Engine) Workflows() []string { return append([]string(nil), e.order...) }

// HasWorkflow reports whether name is registered.
func (e *Engine) HasWorkflow(name string) bool { _, ok := e.workflows[name]; return ok }
