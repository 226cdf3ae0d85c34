package server

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// BufferedLog batches log lines and writes them at most every interval:
// one write per request line would cost a system call per request, which
// under load is a measurable share of serving a small response. A line is
// never held longer than the interval.
type BufferedLog struct {
	mu    sync.Mutex
	w     *bufio.Writer
	dirty bool
	stop  chan struct{}
}

// NewBufferedLog starts the flusher; Close flushes and stops it.
func NewBufferedLog(w io.Writer, interval time.Duration) *BufferedLog {
	l := &BufferedLog{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.Flush()
			case <-l.stop:
				return
			}
		}
	}()
	return l
}

func (l *BufferedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirty = true
	return l.w.Write(p)
}

// Flush writes out what is buffered.
func (l *BufferedLog) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dirty {
		l.w.Flush()
		l.dirty = false
	}
}

// Close flushes and stops the flusher.
func (l *BufferedLog) Close() {
	close(l.stop)
	l.Flush()
}
