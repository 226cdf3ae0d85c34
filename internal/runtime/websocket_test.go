package runtime

import (
	"strings"
	"testing"
	"time"
)

// Ends are Go memory the isolate's limit does not see: a pair that became
// garbage is forgotten, and an isolate may hold only so many at once.
func TestWebSocketEndsAreBounded(t *testing.T) {
	s := compileWorker(t, "wscap", `
const held = [];
export default { async fetch(req) {
  if (req.method === "POST") {
    let made = 0, refused = "";
    try { for (;;) { held.push(new WebSocketPair()); made++; } } catch (e) { refused = e.name + ": " + e.message; }
    held.length = 0;
    return new Response(made + " " + refused);
  }
  for (let i = 0; i < 5000; i++) new WebSocketPair();
  await new Promise((r) => setTimeout(r, 1));
  return new Response("ok");
} };`)
	iso, err := NewIsolate(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	count := func() int {
		n := 0
		wsAll.Range(func(k, v any) bool {
			e := v.(*wsEnd)
			e.pipe.mu.Lock()
			if e.owner == iso {
				n++
			}
			e.pipe.mu.Unlock()
			return true
		})
		return n
	}
	for i := 0; i < 10; i++ {
		if code, body := serveOnce(t, iso, "GET", ""); code != 200 || body != "ok" {
			t.Fatalf("%d %q", code, body)
		}
	}
	if n := count(); n > 2*5000 {
		t.Fatalf("%d ends still known after 50,000 pairs were made and dropped", n)
	}
	code, body := serveOnce(t, iso, "POST", "")
	if code != 200 || !strings.HasSuffix(body, " RangeError: Too many WebSockets open in this worker (32768); close some first.") {
		t.Fatalf("%d %q", code, body)
	}
	if code, body := serveOnce(t, iso, "GET", ""); code != 200 || body != "ok" {
		t.Fatalf("after the cap: %d %q", code, body)
	}
}

// What JavaScript sends on a WebSocket waits behind the output gate, as a
// reply does: while a commit's fsync runs, a message sent after it is held
// (a Durable Object that wrote, then said so, must not be heard before the
// write is on disk).
func TestWebSocketSendsWaitForTheOutputGate(t *testing.T) {
	iso := startIsolate(t, `
const heard = [];
let a;
export default { fetch(req) {
  if (req.method === "POST") {
    const [x, y] = Object.values(new WebSocketPair());
    a = x;
    x.accept();
    y.accept();
    y.addEventListener("message", (e) => heard.push(e.data));
    a.send("after the write");
    return new Response("sent");
  }
  return new Response(JSON.stringify(heard));
} };`)
	slow := make(chan struct{})
	started := make(chan struct{})
	iso.post(func() {
		b := &syncBatch{syncs: []storeSync{{0, func() error { <-slow; return nil }}}, done: make(chan struct{})}
		iso.syncing = append(iso.syncing, b)
		go iso.sync(b, nil)
		close(started)
	})
	<-started
	if code, body := serveOnce(t, iso, "POST", ""); code != 200 || body != "sent" {
		t.Fatalf("%d %q", code, body)
	}
	time.Sleep(50 * time.Millisecond)
	if _, body := serveOnce(t, iso, "GET", ""); body != "[]" {
		t.Fatalf("heard before the fsync ended: %s", body)
	}
	close(slow)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, body := serveOnce(t, iso, "GET", ""); body == `["after the write"]` {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("never heard: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Bytes waiting at ends nobody reads are Go memory: an isolate may queue
// at most wsMaxQueuedIsolate across all its ends, however many pairs it
// makes (past it, the connection that overflows is closed with 1009).
func TestWebSocketQueuesAreBoundedPerIsolate(t *testing.T) {
	iso := startIsolate(t, `
const held = [];
export default { fetch() {
  const big = "x".repeat(8 << 20);
  for (let p = 0; p < 6; p++) {
    const pair = new WebSocketPair();
    held.push(pair);
    const a = pair[0];
    a.accept();
    for (let i = 0; i < 5; i++) a.send(big); // 40 MiB toward an end never accepted
  }
  return new Response("sent");
} };`)
	if code, body := serveOnce(t, iso, "GET", ""); code != 200 || body != "sent" {
		t.Fatalf("%d %q", code, body)
	}
	if q := iso.wsQueued.Load(); q > wsMaxQueuedIsolate || q < wsMaxQueuedIsolate/2 {
		t.Fatalf("%d bytes queued; want at most %d (and some)", q, wsMaxQueuedIsolate)
	}
}
