// Command dynworkflows benchmarks Dynamic Workflows
// (@cloudflare/dynamic-workflows) in one run:
//
//   - step cost (Isola only): the same workflow of -steps steps, bound
//     statically and dispatched to a tenant's dynamic worker
//     (bench/workers/dynamic-workflows); -instances of each, created in
//     batches, timed until all are complete; the time per step and the
//     ratio dynamic/static (goal <= 1.3x). Both are measured in each of
//     -rounds rounds, back to back, each in a fresh process; the round with
//     the median ratio counts.
//
//   - the example (../shared/examples/dynamic-workflows, unmodified) on
//     Isola and on wrangler dev: instances created with POST / (tenant
//     t-42), -concurrency at a time, timed until all are complete; the
//     ratio of instances/s (goal >= 50x). Each instance sleeps 1 s.
//
//   - the example's tenant code bound statically
//     (bench/workers/dynamic-workflows-static) under the same load on
//     Isola: what the example would reach with dispatch costing nothing.
//
//     go run ./bench/dynworkflows [-instances 2000] [-steps 10] [-example 3000] [-example-ref 150]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
	"github.com/isola-run/isola/internal/testutil/reference"
)

const pkg = "@cloudflare/dynamic-workflows"

func main() {
	instances := flag.Int("instances", 2000, "instances of each kind for the step cost")
	steps := flag.Int("steps", 10, "steps per instance for the step cost")
	rounds := flag.Int("rounds", 5, "rounds of the step cost measurement")
	example := flag.Int("example", 3000, "example instances on Isola")
	exampleRef := flag.Int("example-ref", 150, "example instances on wrangler dev")
	conc := flag.Int("concurrency", 16, "requests in flight when creating the example's instances")
	skipRef := flag.Bool("skip-reference", false, "measure Isola only")
	flag.Parse()
	benchDir, bin := benchutil.Setup("dynamic-workflows")
	root, err := reference.ModuleRoot()
	benchutil.Check(err)

	fmt.Printf("Dynamic Workflows, on this machine\n\n")
	staticUs, dynamicUs := stepCost(copyProgram(benchDir), bin, *instances, *steps, *rounds)
	fmt.Printf("step cost (median round): static %6.1f µs   dynamic %6.1f µs   ratio %4.2fx (goal <= 1.3x)\n\n", staticUs, dynamicUs, dynamicUs/staticUs)

	exampleDir := filepath.Join(root, "..", "shared", "examples", "dynamic-workflows")
	var ref float64
	if !*skipRef {
		ref = runExample("wrangler", copyProgram(exampleDir), bin, *exampleRef, *conc)
	}
	iso := runExample("isola", copyProgram(exampleDir), bin, *example, *conc)
	static := runExample("static", copyProgram(filepath.Join(benchDir, "..", "dynamic-workflows-static")), bin, *example, *conc)
	fmt.Println()
	fmt.Printf("step cost (median):  static %6.1f µs   dynamic %6.1f µs   ratio %4.2fx (goal <= 1.3x)\n", staticUs, dynamicUs, dynamicUs/staticUs)
	if !*skipRef {
		fmt.Printf("example instances/s: isola %8.1f   wrangler dev %6.1f   ratio %6.1fx (goal >= 50x)\n", iso, ref, iso/ref)
		fmt.Printf("  bound statically:  isola %8.1f   wrangler dev %6.1f   ratio %6.1fx (dynamic/static %.2f)\n", static, ref, static/ref, iso/static)
	} else {
		fmt.Printf("example instances/s: isola %8.1f   bound statically %8.1f (dynamic/static %.2f)\n", iso, static, iso/static)
	}
}

// copyProgram copies a program's files into a temporary directory and
// links the npm package it imports, as `npm install` would.
func copyProgram(src string) string {
	dst, err := os.MkdirTemp("", "isola-bench-dynwf-")
	benchutil.Check(err)
	entries, err := os.ReadDir(src)
	benchutil.Check(err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		benchutil.Check(err)
		benchutil.Check(os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	benchutil.Check(reference.LinkPackages(dst, pkg))
	return dst
}

// stepCost measures both kinds back to back in each round and returns the
// median round's figures: a round's two measurements share the machine's
// state, and the median ignores a round that some other load disturbed.
func stepCost(dir, bin string, n, k, rounds int) (staticUs, dynamicUs float64) {
	type round struct{ static, dynamic float64 }
	var rs []round
	for r := 0; r < rounds; r++ {
		var cur round
		for _, wf := range []string{"static", "dynamic"} {
			// A fresh process (and an empty journal) for each measurement:
			// a journal grown by the one before would slow the one after.
			rt := benchutil.Start("isola", dir, bin)
			runBatch(rt.Port, wf, "warm-", 10, k) // the tenant's worker loaded, the path run once
			d := runBatch(rt.Port, wf, "m-", n, k)
			rt.Stop()
			us := float64(d.Microseconds()) / float64(n*k)
			fmt.Printf("round %d %-8s %d instances x %d steps in %v: %.1f µs/step\n", r+1, wf, n, k, d.Round(time.Millisecond), us)
			if wf == "static" {
				cur.static = us
			} else {
				cur.dynamic = us
			}
		}
		rs = append(rs, cur)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].dynamic/rs[i].static < rs[j].dynamic/rs[j].static })
	m := rs[len(rs)/2]
	return m.static, m.dynamic
}

