package runtime

import (
	"bytes"
	"compress/gzip"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func serveOnce(t *testing.T, iso *Isolate, method, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, "http://x/", strings.NewReader(body))
	iso.ServeHTTP(rec, req, ServeOptions{DevErrors: true})
	return rec.Code, rec.Body.String()
}

// A compressor's tables are Go memory the isolate's limit does not see, so
// an isolate may hold only so many streams open; closing one frees its place.
func TestCompressionStreamsOpenAtOnceAreBounded(t *testing.T) {
	s := compileWorker(t, "cap", `
const held = [];
export default { async fetch() {
  let made = 0, refused = "";
  try { for (;;) { held.push(new CompressionStream("gzip")); made++; } }
  catch (e) { refused = e.name + ": " + e.message; }
  const w = held.pop().writable.getWriter();
  await w.close();
  new DecompressionStream("gzip"); // takes no place until it closes
  held.push(new CompressionStream("deflate"));
  return new Response(made + " | " + refused);
} };`)
	iso, err := NewIsolate(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	code, body := serveOnce(t, iso, "GET", "")
	if code != 200 || !strings.HasPrefix(body, "16 | RangeError: Too many CompressionStreams") {
		t.Fatalf("%d %q", code, body)
	}
}

// Input that decompresses to more than the isolate may hold fails its own
// request at the memory limit; the next isolate serves as before.
func TestDecompressionBombFailsOnlyItsRequest(t *testing.T) {
	var bomb bytes.Buffer
	z := gzip.NewWriter(&bomb)
	z.Write(make([]byte, 96<<20))
	z.Close()
	s := compileWorker(t, "bomb", `
export default { async fetch(req) {
  if (req.method === "GET") return new Response("fine");
  const out = req.body.pipeThrough(new DecompressionStream("gzip"));
  const kept = [];
  for await (const chunk of out) kept.push(chunk);
  return new Response(String(kept.length));
} };`)
	limits := DefaultLimits
	limits.Memory = 32 << 20
	iso, err := NewIsolate(s, Options{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	start := time.Now()
	code, body := serveOnce(t, iso, "POST", bomb.String())
	if code != 500 || !strings.Contains(strings.ToLower(body), "memory") {
		t.Fatalf("the bomb: %d %q", code, body)
	}
	t.Logf("%d KB of gzip failed in %v: %s", bomb.Len()>>10, time.Since(start).Round(time.Millisecond), body)
	next, err := NewIsolate(s, Options{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if code, body := serveOnce(t, next, "GET", ""); code != 200 || body != "fine" {
		t.Fatalf("after the bomb: %d %q", code, body)
	}
}
