package workflows

// Read-only queries for the operator's admin API (internal/server/admin.go).

// Counts returns, for every registered workflow, how many of its instances
// are in each status. A workflow without instances has an empty map. A live
// run is stored as queued (its status is not written while it runs), so
// live runs are counted as running (or waitingForPause) from memory; the
// other stored statuses trail by at most one group commit.
func (e *Engine) Counts() (map[string]map[Status]int, error) {
	out := make(map[string]map[Status]int, len(e.order))
	for _, name := range e.order {
		out[name] = map[Status]int{}
	}
	rows, err := e.store.read.Query(`SELECT workflow, status, COUNT(*) FROM instances GROUP BY workflow, status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var wf, st string
		var n int
		if err := rows.Scan(&wf, &st, &n); err != nil {
			return nil, err
		}
		if m, ok := out[wf]; ok {
			m[Status(st)] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	for k, r := range e.live {
		m, ok := out[k.workflow]
		if !ok || r.stopped || m[Queued] == 0 {
			continue
		}
		m[Queued]--
		if m[Queued] == 0 {
			delete(m, Queued)
		}
		m[e.liveStatusLocked(k, Queued)]++
	}
	e.mu.Unlock()
	return out, nil
}

// List returns a registered workflow's instances, newest first, each with
// the status a live run gives it (as Instance does). f.Workflow must name
// a registered workflow; with f.Status set, only instances in that status
// are returned.
func (e *Engine) List(f ListFilter) ([]*Instance, error) {
	if _, err := e.workflow(f.Workflow); err != nil {
		return nil, err
	}
	list, err := e.store.List(f)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := list[:0]
	for _, in := range list {
		in.Status = e.liveStatusLocked(instKey{in.Workflow, in.ID}, in.Status)
		if f.Status == "" || in.Status == f.Status {
			out = append(out, in)
		}
	}
	return out, nil
}

// liveStatusLocked is the status Instance reports for an instance stored
// with status st.
func (e *Engine) liveStatusLocked(k instKey, st Status) Status {
	if r, ok := e.live[k]; ok && !r.stopped {
		if r.pause {
			return WaitingForPause
		}
		if r.sleepingLocked() {
			return Waiting
		}
		return Running
	}
	if e.inQueue[k] && st != Queued && !st.Finished() {
		return Queued
	}
	return st
}
