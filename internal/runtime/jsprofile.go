package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	"github.com/isola-run/isola/internal/jsvm"
)

// JavaScript profiling, for people tuning the prelude or their worker: with
// ISOLA_JS_PROFILE set, every isolate samples its JavaScript stacks
// (jsvm.Profile) and JSProfile sums them, the worker's name first.
var jsProfiling = os.Getenv("ISOLA_JS_PROFILE") != ""

// With ISOLA_CPU_PROFILE set, each isolate's loop carries the pprof label
// worker=<its worker's name>: Go's profile then splits by worker
// (go tool pprof -tags, -tagfocus worker=...), which a profile of the
// engine's transpiled functions cannot tell apart otherwise. Set on every
// loop start: loops reuse goroutines (goroutines.go).
var cpuProfileLabels = os.Getenv("ISOLA_CPU_PROFILE") != ""

func (iso *Isolate) labelLoop() {
	if cpuProfileLabels {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("worker", iso.script.Name)))
	}
}

var (
	jsProfileMu   sync.Mutex
	jsProfileDone = map[string]time.Duration{} // closed isolates' time by stack
	jsProfileLive = map[*Isolate]struct{}{}
)

func (iso *Isolate) startProfile() {
	if !jsProfiling {
		return
	}
	iso.prof = jsvm.StartProfile(iso.vm)
	jsProfileMu.Lock()
	jsProfileLive[iso] = struct{}{}
	jsProfileMu.Unlock()
}

func (iso *Isolate) stopProfile() {
	if iso.prof == nil {
		return
	}
	iso.prof.Stop()
	jsProfileMu.Lock()
	delete(jsProfileLive, iso)
	for k, d := range iso.prof.Stacks() {
		jsProfileDone[iso.script.Name+";"+k] += d
	}
	jsProfileMu.Unlock()
	iso.prof = nil
}

// JSProfile returns the time JavaScript spent in each stack, in every
// isolate so far, as "worker;outermost;...;innermost". It is empty unless
// ISOLA_JS_PROFILE was set when the process started.
func JSProfile() map[string]time.Duration {
	jsProfileMu.Lock()
	defer jsProfileMu.Unlock()
	out := make(map[string]time.Duration, len(jsProfileDone))
	for k, d := range jsProfileDone {
		out[k] = d
	}
	for iso := range jsProfileLive {
		for k, d := range iso.prof.Stacks() {
			out[iso.script.Name+";"+k] += d
		}
	}
	return out
}

// WriteJSProfile writes JSProfile as folded stacks with their time in
// microseconds (the input of flame graph tools), after a table of the
// functions with the most time, each line commented out with '#'.
func WriteJSProfile(w io.Writer) error {
	stacks := JSProfile()
	var total time.Duration
	for _, d := range stacks {
		total += d
	}
	fmt.Fprintf(w, "# JavaScript time: %v\n# %6s %6s  function (the first frame is the worker)\n", total.Round(time.Millisecond), "self%", "total%")
	for i, f := range jsvm.FunctionTimes(stacks) {
		if i == 60 {
			break
		}
		fmt.Fprintf(w, "# %6.1f %6.1f  %s\n", 100*float64(f.Self)/float64(max(total, 1)), 100*float64(f.Total)/float64(max(total, 1)), f.Name)
	}
	keys := make([]string, 0, len(stacks))
	for k := range stacks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "%s %d\n", k, stacks[k].Microseconds()); err != nil {
			return err
		}
	}
	return nil
}
