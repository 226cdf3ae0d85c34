package workflows

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Runner executes a workflow's run(event, step). Start must not block; the
// runner reports back through the Run's methods, ending with exactly one of
// Finish, Suspend, or Lost (or stopping after an Abandon answer).
type Runner interface {
	Start(r *Run)
}

// Workflow is one entry of the config's `workflows`.
type Workflow struct {
	Name      string
	ClassName string
	StepLimit int // 0: DefaultStepLimit
	Runner    Runner
}

// DefaultStepLimit is the local engine's limit on step.do calls per
// instance (workflows[].limits.steps overrides it).
const DefaultStepLimit = 10_000

// Options tune an Engine. The zero value is usable.
type Options struct {
	// MaxRunning bounds the instances whose run() is live at once, over all
	// workflows; MaxRunningPerWorkflow bounds them per workflow. Queued
	// instances start in turn, one workflow after another, so a workflow
	// with a long queue cannot starve the others. Waiting instances never
	// count.
	MaxRunning            int
	MaxRunningPerWorkflow int
	// Retention is how long a finished instance is kept when create() did
	// not say (0: DefaultRetention).
	Retention time.Duration
	// Now is the clock (nil: time.Now). Tests pass a fake one and call Tick.
	Now func() time.Time
	// Log receives engine messages (nil: dropped).
	Log func(level, msg string)
	// SleepInMemory: a sleep due within this long is waited out by the
	// live run, as the reference's engine waits out every sleep, instead
	// of the run being dropped and replayed when the sleep ends (0:
	// DefaultSleepInMemory with the real clock, none with a clock of the
	// caller's, which cannot drive the isolates' timers; negative: none).
	// MaxSleepingInMemory bounds the runs doing so at once (0:
	// DefaultMaxSleepingInMemory). Such a run does not count against
	// MaxRunning: it is waiting, and it is dropped (and replayed when due)
	// whenever something needs it gone. See RATIONALE.md.
	SleepInMemory       time.Duration
	MaxSleepingInMemory int
}

const (
	DefaultMaxRunning            = 1000
	DefaultMaxRunningPerWorkflow = 500
	DefaultRetention             = 30 * 24 * time.Hour
	DefaultSleepInMemory         = 5 * time.Second
	DefaultMaxSleepingInMemory   = 10_000
)

