// Command hello benchmarks a hello-world worker on Isola and on the reference
// runtime (workerd from npm) in one run, with the same load generator (wrk),
// and prints requests/s, p50/p99 latency and the ratio. It also prints
// Isola's isolate cold start and memory per idle isolate beside workerd's
// process start-to-first-response and resident memory.
//
//	go run ./bench/hello [-duration 10s] [-connections 16]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/testutil/reference"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "load duration per runtime")
	conns := flag.Int("connections", 16, "concurrent connections")
	isolates := flag.Int("isolates", 1000, "idle isolates to create for the memory figure")
	flag.Parse()
	log.SetFlags(0)

	root, err := reference.ModuleRoot()
	check(err)
	worker := filepath.Join(root, "bench", "workers", "hello")
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("wrk not found: install it with `apt-get install wrk`")
	}

	// Isola, built as users run it.
	bin := filepath.Join(os.TempDir(), "isola-bench")
	build := exec.Command("go", "build", "-o", bin, "./cmd/isola")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	check(build.Run())

	iPort := reference.FreePort()
	isola := exec.Command(bin, "dev", worker, "--port", strconv.Itoa(iPort))
	isola.Stdout, isola.Stderr = io.Discard, io.Discard
	check(isola.Start())
	defer isola.Process.Kill()
	waitHTTP(iPort)

	wPort := reference.FreePort()
	wd, err := reference.StartWorkerd(context.Background(), worker, wPort)
	check(err)
	defer wd.Stop()
	waitHTTP(wPort)

	fmt.Printf("hello world, wrk -c%d -d%s, one after the other on this machine (%d cores)\n\n", *conns, *duration, goruntime.NumCPU())
	ref := runWrk(wPort, *conns, *duration)
	ours := runWrk(iPort, *conns, *duration)
	fmt.Printf("%-10s %12s %10s %10s\n", "", "requests/s", "p50", "p99")
	fmt.Printf("%-10s %12.0f %10s %10s\n", "workerd", ref.rps, ref.p50, ref.p99)
	fmt.Printf("%-10s %12.0f %10s %10s\n", "isola", ours.rps, ours.p50, ours.p99)
	fmt.Printf("ratio      %11.2fx  (goal ≥ 1.5x); p99 isola/workerd %.2f (goal ≤ 1)\n\n", ours.rps/ref.rps, float64(ours.p99)/float64(ref.p99))

	// Cold start: a new isolate from the worker's bytecode, the worker's top
	// level evaluated, one request answered.
	a, err := app.Load(worker, log.New(io.Discard, "", 0))
	check(err)
	var cold []time.Duration
	for i := 0; i < 300; i++ {
		start := time.Now()
		iso, err := runtime.NewIsolate(a.Script, runtime.Options{})
		check(err)
		rec := httptest.NewRecorder()
		check(iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/", nil), runtime.ServeOptions{}))
		cold = append(cold, time.Since(start))
		iso.Close()
	}
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	refStart := workerdStart(worker)
	fmt.Printf("cold start  isola: new isolate + first response p50 %s, p99 %s\n", cold[len(cold)/2], cold[len(cold)*99/100])
	fmt.Printf("            workerd: process start to first response %s (the reference has no in-process figure; its dynamic workers take ~17 ms here)\n\n", refStart)

	// Memory per idle isolate: many isolates, each having served a request.
	before := rss()
	var engine int64
	live := make([]*runtime.Isolate, 0, *isolates)
	for i := 0; i < *isolates; i++ {
		iso, err := runtime.NewIsolate(a.Script, runtime.Options{})
		check(err)
		rec := httptest.NewRecorder()
		check(iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/", nil), runtime.ServeOptions{}))
		m, _ := iso.Memory()
		engine += m.MallocSize
		live = append(live, iso)
	}
	goruntime.GC()
	after := rss()
	fmt.Printf("memory      isola: %d idle isolates: %.0f KB resident each (engine heap %.0f KB each)\n",
		len(live), float64(after-before)/float64(len(live))/1024, float64(engine)/float64(len(live))/1024)
	fmt.Printf("            workerd: %.0f KB resident for the whole process serving one worker\n", float64(wd.RSS())/1024)
	for _, iso := range live {
		iso.Close()
	}
}

type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
}

func runWrk(port, conns int, d time.Duration) wrkResult {
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+d.String(), "--latency",
		fmt.Sprintf("http://127.0.0.1:%d/", port)).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk: %v\n%s", err, out)
	}
	var r wrkResult
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.p50 = parseDur(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = parseDur(f[1])
		}
	}
	if r.rps == 0 {
		log.Fatalf("could not read wrk output:\n%s", out)
	}
	return r
}

func parseDur(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		log.Fatalf("wrk latency %q: %v", s, err)
	}
	return d
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

// workerdStart times a fresh workerd process from start to its first answer.
func workerdStart(worker string) time.Duration {
	port := reference.FreePort()
	start := time.Now()
	p, err := reference.StartWorkerd(context.Background(), worker, port)
	check(err)
	defer p.Stop()
	waitHTTP(port)
	return time.Since(start)
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
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
