package runtime

import (
	"strings"
	"testing"
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