// runBatch creates n instances of k steps and waits until all are
// complete, checking their outputs.
func runBatch(port int, wf, prefix string, n, k int) time.Duration {
	t0 := time.Now()
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for from := 0; from < n; from += 100 {
		sem <- struct{}{}
		wg.Add(1)
		go func(from int) {
			defer wg.Done()
			defer func() { <-sem }()
			get(port, fmt.Sprintf("/batch?wf=%s&prefix=%s&from=%d&n=%d&k=%d", wf, prefix, from, min(100, n-from), k), nil)
		}(from)
	}
	wg.Wait()
	for from := 0; from < n; {
		to := min(from+100, n)
		ids := make([]string, 0, to-from)
		for i := from; i < to; i++ {
			ids = append(ids, prefix+strconv.Itoa(i))
		}
		var a struct {
			Complete int               `json:"complete"`
			Statuses map[string]int    `json:"statuses"`
			Outputs  []json.RawMessage `json:"outputs"`
		}
		benchutil.Check(json.Unmarshal(get(port, fmt.Sprintf("/status?wf=%s&outputs&ids=%s", wf, strings.Join(ids, ",")), nil), &a))
		if bad := a.Statuses["errored"] + a.Statuses["terminated"]; bad > 0 {
			log.Fatalf("%s: %d instances failed: %v", wf, bad, a.Statuses)
		}
		if a.Complete < len(ids) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for i, o := range a.Outputs {
			if want := strconv.Itoa(from + i + k); string(o) != want {
				log.Fatalf("%s: instance %s%d output %s, want %s", wf, prefix, from+i, o, want)
			}
		}
		from = to
	}
	return time.Since(t0)
}

func runExample(name, dir, bin string, n, conc int) float64 {
	var rt benchutil.Runtime
	if name == "wrangler" {
		port := reference.FreePort()
		p, err := reference.StartWrangler(context.Background(), dir, port, reference.WranglerOptions{})
		benchutil.Check(err)
		benchutil.WaitHTTP(port)
		rt = benchutil.Runtime{Port: port, Pid: p.Pid(), Stop: p.Stop}
	} else {
		rt = benchutil.Start(name, dir, bin)
	}
	defer rt.Stop()
	tenant := http.Header{"X-Tenant-Id": {"t-42"}}
	// Warm up: the tenant's worker loaded, one instance through.
	var warm struct{ ID string }
	benchutil.Check(json.Unmarshal(post(rt.Port, "/", `{"name":"Alice"}`, tenant), &warm))
	waitExample(rt.Port, []string{warm.ID}, tenant)

	t0 := time.Now()
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var c struct{ ID string }
				benchutil.Check(json.Unmarshal(post(rt.Port, "/", fmt.Sprintf(`{"name":"n%d"}`, i), tenant), &c))
				ids[i] = c.ID
			}
		}()
	}
	wg.Wait()
	created := time.Since(t0)
	waitExample(rt.Port, ids, tenant)
	total := time.Since(t0)
	rate := float64(n) / total.Seconds()
	fmt.Printf("%-9s example: %d instances created in %v, all complete in %v: %.1f/s\n", name, n, created.Round(time.Millisecond), total.Round(time.Millisecond), rate)
	return rate
}

// waitExample polls /status for each id, eight at a time, until complete.
func waitExample(port int, ids []string, h http.Header) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				for {
					var s struct {
						Status string          `json:"status"`
						Output json.RawMessage `json:"output"`
					}
					benchutil.Check(json.Unmarshal(get(port, "/status?id="+ids[i], h), &s))
					if s.Status == "errored" || s.Status == "terminated" {
						log.Fatalf("instance %s: %s", ids[i], s.Status)
					}
					if s.Status == "complete" {
						if !strings.HasPrefix(string(s.Output), `"HELLO, `) {
							log.Fatalf("instance %s output %s", ids[i], s.Output)
						}
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

func get(port int, path string, h http.Header) []byte {
	return do("GET", port, path, "", h)
}

func post(port int, path, body string, h http.Header) []byte {
	return do("POST", port, path, body, h)
}

func do(method string, port int, path, body string, h http.Header) []byte {
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), strings.NewReader(body))
	benchutil.Check(err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := benchutil.Client.Do(req)
	benchutil.Check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b
}
