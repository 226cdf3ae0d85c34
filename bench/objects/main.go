// Command objects benchmarks Durable Objects on Isola against workerd in one
// run, one runtime at a time, with the same workers and load generator:
//
//   - app: requests/s on the app-platform example (a supervisor object that
//     runs a dynamic worker's class as a facet with its own database)
//
//   - ops: synchronous kv.get, kv.put and a one-row sql.exec, in
//     microseconds per operation (N operations in one request, minus a
//     request with one, timed from outside: workerd's clocks stand still
//     inside a request)
//
//   - scale: distinct objects touched one after another (one kv.put
//     each), with resident memory and open file descriptors sampled as it
//     goes
//
//     go run ./bench/objects [-duration 10s] [-scale 100000] [-scale-workerd 20000]
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
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
	"github.com/isola-run/isola/internal/testutil/reference"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "load duration for the app figure")
	conns := flag.Int("connections", 8, "concurrent connections for the app figure")
	opsN := flag.Int("ops", 200000, "operations per timed request in the ops figures")
	scale := flag.Int("scale", 100000, "objects touched on Isola in the scale run (0 skips it)")
	scaleWorkerd := flag.Int("scale-workerd", 20000, "objects touched on workerd in the scale run (0 skips it)")
	flag.Parse()
	appDir, bin := benchutil.Setup("objects-app")
	opsDir := filepath.Join(filepath.Dir(appDir), "objects-ops")

	fmt.Printf("Durable Objects, one runtime at a time on this machine; app: wrk -c%d -d%s\n\n", *conns, *duration)
	type figures struct {
		app                benchutil.Wrk
		get, put, sql, nop float64 // µs per operation
	}
	res := map[string]*figures{}
	for _, name := range []string{"workerd", "isola"} {
		f := &figures{}
		r := start(name, appDir, bin)
		get(r.port, "/") // first request loads the code and makes the facet
		f.app = benchutil.RunWrk(r.port, "/", *conns, *duration)
		if f.app.Errors {
			log.Fatalf("%s: app-platform answered errors under load", name)
		}
		r.stop()

		r = start(name, opsDir, bin)
		f.nop = perOp(r.port, "nop", *opsN)
		f.get = perOp(r.port, "get", *opsN) - f.nop
		f.put = perOp(r.port, "put", *opsN) - f.nop
		f.sql = perOp(r.port, "sql", *opsN/10) - f.nop
		r.stop()
		res[name] = f
	}
	w, i := res["workerd"], res["isola"]
	fmt.Printf("%-30s %12s %12s %8s\n", "", "workerd", "isola", "ratio")
	fmt.Printf("%-30s %12.0f %12.0f %7.2fx  (goal ≥ 2x)\n", "app-platform requests/s", w.app.RPS, i.app.RPS, i.app.RPS/w.app.RPS)
	fmt.Printf("%-30s %12s %12s\n", "app-platform p99", w.app.P99.Round(time.Microsecond), i.app.P99.Round(time.Microsecond))
	fmt.Printf("%-30s %12.2f %12.2f %7.2fx  (goal: Isola ≤ 5 µs)\n", "kv.get µs", w.get, i.get, i.get/w.get)
	fmt.Printf("%-30s %12.2f %12.2f %7.2fx\n", "kv.put µs", w.put, i.put, i.put/w.put)
	fmt.Printf("%-30s %12.2f %12.2f %7.2fx\n", "sql.exec one row µs", w.sql, i.sql, i.sql/w.sql)
	fmt.Println("(µs ratios are isola/workerd: lower is better)")

	if *scaleWorkerd > 0 {
		scaleRun("workerd", opsDir, bin, *scaleWorkerd)
	}
	if *scale > 0 {
		scaleRun("isola", opsDir, bin, *scale)
	}
}

type runtimeUnderTest struct {
	port int
	pid  int
	stop func()
}

// start serves dir with a fresh, empty storage directory.
func start(name, dir, bin string) runtimeUnderTest {
	port := reference.FreePort()
	state, err := os.MkdirTemp("", "isola-bench-state-")
	benchutil.Check(err)
	if name == "workerd" {
		p, err := reference.StartWorkerdWith(context.Background(), dir, port, reference.Options{StorageDir: state})
		benchutil.Check(err)
		benchutil.WaitHTTP(port)
		return runtimeUnderTest{port, p.Pid(), func() { p.Stop(); os.RemoveAll(state) }}
	}
	cmd := exec.Command(bin, "dev", dir, "--port", strconv.Itoa(port), "--state", state)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	benchutil.Check(cmd.Start())
	benchutil.WaitHTTP(port)
	return runtimeUnderTest{port, cmd.Process.Pid, func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(state) }}
}

// perOp is µs per operation: the median over 3 tries of (time of n
// operations − time of 1) / (n − 1).
func perOp(port int, op string, n int) float64 {
	get(port, fmt.Sprintf("/?op=%s&n=1", op)) // warm
	var samples []float64
	for try := 0; try < 3; try++ {
		one := timeGet(port, fmt.Sprintf("/?op=%s&n=1", op))
		many := timeGet(port, fmt.Sprintf("/?op=%s&n=%d", op, n))
		samples = append(samples, float64(many-one)/float64(time.Microsecond)/float64(n-1))
	}
	sort.Float64s(samples)
	return samples[1]
}

func timeGet(port int, path string) time.Duration {
	t := time.Now()
	get(port, path)
	return time.Since(t)
}

// scaleRun touches n distinct objects, four requests at a time, printing
// memory and open files every tenth.
func scaleRun(name, dir, bin string, n int) {
	fmt.Printf("\nscale on %s: %d distinct objects, one kv.put each, 4 connections\n", name, n)
	r := start(name, dir, bin)
	defer r.stop()
	var next atomic.Int64
	step := max(n/10, 1)
	startAt := time.Now()
	for done := 0; done < n; done += step {
		var wg sync.WaitGroup
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(done+step) || i >= int64(n) {
						next.Add(-1)
						return
					}
					get(r.port, fmt.Sprintf("/touch?i=%d", i))
				}
			}()
		}
		wg.Wait()
		fmt.Printf("  %7d objects  %6.1fs  resident %5.0f MB  open files %5d\n",
			min(done+step, n), time.Since(startAt).Seconds(), float64(benchutil.RSS(r.pid))/(1<<20), openFiles(r.pid))
	}
}

func openFiles(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

var client = &http.Client{Timeout: 2 * time.Minute}

func get(port int, path string) {
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	benchutil.Check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
}
