// Command workflows benchmarks Workflows on Isola against the reference,
// `wrangler dev`'s local engine, in one run, one runtime at a time, with the
// same worker (bench/workers/workflows):
//
//   - creates: instances created per second, one create() per request,
//     driven by wrk
//
//   - three-step: instances of a three-step workflow completed per second,
//     from the first createBatch to the last instance complete
//
//   - sleepers (Isola only: the reference would need half an hour to
//     create them): N instances asleep at once, the resident memory they
//     cost, and how late they wake, their wake times spread over -spread
//
//     go run ./bench/workflows [-duration 10s] [-instances 20000] [-instances-ref 300] [-sleepers 100000]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
	"github.com/isola-run/isola/internal/testutil/reference"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "wrk duration for the creates figure")
	conns := flag.Int("connections", 64, "concurrent connections for the creates figure (enough to saturate either runtime)")
	instances := flag.Int("instances", 20000, "three-step instances on Isola")
	instancesRef := flag.Int("instances-ref", 300, "three-step instances on the reference")
	sleepers := flag.Int("sleepers", 100000, "sleeping instances on Isola (0 skips)")
	wake := flag.Duration("wake", 20*time.Second, "how long after the last sleeper is created the first one wakes")
	spread := flag.Duration("spread", 60*time.Second, "the sleepers' wake times spread evenly over this long")
	skipRef := flag.Bool("skip-reference", false, "measure Isola only")
	flag.Parse()
	dir, bin := benchutil.Setup("workflows")

	fmt.Printf("Workflows, one runtime at a time on this machine (%s)\n\n", dir)
	var ref, iso result
	if !*skipRef {
		ref = measure("wrangler", dir, bin, *duration, *conns, *instancesRef)
	}
	iso = measure("isola", dir, bin, *duration, *conns, *instances)
	fmt.Println()
	if !*skipRef {
		fmt.Printf("creates/s:            isola %8.0f   wrangler dev %6.1f   ratio %6.1fx (goal >= 50x)\n", iso.creates, ref.creates, iso.creates/ref.creates)
		fmt.Printf("three-step done/s:    isola %8.0f   wrangler dev %6.1f   ratio %6.1fx (goal >= 50x)\n", iso.done, ref.done, iso.done/ref.done)
	} else {
		fmt.Printf("creates/s:            isola %8.0f\nthree-step done/s:    isola %8.0f\n", iso.creates, iso.done)
	}
	if *sleepers > 0 {
		sleepersRun(dir, bin, *sleepers, *wake, *spread)
	}
}

type result struct{ creates, done float64 }

func start(name, dir, bin string) benchutil.Runtime {
	if name != "wrangler" {
		return benchutil.Start(name, dir, bin)
	}
	port := reference.FreePort()
	p, err := reference.StartWrangler(context.Background(), dir, port, reference.WranglerOptions{})
	benchutil.Check(err)
	benchutil.WaitHTTP(port)
	return benchutil.Runtime{Port: port, Pid: p.Pid(), Stop: p.Stop}
}

func measure(name, dir, bin string, d time.Duration, conns, n int) result {
	var r result
	rt := start(name, dir, bin)
	benchutil.Get(rt.Port, "/create") // warm up
	w := benchutil.RunWrk(rt.Port, "/create", conns, d)
	if w.Errors {
		log.Fatalf("%s: some creates failed", name)
	}
	r.creates = w.RPS
	fmt.Printf("%-9s creates: %8.1f/s (p50 %v, p99 %v)\n", name, w.RPS, w.P50, w.P99)
	rt.Stop()

	rt = start(name, dir, bin)
	defer rt.Stop()
	benchutil.Get(rt.Port, "/") // warm up
	t0 := time.Now()
	ids := createAll(rt.Port, "three", "t", n, 0, 0)
	created := time.Since(t0)
	waitComplete(rt.Port, "three", ids, func([]json.RawMessage) {})
	total := time.Since(t0)
	r.done = float64(n) / total.Seconds()
	// The outputs must be right: n+2 for instance n.
	var outs []json.RawMessage
	statusOf(rt.Port, "three", ids[:min(100, n)], true, &outs)
	for i, o := range outs {
		if string(o) != strconv.Itoa(i+2) {
			log.Fatalf("%s: instance t%d output %s, want %d", name, i, o, i+2)
		}
	}
	fmt.Printf("%-9s three-step: %d instances created in %v, all complete in %v: %.1f/s\n", name, n, created.Round(time.Millisecond), total.Round(time.Millisecond), r.done)
	return r
}

