package app

import (
	"io"
	"log"
	"net/http/httptest"
	"testing"

	"github.com/isola-run/isola/internal/runtime"
)

// BenchmarkHelloInProcess measures one request through the worker without
// the network: the runtime's own cost per request.
func BenchmarkHelloInProcess(b *testing.B) {
	dir := project(&testing.T{}, map[string]string{
		"worker.js": `export default { fetch(req) { return new Response("Hello World!"); } };`,
	})
	a, err := Load(dir, log.New(io.Discard, "", 0))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Worker.Close()
	req := httptest.NewRequest("GET", "http://localhost/", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		a.Worker.ServeHTTP(rec, req, runtime.ServeOptions{})
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
