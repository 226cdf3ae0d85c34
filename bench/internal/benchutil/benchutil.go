// Package benchutil holds what the benchmarks under bench/ share: building
// Isola as users run it, loading a port with wrk, and reading memory figures.
package benchutil

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/isola-run/isola/internal/testutil/reference"
)

// Setup finds the module root and a benchmark worker under bench/workers,
// checks wrk is there, and builds the isola binary; it returns the worker's
// directory and the binary's path.
func Setup(worker string) (dir, bin string) {
	log.SetFlags(0)
	root, err := reference.ModuleRoot()
	Check(err)
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("wrk not found: install it with `apt-get install wrk`")
	}
	bin = filepath.Join(os.TempDir(), "isola-bench")
	build := exec.Command("go", "build", "-o", bin, "./cmd/isola")
	build.Dir, build.Env, build.Stderr = root, append(os.Environ(), "CGO_ENABLED=0"), os.Stderr
	Check(build.Run())
	return filepath.Join(root, "bench", "workers", worker), bin
}

// Wrk is what one wrk run measured.
type Wrk struct {
	RPS      float64
	P50, P99 time.Duration
	Errors   bool // some answers were not 2xx/3xx
}

// RunWrk loads http://127.0.0.1:port<path> with one wrk thread.
func RunWrk(port int, path string, conns int, d time.Duration) Wrk {
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+d.String(), "--latency",
		fmt.Sprintf("http://127.0.0.1:%d%s", port, path)).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk: %v\n%s", err, out)
	}
	r := Wrk{Errors: strings.Contains(string(out), "Non-2xx")}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.RPS, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.P50 = parseDur(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.P99 = parseDur(f[1])
		}
	}
	if r.RPS == 0 {
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

// WaitHTTP waits until something answers on the port.
func WaitHTTP(port int) {
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

// RSS is a process's resident memory in bytes.
func RSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	Check(err)
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Check stops the benchmark on an error.
func Check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Runtime is workerd or Isola serving a benchmark worker.
type Runtime struct {
	Port int
	Pid  int
	Stop func() // stops it and removes its storage
}

// Start serves dir on a free port with "workerd" (the reference from npm) or
// "isola" (the binary Setup built), with a fresh, empty storage directory.
func Start(name, dir, bin string) Runtime {
	port := reference.FreePort()
	state, err := os.MkdirTemp("", "isola-bench-state-")
	Check(err)
	if name == "workerd" {
		p, err := reference.StartWorkerdWith(context.Background(), dir, port, reference.Options{StorageDir: state})
		Check(err)
		WaitHTTP(port)
		return Runtime{port, p.Pid(), func() { p.Stop(); os.RemoveAll(state) }}
	}
	cmd := exec.Command(bin, "dev", dir, "--port", strconv.Itoa(port), "--state", state)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	Check(cmd.Start())
	WaitHTTP(port)
	return Runtime{port, cmd.Process.Pid, func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(state) }}
}

// Client is the HTTP client the benchmarks' own request loops use. Go's
// default transport keeps only two idle connections per host, so with more
// requests in flight than that most of them open a new connection and leave
// one in TIME_WAIT; the handshakes then cost both sides CPU that no user's
// long-lived client pays (wrk keeps its connections too), and on this
// 2-core machine that CPU is taken from the runtime being measured.
var Client = &http.Client{
	Timeout:   5 * time.Minute,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256},
}

// Get fetches http://127.0.0.1:port<path> and exits unless it answers 200.
func Get(port int, path string) {
	resp, err := Client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	Check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
}

// Median is the middle of v (the mean of the two middle values when their
// number is even).
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// CompareRounds measures each path on workerd and on Isola, each runtime
// started afresh in turn, for rounds rounds: measure returns a figure (in
// unit, higher is better) for one path on the runtime called name at port.
// It prints each figure as it comes, then each path's medians and their
// ratio, Isola over workerd.
func CompareRounds(worker, bin string, rounds int, paths []string, unit string, measure func(name string, port int, path string) float64) {
	names := []string{"workerd", "isola"}
	figures := map[string]map[string][]float64{}
	for _, p := range paths {
		figures[p] = map[string][]float64{}
	}
	for r := 0; r < rounds; r++ {
		for _, name := range names {
			rt := Start(name, worker, bin)
			for _, p := range paths {
				f := measure(name, rt.Port, p)
				figures[p][name] = append(figures[p][name], f)
				fmt.Printf("  round %d %-8s %-12s %9.0f %s\n", r+1, name, p, f, unit)
			}
			rt.Stop()
		}
	}
	fmt.Printf("\n%-13s %12s %12s %8s\n", "(medians)", "workerd", "isola", "ratio")
	for _, p := range paths {
		w, i := Median(figures[p]["workerd"]), Median(figures[p]["isola"])
		fmt.Printf("%-13s %12.0f %12.0f %7.2fx\n", p, w, i, i/w)
	}
}
