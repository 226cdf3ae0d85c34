package runtime

import (
	"net/http/httptest"
	"testing"
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
