package runtime

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// Messages held for a commit whose fsync is running come out after it, in
// the order the batches began, even when a later batch's fsync ends first;
// the output gate opens with its batch; a turn that wrote nothing but ran
// while an fsync was out waits for it too.
func TestSyncBatchesEndInOrder(t *testing.T) {
	iso := startIsolate(t, `export default { fetch() { return new Response("x"); } };`)

	var mu sync.Mutex
	var order []string
	note := func(s string) func() {
		return func() { mu.Lock(); order = append(order, s); mu.Unlock() }
	}
	got := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), order...) }
	slow := make(chan struct{})
	var gate1, gate2 chan struct{}
	batch := func(sync func() error, prev chan struct{}) *syncBatch {
		b := &syncBatch{syncs: []storeSync{{0, sync}}, done: make(chan struct{})}
		iso.syncing = append(iso.syncing, b)
		go iso.sync(b, prev)
		return b
	}
	started := make(chan struct{})
	iso.post(func() {
		b1 := batch(func() error { <-slow; return nil }, nil)
		iso.hold(note("first"))
		gate1 = iso.outputGate()
		batch(func() error { return nil }, b1.done)
		iso.hold(note("second"))
		gate2 = iso.outputGate()
		// A turn that wrote nothing: endTurn hands what it held to the
		// batch still syncing.
		iso.held = append(iso.held, note("unwritten"))
		iso.endTurn()
		close(started)
	})
	<-started
	time.Sleep(50 * time.Millisecond)
	if o := got(); len(o) != 0 {
		t.Fatalf("messages let out before the first fsync ended: %v", o)
	}
	select {
	case <-gate2:
		t.Fatal("the second batch's gate opened before the first batch ended")
	default:
	}
	close(slow)
	deadline := time.Now().Add(5 * time.Second)
	for len(got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if o := got(); len(o) != 3 || o[0] != "first" || o[1] != "second" || o[2] != "unwritten" {
		t.Fatalf("order %v, want [first second unwritten]", o)
	}
	for i, g := range []chan struct{}{gate1, gate2} {
		select {
		case <-g:
		case <-time.After(time.Second):
			t.Fatalf("gate %d still shut", i+1)
		}
	}
}

// A failed fsync resets the object whose store it was (here none is
// registered, so only the batch's messages are checked: they still go).
func TestSyncBatchFailureStillEnds(t *testing.T) {
	iso := startIsolate(t, `export default {};`)
	done := make(chan struct{})
	iso.post(func() {
		b := &syncBatch{syncs: []storeSync{{0, func() error { return errors.New("disk on fire") }}}, done: make(chan struct{})}
		iso.syncing = append(iso.syncing, b)
		go iso.sync(b, nil)
		iso.hold(func() { close(done) })
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the batch never ended")
	}
}

// startIsolate runs a worker of one module in a new isolate, closed when
// the test ends.
func startIsolate(t *testing.T, src string) *Isolate {
	t.Helper()
	iso, err := NewIsolate(compileWorker(t, "test", src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iso.Close)
	return iso
}
