// Command loader benchmarks Dynamic Workers on Isola against workerd in one
// run, with the same platform worker and load generator:
//
//   - cold: every request loads a never-seen id and calls its fetch
//
//   - warm: every request calls one cached dynamic worker
//
//   - memory: resident memory per cached idle dynamic worker
//
//   - scale (Isola only): 100,000 ids one after another, memory bounded
//
//     go run ./bench/loader [-duration 10s] [-rounds 3] [-scale 100000]
//
// -rounds 0 skips the speed figures (memory and scale only).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/runtime"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "load duration per measurement")
	rounds := flag.Int("rounds", 3, "rounds of speed measurements, each runtime in turn")
	conns := flag.Int("connections", 8, "concurrent connections")
	fill := flag.Int("fill", 500, "dynamic workers loaded for the memory figure")
	scale := flag.Int("scale", 100000, "ids loaded one after another in the scale run (0 skips it)")
	flag.Parse()
	worker, bin := benchutil.Setup("loader")

	start := func(name string) benchutil.Runtime { return benchutil.Start(name, worker, bin) }
	names := []string{"workerd", "isola"}

	// Speed: both runtimes are up (one idles while the other is loaded),
	// and each figure is taken from each in turn, round after round: this
	// machine's speed drifts over a run by more than the differences
	// measured, so a figure's ratio is the median of its rounds' ratios.
	fmt.Printf("Dynamic Workers, wrk -c%d -d%s per figure, %d rounds, one runtime loaded at a time on this machine\n\n", *conns, *duration, *rounds)
	rates := map[string]map[string][]float64{"cold": {}, "warm": {}}
	var ratios = map[string][]float64{}
	for r := 0; r < *rounds; r++ {
		// Fresh processes each round: the cold figure loads thousands of
		// workers, which a runtime still holds in the next round.
		rts := map[string]benchutil.Runtime{}
		for _, name := range names {
			rts[name] = start(name)
		}
		for _, fig := range []string{"cold", "warm"} {
			got := map[string]float64{}
			for _, name := range names {
				got[name] = runWrk(rts[name].Port, "/"+fig, *conns, *duration)
				rates[fig][name] = append(rates[fig][name], got[name])
			}
			ratios[fig] = append(ratios[fig], got["isola"]/got["workerd"])
			fmt.Printf("  round %d %-4s  workerd %7.0f/s  isola %7.0f/s  %5.1fx\n", r+1, fig, got["workerd"], got["isola"], got["isola"]/got["workerd"])
		}
		for _, name := range names {
			rts[name].Stop()
		}
	}
	// Memory: a fresh process, then many dynamic workers left idle.
	memKB := map[string]float64{}
	for _, name := range names {
		rt := start(name)
		benchutil.Get(rt.Port, "/fill?n=10") // first loads pay for one-time set-up
		before := benchutil.RSS(rt.Pid)
		benchutil.Get(rt.Port, fmt.Sprintf("/fill?n=%d", *fill))
		time.Sleep(500 * time.Millisecond)
		memKB[name] = float64(benchutil.RSS(rt.Pid)-before) / float64(*fill) / 1024
		rt.Stop()
	}
	fmt.Printf("\n%-22s %12s %12s %8s\n", "(medians)", "workerd", "isola", "ratio")
	if *rounds > 0 {
		fmt.Printf("%-22s %12.0f %12.0f %7.1fx  (goal ≥ 30x)\n", "cold loads/s", benchutil.Median(rates["cold"]["workerd"]), benchutil.Median(rates["cold"]["isola"]), benchutil.Median(ratios["cold"]))
		fmt.Printf("%-22s %12.0f %12.0f %7.1fx  (goal ≥ 2x)\n", "warm requests/s", benchutil.Median(rates["warm"]["workerd"]), benchutil.Median(rates["warm"]["isola"]), benchutil.Median(ratios["warm"]))
	}
	fmt.Printf("%-22s %12.0f %12.0f %7.2fx  (goal ≤ 300 KB)\n", "KB per idle worker", memKB["workerd"], memKB["isola"], memKB["isola"]/memKB["workerd"])

	if *scale > 0 {
		scaleRun(worker, *scale)
	}
}

// scaleRun loads ids one after another in-process under the default loader
// budget and prints resident memory as it goes.
func scaleRun(worker string, n int) {
	fmt.Printf("\nscale: %d distinct ids loaded one after another (Isola, in process, budget %d live isolates)\n", n, runtime.DefaultLoaderLimits.Isolates)
	a, err := app.Load(worker, log.New(io.Discard, "", 0))
	benchutil.Check(err)
	defer a.Close()
	start := time.Now()
	step := n / 10
	if step == 0 {
		step = n
	}
	for done := 0; done < n; done += step {
		rec := &nopWriter{h: http.Header{}}
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://x/fill?n=%d", step), nil)
		benchutil.Check(a.Worker.ServeHTTP(rec, req, runtime.ServeOptions{}))
		st := a.Loaders.Stats()
		fmt.Printf("  %7d loaded  %6.1fs  resident %5.0f MB  live isolates %4d  workers kept %5d\n",
			done+step, time.Since(start).Seconds(), float64(benchutil.RSS(os.Getpid()))/(1<<20), st.LiveIsolates, st.Workers)
	}
}

type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

func runWrk(port int, path string, conns int, d time.Duration) float64 {
	r := benchutil.RunWrk(port, path, conns, d)
	if r.Errors {
		log.Fatalf("%s answered errors under load", path)
	}
	return r.RPS
}
