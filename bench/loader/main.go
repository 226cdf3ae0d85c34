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
//     go run ./bench/loader [-duration 10s] [-scale 100000]
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
	conns := flag.Int("connections", 8, "concurrent connections")
	fill := flag.Int("fill", 500, "dynamic workers loaded for the memory figure")
	scale := flag.Int("scale", 100000, "ids loaded one after another in the scale run (0 skips it)")
	flag.Parse()
	worker, bin := benchutil.Setup("loader")

	start := func(name string) benchutil.Runtime { return benchutil.Start(name, worker, bin) }

	fmt.Printf("Dynamic Workers, wrk -c%d -d%s per figure, one runtime at a time on this machine\n\n", *conns, *duration)
	results := map[string]map[string]float64{}
	for _, name := range []string{"workerd", "isola"} {
		r := start(name)
		res := map[string]float64{}
		res["cold"] = runWrk(r.Port, "/cold", *conns, *duration)
		res["warm"] = runWrk(r.Port, "/warm", *conns, *duration)
		// Memory: a fresh process, then many dynamic workers left idle.
		r.Stop()
		r = start(name)
		benchutil.Get(r.Port, "/fill?n=10") // first loads pay for one-time set-up
		before := benchutil.RSS(r.Pid)
		benchutil.Get(r.Port, fmt.Sprintf("/fill?n=%d", *fill))
		time.Sleep(500 * time.Millisecond)
		res["memKB"] = float64(benchutil.RSS(r.Pid)-before) / float64(*fill) / 1024
		r.Stop()
		results[name] = res
	}
	w, i := results["workerd"], results["isola"]
	fmt.Printf("%-22s %12s %12s %8s\n", "", "workerd", "isola", "ratio")
	fmt.Printf("%-22s %12.0f %12.0f %7.1fx  (goal ≥ 30x)\n", "cold loads/s", w["cold"], i["cold"], i["cold"]/w["cold"])
	fmt.Printf("%-22s %12.0f %12.0f %7.1fx  (goal ≥ 2x)\n", "warm requests/s", w["warm"], i["warm"], i["warm"]/w["warm"])
	fmt.Printf("%-22s %12.0f %12.0f %7.2fx  (goal ≤ 300 KB)\n", "KB per idle worker", w["memKB"], i["memKB"], i["memKB"]/w["memKB"])

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
