package server

import (
	"bytes"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/bundle"
	"github.com/isola-run/isola/internal/runtime"
)

func TestDevServesAndLogs(t *testing.T) {
	b, err := bundle.Build(bundle.Options{Main: "w.js", Modules: map[string]bundle.Module{
		"w.js": {Type: "js", Source: `export default { fetch(r) { if (r.url.endsWith("/boom")) throw new Error("boom"); return new Response("hi", { status: 201 }); } };`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.Compile("w", b)
	if err != nil {
		t.Fatal(err)
	}
	w := runtime.NewWorker(s, runtime.Options{})
	defer w.Close()
	var logs bytes.Buffer
	addrs := make(chan net.Addr, 1)
	go Listen("127.0.0.1:0", &Dev{Worker: w, Log: log.New(&logs, "", 0)}, func(a net.Addr) { addrs <- a })
	var addr net.Addr
	select {
	case addr = <-addrs:
	case <-time.After(5 * time.Second):
		t.Fatal("not listening")
	}
	resp, err := http.Get("http://" + addr.String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + addr.String() + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	out := logs.String()
	if !strings.Contains(out, "GET /x 201 Created") || !strings.Contains(out, "GET /boom 500 Internal Server Error") || !strings.Contains(out, "Error: boom") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestBufferedLogFlushes(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	l := NewBufferedLog(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return got.Write(p) }), 10*time.Millisecond)
	l.Write([]byte("line\n"))
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		s := got.String()
		mu.Unlock()
		if s == "line\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not flushed: %q", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.Write([]byte("last\n"))
	l.Close()
	if !strings.HasSuffix(got.String(), "last\n") {
		t.Fatalf("Close did not flush: %q", got.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
