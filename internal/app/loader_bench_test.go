package app

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/isola-run/isola/internal/runtime"
)

func benchLoader(b *testing.B, path string) {
	root, _ := os.Getwd()
	a, err := Load(filepath.Join(root, "..", "..", "bench", "workers", "loader"), log.New(io.Discard, "", 0))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		a.Worker.ServeHTTP(rec, httptest.NewRequest("GET", "http://x"+path, nil), runtime.ServeOptions{})
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

func BenchmarkLoaderWarm(b *testing.B) { benchLoader(b, "/warm") }
func BenchmarkLoaderCold(b *testing.B) { benchLoader(b, "/cold") }
