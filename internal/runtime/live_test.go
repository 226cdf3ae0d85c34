package runtime

import (
	"net/http/httptest"
	"testing"
	"time"
)

// A process holds as many live isolates as its memory allows: each one's
// host functions are numbered on their own. (Through the engine wrapper's
// process-wide table of Go functions the 1,213th isolate failed to start.)
func TestManyLiveIsolates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 1,500 isolates")
	}
	s := compileWorker(t, "live", `let n = 0; export default { fetch() { return new Response(String(++n)); } };`)
	var live []*Isolate
	defer func() {
		for _, iso := range live {
			iso.Close()
		}
	}()
	for i := range 1500 {
		iso, err := NewIsolate(s, Options{})
		if err != nil {
			t.Fatalf("isolate %d: %v", i, err)
		}
		live = append(live, iso)
	}
	for _, i := range []int{0, 1499} {
		rec := httptest.NewRecorder()
		if err := live[i].ServeHTTP(rec, httptest.NewRequest("GET", "http://x/", nil), ServeOptions{}); err != nil || rec.Body.String() != "1" {
			t.Fatalf("isolate %d answered %q, %v", i, rec.Body.String(), err)
		}
	}
}

// An idle isolate with no timer gives up its goroutine and gets one back for
// the next request; one waiting on a timer keeps it, and its timer fires.
func TestIdleIsolatesPark(t *testing.T) {
	s := compileWorker(t, "park", `
		let n = 0, fired = 0;
		export default { fetch(req) {
			if (new URL(req.url).pathname === "/timer") setTimeout(() => { fired++; }, 300);
			return new Response(++n + " " + fired);
		} };`)
	iso, err := NewIsolate(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	get := func(path string) string {
		rec := httptest.NewRecorder()
		if err := iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x"+path, nil), ServeOptions{}); err != nil {
			t.Fatal(err)
		}
		return rec.Body.String()
	}
	parked := func() bool {
		iso.mu.Lock()
		defer iso.mu.Unlock()
		return iso.parked
	}
	waitParked := func(want bool, within time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(within); parked() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("parked = %v after %s, want %v", !want, within, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := get("/"); got != "1 0" {
		t.Fatalf("first request: %q", got)
	}
	waitParked(true, 10*stackTrimDelay)
	if got := get("/"); got != "2 0" {
		t.Fatalf("request after parking: %q", got)
	}
	if got := get("/timer"); got != "3 0" {
		t.Fatalf("timer request: %q", got)
	}
	time.Sleep(2 * stackTrimDelay)
	if parked() {
		t.Fatal("an isolate with a timer set parked")
	}
	waitParked(true, 10*stackTrimDelay) // the timer fired, then it went idle
	if got := get("/"); got != "4 1" {
		t.Fatalf("after the timer: %q", got)
	}
	// A parked isolate still closes.
	waitParked(true, 10*stackTrimDelay)
	iso.Close()
	if err := iso.Err(); err == nil {
		t.Fatal("closed isolate has no error")
	}
}
