// Command websockets benchmarks WebSocket echo round trips on Isola and on
// workerd (from npm) in one run: -connections clients, each sending a
// message and waiting for its echo, for -duration, against two servers in
// bench/workers/websockets: the worker itself (accept() and a listener) and
// one Durable Object per client that accepted the socket for hibernation
// (webSocketMessage). It prints round trips/s and the ratio. There is no
// goal for it yet; it shows where a message's cost goes when one is set.
//
//	go run ./bench/websockets [-duration 5s] [-connections 16] [-rounds 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/isola-run/isola/bench/internal/benchutil"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "load duration per figure")
	conns := flag.Int("connections", 16, "concurrent connections")
	rounds := flag.Int("rounds", 3, "rounds, each runtime in turn")
	flag.Parse()
	worker, bin := benchutil.Setup("websockets")
	fmt.Printf("WebSocket echo, %d connections, %s per figure, one runtime at a time on this machine\n\n", *conns, *duration)
	benchutil.CompareRounds(worker, bin, *rounds, []string{"/worker", "/object"}, "round trips/s", func(_ string, port int, path string) float64 {
		return echo(port, path, *conns, *duration)
	})
}

// echo runs conns clients against path for d and returns round trips/s.
func echo(port int, path string, conns int, d time.Duration) float64 {
	var total atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := 0; c < conns; c++ {
		url := fmt.Sprintf("ws://127.0.0.1:%d%s?room=r%d", port, path, c)
		conn, _, err := websocket.Dial(context.Background(), url, nil)
		benchutil.Check(err)
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			defer conn.CloseNow()
			<-start
			msg := []byte("message from client " + strconv.Itoa(c))
			ctx := context.Background()
			for deadline := time.Now().Add(d); time.Now().Before(deadline); {
				benchutil.Check(conn.Write(ctx, websocket.MessageText, msg))
				_, got, err := conn.Read(ctx)
				benchutil.Check(err)
				if !strings.HasSuffix(string(got), strconv.Itoa(c)) {
					panic(fmt.Sprintf("client %d got %q", c, got))
				}
				total.Add(1)
			}
		}(c)
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	return float64(total.Load()) / time.Since(t0).Seconds()
}
