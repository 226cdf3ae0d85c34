package runtime

import (
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
)

// With CPU profiling asked for, an isolate's loop carries its worker's
// name as a pprof label; the goroutine profile shows labels as the CPU
// profile records them.
func TestIsolateLoopsCarryTheirWorkerName(t *testing.T) {
	saved := cpuProfileLabels
	cpuProfileLabels = true
	defer func() { cpuProfileLabels = saved }()
	s := compileWorker(t, "labelled-worker", `export default {
  async fetch() { await new Promise((r) => setTimeout(r, 200)); return new Response("ok"); } };`)
	iso, err := NewIsolate(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		iso.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://x/", nil), ServeOptions{})
	}()
	// The loop waits on the timer meanwhile, labelled.
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.Reset()
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		if strings.Contains(b.String(), `"worker":"labelled-worker"`) {
			<-done
			return
		}
	}
	<-done
	t.Fatalf("no goroutine labelled worker=labelled-worker:\n%s", b.String())
}
