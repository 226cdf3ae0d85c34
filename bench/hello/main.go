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
	"net/http/httptest"
	"os"
	"os/exec"
	goruntime "runtime"
	"sort"
	"strconv"
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/testutil/reference"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "load duration per runtime")
	conns := flag.Int("connections", 16, "concurrent connections")
	isolates := flag.Int("isolates", 1000, "idle isolates to create for the memory figure")
	flag.Parse()
	worker, bin := benchutil.Setup("hello")

	iPort := reference.FreePort()
	isola := exec.Command(bin, "dev", worker, "--port", strconv.Itoa(iPort))
	isola.Stdout, isola.Stderr = io.Discard, io.Discard
	benchutil.Check(isola.Start())
	defer isola.Process.Kill()
	benchutil.WaitHTTP(iPort)

	wPort := reference.FreePort()
	wd, err := reference.StartWorkerd(context.Background(), worker, wPort)
	benchutil.Check(err)
	defer wd.Stop()
	benchutil.WaitHTTP(wPort)

	fmt.Printf("hello world, wrk -c%d -d%s, one after the other on this machine (%d cores)\n\n", *conns, *duration, goruntime.NumCPU())
	ref := benchutil.RunWrk(wPort, "/", *conns, *duration)
	ours := benchutil.RunWrk(iPort, "/", *conns, *duration)
	fmt.Printf("%-10s %12s %10s %10s\n", "", "requests/s", "p50", "p99")
	fmt.Printf("%-10s %12.0f %10s %10s\n", "workerd", ref.RPS, ref.P50, ref.P99)
	fmt.Printf("%-10s %12.0f %10s %10s\n", "isola", ours.RPS, ours.P50, ours.P99)
	fmt.Printf("ratio      %11.2fx  (goal ≥ 1.5x); p99 isola/workerd %.2f (goal ≤ 1)\n\n", ours.RPS/ref.RPS, float64(ours.P99)/float64(ref.P99))

	// Cold start: a new isolate from the worker's bytecode, the worker's top
	// level evaluated, one request answered.
	a, err := app.Load(worker, log.New(io.Discard, "", 0))
	benchutil.Check(err)
	var cold []time.Duration
	for i := 0; i < 300; i++ {
		start := time.Now()
		iso, err := runtime.NewIsolate(a.Script, runtime.Options{})
		benchutil.Check(err)
		rec := httptest.NewRecorder()
		benchutil.Check(iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/", nil), runtime.ServeOptions{}))
		cold = append(cold, time.Since(start))
		iso.Close()
	}
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	refStart := workerdStart(worker)
	fmt.Printf("cold start  isola: new isolate + first response p50 %s, p99 %s\n", cold[len(cold)/2], cold[len(cold)*99/100])
	fmt.Printf("            workerd: process start to first response %s (the reference has no in-process figure; its dynamic workers take ~17 ms here)\n\n", refStart)

	// Memory per idle isolate: many isolates, each having served a request.
	before := benchutil.RSS(os.Getpid())
	var engine int64
	live := make([]*runtime.Isolate, 0, *isolates)
	for i := 0; i < *isolates; i++ {
		iso, err := runtime.NewIsolate(a.Script, runtime.Options{})
		benchutil.Check(err)
		rec := httptest.NewRecorder()
		benchutil.Check(iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/", nil), runtime.ServeOptions{}))
		m, _ := iso.Memory()
		engine += m.MallocSize
		live = append(live, iso)
	}
	goruntime.GC()
	after := benchutil.RSS(os.Getpid())
	fmt.Printf("memory      isola: %d idle isolates: %.0f KB resident each (engine heap %.0f KB each)\n",
		len(live), float64(after-before)/float64(len(live))/1024, float64(engine)/float64(len(live))/1024)
	fmt.Printf("            workerd: %.0f KB resident for the whole process serving one worker\n", float64(wd.RSS())/1024)
	for _, iso := range live {
		iso.Close()
	}
}

// workerdStart times a fresh workerd process from start to its first answer.
func workerdStart(worker string) time.Duration {
	port := reference.FreePort()
	start := time.Now()
	p, err := reference.StartWorkerd(context.Background(), worker, port)
	benchutil.Check(err)
	defer p.Stop()
	benchutil.WaitHTTP(port)
	return time.Since(start)
}