func get(port int, path string) []byte {
	resp, err := benchutil.Client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	benchutil.Check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

// createAll creates n instances <prefix>0..n-1 in batches of 100, four
// requests at a time, and returns their ids.
func createAll(port int, wf, prefix string, n int, at int64, spread time.Duration) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i)
	}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for from := 0; from < n; from += 100 {
		sem <- struct{}{}
		wg.Add(1)
		go func(from int) {
			defer wg.Done()
			defer func() { <-sem }()
			get(port, fmt.Sprintf("/batch?wf=%s&prefix=%s&from=%d&n=%d&at=%d&spread=%d&total=%d", wf, prefix, from, min(100, n-from), at, spread.Milliseconds(), n))
		}(from)
	}
	wg.Wait()
	return ids
}

type statusAnswer struct {
	Complete int               `json:"complete"`
	Statuses map[string]int    `json:"statuses"`
	Outputs  []json.RawMessage `json:"outputs"`
}

func statusOf(port int, wf string, ids []string, outputs bool, out *[]json.RawMessage) statusAnswer {
	path := fmt.Sprintf("/status?wf=%s&ids=%s", wf, strings.Join(ids, ","))
	if outputs {
		path += "&outputs"
	}
	var a statusAnswer
	benchutil.Check(json.Unmarshal(get(port, path), &a))
	if out != nil {
		*out = append(*out, a.Outputs...)
	}
	return a
}

// waitComplete polls, 100 ids at a time in creation order, until every
// instance is complete; each chunk's outputs go to each.
func waitComplete(port int, wf string, ids []string, each func([]json.RawMessage)) {
	for from := 0; from < len(ids); {
		chunk := ids[from:min(from+100, len(ids))]
		var outs []json.RawMessage
		a := statusOf(port, wf, chunk, true, &outs)
		if bad := a.Statuses["errored"] + a.Statuses["terminated"]; bad > 0 {
			log.Fatalf("%d instances failed: %v", bad, a.Statuses)
		}
		if a.Complete == len(chunk) {
			each(outs)
			from += len(chunk)
			continue
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sleepersRun(dir, bin string, n int, wake, spread time.Duration) {
	rt := benchutil.Start("isola", dir, bin)
	defer rt.Stop()
	benchutil.Get(rt.Port, "/")
	time.Sleep(time.Second)
	base := benchutil.RSS(rt.Pid)
	// The instances sleep until a time fixed before they are created: an
	// estimate of the creating time plus the wake delay.
	estimate := time.Duration(n/2000+5) * time.Second
	at := time.Now().Add(estimate + wake)
	t0 := time.Now()
	ids := createAll(rt.Port, "sleeper", "s", n, at.UnixMilli(), spread)
	created := time.Since(t0)
	if time.Now().After(at.Add(-wake / 2)) {
		log.Fatalf("creating %d sleepers took %v, too close to their wake time; raise -wake", n, created)
	}
	// Every instance has run up to its sleep when the last one waits.
	for {
		a := statusOf(rt.Port, "sleeper", ids[len(ids)-100:], false, nil)
		if a.Statuses["waiting"] == 100 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	asleep := time.Since(t0)
	time.Sleep(2 * time.Second) // let the allocator settle
	rss := benchutil.RSS(rt.Pid)
	per := float64(rss-base) / float64(n)
	fmt.Printf("\nsleepers: %d created in %v, all asleep after %v; resident memory %.1f MiB before, %.1f MiB with them asleep: %.0f bytes each (goal <= 2048)\n",
		n, created.Round(time.Millisecond), asleep.Round(time.Millisecond), float64(base)/(1<<20), float64(rss)/(1<<20), per)
	time.Sleep(time.Until(at.Add(spread)))
	var late []float64
	waitComplete(rt.Port, "sleeper", ids, func(outs []json.RawMessage) {
		for _, o := range outs {
			var v struct{ Late float64 }
			json.Unmarshal(o, &v)
			late = append(late, v.Late)
		}
	})
	sort.Float64s(late)
	fmt.Printf("sleepers woke (wake times spread over %v, %.0f a second): lateness p50 %.0f ms, p99 %.0f ms, max %.0f ms, all %d complete\n",
		spread, float64(n)/spread.Seconds(), late[len(late)/2], late[len(late)*99/100], late[len(late)-1], len(late))
}
