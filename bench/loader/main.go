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
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/testutil/reference"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "load duration per measurement")
	conns := flag.Int("connections", 8, "concurrent connections")
	fill := flag.Int("fill", 500, "dynamic workers loaded for the memory figure")
	scale := flag.Int("scale", 100000, "ids loaded one after another in the scale run (0 skips it)")
	flag.Parse()
	log.SetFlags(0)

	root, err := reference.ModuleRoot()
	check(err)
	worker := filepath.Join(root, "bench", "workers", "loader")
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("wrk not found: install it with `apt-get install wrk`")
	}
	bin := filepath.Join(os.TempDir(), "isola-bench")
	build := exec.Command("go", "build", "-o", bin, "./cmd/isola")
	build.Dir, build.Env, build.Stderr = root, append(os.Environ(), "CGO_ENABLED=0"), os.Stderr
	check(build.Run())

	type runtimeUnderTest struct {
		name string
		port int
		pid  int
		stop func()
	}
	start := func(name string) runtimeUnderTest {
		port := reference.FreePort()
		if name == "workerd" {
			p, err := reference.StartWorkerd(context.Background(), worker, port)
			check(err)
			waitHTTP(port)
			return runtimeUnderTest{name, port, p.Pid(), p.Stop}
		}
		cmd := exec.Command(bin, "dev", worker, "--port", strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		check(cmd.Start())
		waitHTTP(port)
		return runtimeUnderTest{name, port, cmd.Process.Pid, func() { cmd.Process.Kill(); cmd.Wait() }}
	}

	fmt.Printf("Dynamic Workers, wrk -c%d -d%s per figure, one runtime at a time on this machine\n\n", *conns, *duration)
	results := map[string]map[string]float64{}
	for _, name := range []string{"workerd", "isola"} {
		r := start(name)
		res := map[string]float64{}
		res["cold"] = runWrk(r.port, "/cold", *conns, *duration)
		res["warm"] = runWrk(r.port, "/warm", *conns, *duration)
		// Memory: a fresh process, then many dynamic workers left idle.
		r.stop()
		r = start(name)
		get(r.port, "/fill?n=10") // first loads pay for one-time set-up
		before := rss(r.pid)
		get(r.port, fmt.Sprintf("/fill?n=%d", *fill))
		time.Sleep(500 * time.Millisecond)
		res["memKB"] = float64(rss(r.pid)-before) / float64(*fill) / 1024
		r.stop()
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
	check(err)
	defer a.Close()
	start := time.Now()
	step := n / 10
	if step == 0 {
		step = n
	}
	for done := 0; done < n; done += step {
		rec := &nopWriter{h: http.Header{}}
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://x/fill?n=%d", step), nil)
		check(a.Worker.ServeHTTP(rec, req, runtime.ServeOptions{}))
		st := a.Loaders.Stats()
		fmt.Printf("  %7d loaded  %6.1fs  resident %5.0f MB  live isolates %4d  workers kept %5d\n",
			done+step, time.Since(start).Seconds(), float64(rss(os.Getpid()))/(1<<20), st.LiveIsolates, st.Workers)
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
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+d.String(),
		fmt.Sprintf("http://127.0.0.1:%d%s", port, path)).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "Requests/sec:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			if strings.Contains(string(out), "Non-2xx") {
				log.Fatalf("%s answered errors under load:\n%s", path, out)
			}
			return v
		}
	}
	log.Fatalf("could not read wrk output:\n%s", out)
	return 0
}

func get(port int, path string) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
}

func waitHTTP(port int) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Fatalf("nothing answered on port %d", port)
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	check(err)
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
