package runtime

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/isola-run/isola/internal/jsvm"
)

// JavaScript profiling, for people tuning the prelude or their worker: with
// ISOLA_JS_PROFILE set, every isolate samples its JavaScript stacks
// (jsvm.Profile) and JSProfile sums them, the worker's name first.
var jsProfiling = os.Getenv("ISOLA_JS_PROFILE") != ""

var (
	jsProfileMu   sync.Mutex
	jsProfileDone = map[string]int{} // closed isolates' samples by stack
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

// JSProfile returns the JavaScript samples taken in each stack, in every
// isolate so far, as "worker;outermost;...;innermost". It is empty unless
// ISOLA_JS_PROFILE was set when the process started.
func JSProfile() map[string]int {
	jsProfileMu.Lock()
	defer jsProfileMu.Unlock()
	out := make(map[string]int, len(jsProfileDone))
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

// WriteJSProfile writes JSProfile as folded stacks with their sample
// counts (the input of flame graph tools), after a table of the functions
// with the most samples, each line commented out with '#'.
func WriteJSProfile(w io.Writer) error {
	stacks := JSProfile()
	total := 0
	for _, n := range stacks {
		total += n
	}
	if total == 0 {
		total = 1
	}
	fmt.Fprintf(w, "# JavaScript samples: %d\n# %6s %6s  function (the first frame is the worker)\n", total, "self%", "total%")
	for i, f := range jsvm.FunctionSamples(stacks) {
		if i == 50 {
			break
		}
		fmt.Fprintf(w, "# %6.1f %6.1f  %s\n", 100*float64(f.Self)/float64(total), 100*float64(f.Total)/float64(total), f.Name)
	}
	keys := make([]string, 0, len(stacks))
	for k := range stacks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "%s %d\n", k, stacks[k]); err != nil {
			return err
		}
	}
	return nil
}
