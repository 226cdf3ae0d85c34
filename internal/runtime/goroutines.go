package runtime

import (
	"runtime"
	"sync/atomic"
)

// An isolate's loop runs the engine's deep frames: on a new goroutine, whose
// stack starts at 8 KiB, a cold start grows it to ~64 KiB by doublings,
// each copying the stack so far, and so does the first request after an
// idle spell (an idle isolate ends its goroutine, loop). So loops run on a
// few goroutines that, between loops, wait for the next one with their
// stacks grown. Only a few wait, however many isolates there are, so idle
// isolates still hold no stack (RATIONALE.md, "Isolates' loops run on
// goroutines that wait for the next loop").
var (
	// loops hands a loop to a waiting goroutine; unbuffered, so a send
	// succeeds only when one is waiting.
	loops = make(chan func())
	// waitingLoops counts the goroutines waiting on loops.
	waitingLoops atomic.Int32
)

// maxWaitingLoops bounds the goroutines kept waiting: as many as can run
// isolates at once, and a few for bursts.
var maxWaitingLoops = int32(runtime.GOMAXPROCS(0) + 1)

// goLoop runs loop on a waiting goroutine, or on a new one if none waits.
func goLoop(loop func()) {
	select {
	case loops <- loop:
	default:
		go runLoops(loop)
	}
}

func runLoops(loop func()) {
	for loop != nil {
		loop()
		loop = nextLoop()
	}
}

// loopStackFloor is the stack a waiting goroutine occupies: the collector
// halves a goroutine's stack while it uses less than a quarter of it, so a
// goroutine waiting in a frame this size keeps at least four times as much,
// 32 KiB, leaving a cold start one doubling at most. A 16 KiB floor cost
// resident memory per idle worker (RATIONALE.md).
const loopStackFloor = 8 << 10

// nextLoop waits for the next loop, or returns nil if enough goroutines
// wait already.
//
//go:noinline
func nextLoop() func() {
	if waitingLoops.Add(1) > maxWaitingLoops {
		waitingLoops.Add(-1)
		return nil
	}
	var floor [loopStackFloor]byte
	loop := <-loops
	waitingLoops.Add(-1)
	keepFrame(&floor)
	return loop
}

//go:noinline
func keepFrame(*[loopStackFloor]byte) {}
