package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/runtime"
)

func main() {
	dir := flag.String("dir", "", "")
	path := flag.String("path", "", "fixed path; empty = touch")
	n := flag.Int("n", 3000, "")
	out := flag.String("o", "/tmp/cpu.prof", "")
	flag.Parse()
	state, _ := os.MkdirTemp("", "prof-state-")
	defer os.RemoveAll(state)
	a, err := app.LoadWith(*dir, log.New(io.Discard, "", 0), app.Options{StateDir: state})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	do := func(p string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://x"+p, nil)
		if err := a.Worker.ServeHTTP(rec, req, runtime.ServeOptions{}); err != nil || rec.Code != 200 {
			log.Fatal(p, err, rec.Code, rec.Body.String())
		}
	}
	if *path != "" {
		do(*path)
	}
	f, _ := os.Create(*out)
	pprof.StartCPUProfile(f)
	t := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				if *path != "" {
					do(*path)
				} else {
					do(fmt.Sprintf("/touch?i=%d", i))
				}
			}
		}()
	}
	wg.Wait()
	pprof.StopCPUProfile()
	el := time.Since(t)
	fmt.Printf("%d in %s: %.0f/s\n", *n, el, float64(*n)/el.Seconds())
}
