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
	"time"

	"github.com/isola-run/isola/bench/internal/benchutil"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "load duration per figure")
	conns := flag.Int("connections", 8, "concurrent connections")
	rounds := flag.Int("rounds", 3, "rounds, each runtime in turn")
	flag.Parse()
	worker, bin := benchutil.Setup("wasm")
	fmt.Printf("WebAssembly, wrk -c%d, %s per figure, one runtime at a time on this machine (%d cores)\n\n", *conns, *duration, goruntime.NumCPU())
	benchutil.CompareRounds(worker, bin, *rounds, []string{"/calls", "/compute", "/memory", "/instantiate"}, "requests/s", func(name string, port int, path string) float64 {
		w := benchutil.RunWrk(port, path, *conns, *duration)
		if w.Errors {
			fmt.Printf("  %s %s answered errors\n", name, path)
		}
		return w.RPS
	})
	fmt.Println("\n/calls: 10,000 calls of a two-argument export per request; /compute: 5,000,000 rounds of")
	fmt.Println("64-bit arithmetic in one call; /memory: 64 KiB filled from JavaScript, summed in WebAssembly;")
	fmt.Println("/instantiate: a new instance of the module per request.")
}