// WithDefaults fills in the zero fields.
func (o Options) WithDefaults() Options {
	if o.MaxRunning <= 0 {
		o.MaxRunning = DefaultMaxRunning
	}
	if o.MaxRunningPerWorkflow <= 0 {
		o.MaxRunningPerWorkflow = DefaultMaxRunningPerWorkflow
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.SleepInMemory == 0 && o.Now == nil {
		o.SleepInMemory = DefaultSleepInMemory
	}
	if o.MaxSleepingInMemory <= 0 {
		o.MaxSleepingInMemory = DefaultMaxSleepingInMemory
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = func(string, string) {}
	}
	return o
}

type instKey struct{ workflow, id string }

// queued is an instance ready to run. A freshly created one carries its
// record, so starting it needs no read.
type queued struct {
	key   instKey
	fresh *Instance
}

type workflowState struct {
	Workflow
	queue []queued
	live  int
}

// Engine schedules and records the instances of an app's workflows.
type Engine struct {
	store *Store
	opts  Options

	mu        sync.Mutex
	workflows map[string]*workflowState
	order     []string // workflow names, for round-robin
	rr        int
	live      map[instKey]*Run
	inQueue   map[instKey]bool
	running   int
	sleepers  int // live runs sleeping in memory (Run.held)
	nextRunID int64
	stepSeq   int64
	eventSeq  int64
	losses    map[instKey]int // instances whose isolate died under them (Run.Lost)
	closing   bool

	dispatchKick chan struct{}
	timerKick    chan struct{}
	// What the timer was told since it last looked (kick); leaf lock.
	kickMu   sync.Mutex
	kickWake int64 // the earliest wake committed, 0 for none
	kickRead bool  // read the store again
	stop     chan struct{}
	wg       sync.WaitGroup
}

// New makes an engine over store. Register the workflows, then Start.
func New(store *Store, opts Options) *Engine {
	return &Engine{
		store:        store,
		opts:         opts.WithDefaults(),
		workflows:    map[string]*workflowState{},
		live:         map[instKey]*Run{},
		inQueue:      map[instKey]bool{},
		dispatchKick: make(chan struct{}, 1),
		timerKick:    make(chan struct{}, 1),
		stop:         make(chan struct{}),
	}
}

// Store is the engine's store, for read-only views.
func (e *Engine) Store() *Store { return e.store }

// Register adds a workflow. It must be called before Start.
func (e *Engine) Register(w Workflow) error {
	if w.Name == "" || w.Runner == nil {
		return errors.New("workflows: a workflow needs a name and a runner")
	}
	if _, ok := e.workflows[w.Name]; ok {
		return fmt.Errorf("workflows: workflow %q is declared twice", w.Name)
	}
	if w.StepLimit <= 0 {
		w.StepLimit = DefaultStepLimit
	}
	e.workflows[w.Name] = &workflowState{Workflow: w}
	e.order = append(e.order, w.Name)
	sort.Strings(e.order)
	return nil
}

// Start recovers what the last process left running and starts the
// scheduler and the timer.
func (e *Engine) Start() error {
	var maxStep, maxEvent sql.NullInt64
	if err := e.store.read.QueryRow(`SELECT MAX(seq) FROM steps`).Scan(&maxStep); err != nil {
		return fmt.Errorf("workflows: %w", err)
	}
	if err := e.store.read.QueryRow(`SELECT MAX(seq) FROM events`).Scan(&maxEvent); err != nil {
		return fmt.Errorf("workflows: %w", err)
	}
	e.stepSeq, e.eventSeq = maxStep.Int64, maxEvent.Int64
	active, err := e.store.Active()
	if err != nil {
		return fmt.Errorf("workflows: %w", err)
	}
	// A pause asked for before the crash is honoured now: nothing runs.
	if err := e.store.Update(func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE instances SET status = 'paused' WHERE status = 'waitingForPause'`)
		return err
	}); err != nil {
		return fmt.Errorf("workflows: %w", err)
	}
	e.mu.Lock()
	for _, k := range active {
		w, ok := e.workflows[k[0]]
		if !ok {
			continue // a workflow no longer in the config: left as it is
		}
		in, err := e.store.Instance(k[0], k[1])
		if err != nil || in.Status == Paused {
			continue
		}
		e.enqueueLocked(w, queued{key: instKey{k[0], k[1]}})
	}
	e.mu.Unlock()
	if len(active) > 0 {
		e.opts.Log("info", fmt.Sprintf("workflows: resuming %d instances that were running", len(active)))
	}
	e.wg.Add(2)
	go e.dispatcher()
	go e.timer()
	e.kickDispatch()
	return nil
}

// Close stops scheduling. Live runs are dropped where they are; their
// instances stay "running" on disk and resume on the next Start.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return
	}
	e.closing = true
	for _, r := range e.live {
		r.stopped = true
	}
	e.mu.Unlock()
	close(e.stop)
	e.wg.Wait()
}

func (e *Engine) now() int64 { return e.opts.Now().UnixMilli() }

func (e *Engine) workflow(name string) (*workflowState, error) {
	w, ok := e.workflows[name]
	if !ok {
		return nil, userErrorf("no workflow named %q", name)
	}
	return w, nil
}

// ---- scheduling ----

func (e *Engine) kickDispatch() {
	select {
	case e.dispatchKick <- struct{}{}:
	default:
	}
}

func (e *Engine) enqueueLocked(w *workflowState, q queued) {
	if _, ok := e.inQueue[q.key]; ok {
		return
	}
	if _, ok := e.live[q.key]; ok {
		return
	}
	w.queue = append(w.queue, q)
	e.inQueue[q.key] = true
}

// dequeueLocked forgets a queued instance (pause, terminate, delete).
func (e *Engine) dequeueLocked(k instKey) bool {
	if _, ok := e.inQueue[k]; !ok {
		return false
	}
	delete(e.inQueue, k)
	w := e.workflows[k.workflow]
	for i := range w.queue {
		if w.queue[i].key == k {
			w.queue = append(w.queue[:i], w.queue[i+1:]...)
			break
		}
	}
	return true
}

func (e *Engine) dispatcher() {
	defer e.wg.Done()
	for {
		select {
		case <-e.stop:
			return
		case <-e.dispatchKick:
		}
		for {
			r, q := e.next()
			if r == nil {
				break
			}
			go e.begin(r, q)
		}
	}
}

// next picks the next instance to start, round-robin over the workflows
// that have a queue and room, and reserves its slot.
func (e *Engine) next() (*Run, queued) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing || e.running >= e.opts.MaxRunning {
		return nil, queued{}
	}
	for i := 0; i < len(e.order); i++ {
		w := e.workflows[e.order[(e.rr+i)%len(e.order)]]
		if len(w.queue) == 0 || w.live >= e.opts.MaxRunningPerWorkflow {
			continue
		}
		e.rr = (e.rr + i + 1) % len(e.order)
		q := w.queue[0]
		w.queue[0] = queued{}
		w.queue = w.queue[1:]
		if len(w.queue) == 0 {
			w.queue = nil // let the backing array go
		}
		delete(e.inQueue, q.key)
		e.nextRunID++
		r := &Run{e: e, wf: w, ID: e.nextRunID, key: q.key, starting: true}
		e.live[q.key] = r
		w.live++
		e.running++
		return r, q
	}
	return nil, queued{}
}

// begin loads the instance's journal and hands the run to the runner.
func (e *Engine) begin(r *Run, q queued) {
	in := q.fresh
	var steps []*Step
	var events []*Event
	var err error
	if in == nil {
		// Read inside the writer's transaction: it comes after every write
		// submitted so far (an event sent a moment ago, a wake), which a
		// read on another connection might not see yet.
		err = e.store.Update(func(tx *Tx) error {
			var err error
			if in, err = getInstance(tx.QueryRow, q.key.workflow, q.key.id); err != nil {
				return err
			}
			if steps, err = readSteps(tx.Query, q.key.workflow, q.key.id); err != nil {
				return err
			}
			events, err = pendingEvents(tx.Query, q.key.workflow, q.key.id)
			return err
		})
	}
	if err != nil {
		e.opts.Log("error", fmt.Sprintf("workflows: loading %s/%s: %v", q.key.workflow, q.key.id, err))
		e.mu.Lock()
		e.endLocked(r)
		e.mu.Unlock()
		return
	}
	now := e.now()
	e.mu.Lock()
	if r.stopped {
		e.mu.Unlock()
		return // terminated, deleted or restarted before it started
	}
	r.Instance = in
	r.steps = make(map[stepKey]*Step, len(steps))
	r.reached = make(map[stepKey]bool, len(steps))
	for _, s := range steps {
		r.steps[stepKey{s.Kind, s.Name, s.Count}] = s
	}
	// Events sent while the run was starting are in r.events already; the
	// read may or may not have seen them.
	for _, ev := range r.events {
		if len(events) == 0 || ev.Seq > events[len(events)-1].Seq {
			events = append(events, ev)
		}
	}
	r.events = events
	r.starting = false
	// The stored status stays "queued" while the run is live (the engine
	// reports live runs from memory), and recovery after a crash restarts
	// queued instances: one write less per run. started_ms is written with
	// the run's first status change.
	if in.StartedMs == 0 {
		in.StartedMs = now
	}
	e.mu.Unlock()
	r.wf.Runner.Start(r)
}

// endLocked frees a run's slot.
func (e *Engine) endLocked(r *Run) {
	if cur, ok := e.live[r.key]; ok && cur == r {
		delete(e.live, r.key)
		if len(r.held) > 0 {
			e.sleepers--
		} else {
			r.wf.live--
			e.running--
		}
		r.held = nil
	}
	r.stopped = true
	if f := r.onEnd; f != nil {
		r.onEnd = nil
		f()
	}
	e.kickDispatch()
}

// ---- the timer: sleeping and waiting instances, retention ----

// Tick wakes the timer at once, to read the earliest wake and expiry
// again: after a fake clock moved, for instance.
func (e *Engine) Tick() {
	e.kick(-1)
}

// tickAt tells the timer of a wake time just committed. The timer takes
// the earliest of those it was told since it last looked: no read of the
// store per suspension, and none of them missed (a wake committed while
// the timer reads is told to it after). Kicks coalesce.
func (e *Engine) tickAt(ms int64) {
	e.kick(ms)
}

func (e *Engine) kick(ms int64) {
	e.kickMu.Lock()
	switch {
	case ms < 0:
		e.kickRead = true
	case e.kickWake == 0 || ms < e.kickWake:
		e.kickWake = ms
	}
	e.kickMu.Unlock()
	select {
	case e.timerKick <- struct{}{}:
	default:
	}
}

func (e *Engine) timer() {
	defer e.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	read := true
	var next, expiry int64
	for {
		if read {
			var err error
			if next, err = e.store.NextWake(); err != nil {
				e.opts.Log("error", fmt.Sprintf("workflows: timer: %v", err))
			}
			if expiry, err = e.store.NextExpiry(); err != nil {
				e.opts.Log("error", fmt.Sprintf("workflows: retention: %v", err))
			}
			read = false
		}
		due := next
		if expiry != 0 && (due == 0 || expiry < due) {
			due = expiry
		}
		// At most an hour: a retention that ends sooner than the
		// earliest known deadline is noticed then.
		wait := time.Hour
		if due != 0 {
			wait = min(wait, time.Duration(due-e.now())*time.Millisecond)
		}
		if wait > 0 {
			t.Reset(wait)
			select {
			case <-e.stop:
				return
			case <-e.timerKick:
			case <-t.C:
				read = true // an hour passed, or a deadline came
			}
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		select {
		case <-e.stop:
			return
		default:
		}
		e.kickMu.Lock()
		if e.kickRead {
			read = true
		}
		if w := e.kickWake; w != 0 && (next == 0 || w < next) {
			next = w
		}
		e.kickWake, e.kickRead = 0, false
		e.kickMu.Unlock()
		now := e.now()
		if next != 0 && next <= now {
			e.wakeDue(now)
			read = true
		}
		if expiry != 0 && expiry <= now {
			e.expire(now)
			read = true
		}
	}
}

// wakeDue queues the instances whose wake time has come.
func (e *Engine) wakeDue(now int64) {
	var keys []instKey
	err := e.store.Update(func(tx *Tx) error {
		keys = keys[:0]
		rows, err := tx.Query(`SELECT workflow, id, status FROM instances WHERE wake_ms IS NOT NULL AND wake_ms <= ? ORDER BY wake_ms LIMIT 5000`, now)
		if err != nil {
			return err
		}
		var waking []instKey
		var stale []instKey
		for rows.Next() {
			var k instKey
			var st string
			if err := rows.Scan(&k.workflow, &k.id, &st); err != nil {
				rows.Close()
				return err
			}
			if Status(st) == Waiting {
				waking = append(waking, k)
			} else {
				stale = append(stale, k)
			}
		}
		rows.Close()
		for _, k := range waking {
			if _, err := tx.Exec(`UPDATE instances SET status = 'queued', wake_ms = NULL WHERE workflow = ? AND id = ?`, k.workflow, k.id); err != nil {
				return err
			}
		}
		for _, k := range stale {
			if _, err := tx.Exec(`UPDATE instances SET wake_ms = NULL WHERE workflow = ? AND id = ?`, k.workflow, k.id); err != nil {
				return err
			}
		}
		keys = waking
		return nil
	})
	if err != nil {
		e.opts.Log("error", fmt.Sprintf("workflows: waking instances: %v", err))
		return
	}
	e.mu.Lock()
	for _, k := range keys {
		if w, ok := e.workflows[k.workflow]; ok {
			e.enqueueLocked(w, queued{key: k})
		}
	}
	e.mu.Unlock()
	e.kickDispatch()
}

// expire deletes finished instances whose retention is over.
func (e *Engine) expire(now int64) {
	err := e.store.Update(func(tx *Tx) error {
		rows, err := tx.Query(`SELECT workflow, id FROM instances WHERE expire_ms IS NOT NULL AND expire_ms <= ? LIMIT 5000`, now)
		if err != nil {
			return err
		}
		var keys []instKey
		for rows.Next() {
			var k instKey
			if err := rows.Scan(&k.workflow, &k.id); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		for _, k := range keys {
			if err := deleteInstance(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.opts.Log("error", fmt.Sprintf("workflows: retention: %v", err))
	}
}

func deleteInstance(tx *Tx, k instKey) error {
	for _, q := range []string{
		`DELETE FROM steps WHERE workflow = ? AND id = ?`,
		`DELETE FROM events WHERE workflow = ? AND id = ?`,
		`DELETE FROM instances WHERE workflow = ? AND id = ?`,
	} {
		if _, err := tx.Exec(q, k.workflow, k.id); err != nil {
			return err
		}
	}
	return nil
}
