package runtime

import (
	"net/http/httptest"
	"testing"

	"github.com/isola-run/isola/internal/jsvm"
)

// TestGCThresholdDoesNotRatchet: each request leaves registered objects
// for the collector, whose finalization jobs the engine counted in the heap
// it set its next threshold from. Without SettleGCThreshold the threshold
// grew with every collection.
func TestGCThresholdDoesNotRatchet(t *testing.T) {
	s := compileWorker(t, "gc", `
const registry = new FinalizationRegistry(() => {});
export default {
  fetch() {
    for (let i = 0; i < 2000; i++) {
      const o = { self: null, pad: [1, 2, 3] };
      o.self = o;
      registry.register(o, { i });
    }
    return new Response("ok");
  },
};`)
	iso, err := NewIsolate(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	threshold := func() uint64 {
		ch := make(chan uint64, 1)
		iso.postQuiet(func() { ch <- jsvm.GCThreshold(iso.vm) })
		return <-ch
	}
	var peak uint64
	for i := range 400 {
		rec := httptest.NewRecorder()
		if err := iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/", nil), ServeOptions{}); err != nil {
			t.Fatal(err)
		}
		if i >= 50 {
			peak = max(peak, threshold())
		}
	}
	t.Logf("threshold after 400 requests %d KB, peak after the first 50 %d KB", threshold()>>10, peak>>10)
	if peak > 8<<20 {
		t.Fatalf("the collector's threshold reached %d KB", peak>>10)
	}
}
