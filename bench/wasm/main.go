// Command wasm benchmarks WebAssembly on Isola and on workerd (from npm) in
// one run, with the same load generator (wrk) and the same module
// (bench/workers/wasm): calls from JavaScript into WebAssembly, arithmetic
// inside one call, a memory filled from JavaScript and read by
// WebAssembly, and an instance made per request. It prints requests/s per
// path and the ratio, each runtime measured in turn in each round, the
// median round counting. There is no goal for it yet: it shows where
// Isola's WebAssembly (wazero's compiler, calls crossing Go) stands against
// V8's.
//
//	go run ./bench/wasm [-duration 5s] [-connections 8] [-rounds 3]
package main

import (
	"flag"
	"fmt"
	goruntime "runtime"
	"sort"
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "load duration per figure")
	conns := flag.Int("connections", 8, "concurrent connections")
	rounds := flag.Int("rounds", 3, "rounds, each runtime in turn")
	flag.Parse()
	worker, bin := benchutil.Setup("wasm")
	names := []string{"workerd", "isola"}
	paths := []string{"/calls", "/compute", "/memory", "/instantiate"}
	rates := map[string]map[string][]float64{}
	for _, p := range paths {
		rates[p] = map[string][]float64{}
	}
	fmt.Printf("WebAssembly, wrk -c%d, %s per figure, one runtime at a time on this machine (%d cores)\n\n", *conns, *duration, goruntime.NumCPU())
	for r := 0; r < *rounds; r++ {
		for _, name := range names {
			rt := benchutil.Start(name, worker, bin)
			for _, p := range paths {
				w := benchutil.RunWrk(rt.Port, p, *conns, *duration)
				if w.Errors {
					fmt.Printf("  %s %s answered errors\n", name, p)
				}
				rates[p][name] = append(rates[p][name], w.RPS)
				fmt.Printf("  round %d %-8s %-12s %9.0f requests/s\n", r+1, name, p, w.RPS)
			}
			rt.Stop()
		}
	}
	fmt.Printf("\n%-13s %12s %12s %8s\n", "(medians)", "workerd", "isola", "ratio")
	for _, p := range paths {
		w, i := median(rates[p]["workerd"]), median(rates[p]["isola"])
		fmt.Printf("%-13s %12.0f %12.0f %7.2fx\n", p, w, i, i/w)
	}
	fmt.Println("\n/calls: 10,000 calls of a two-argument export per request; /compute: 5,000,000 rounds of")
	fmt.Println("64-bit arithmetic in one call; /memory: 64 KiB filled from JavaScript, summed in WebAssembly;")
	fmt.Println("/instantiate: a new instance of the module per request.")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
