package app

import (
	"encoding/json"
	"io"
	"log"
	"strings"
	"testing"
	"time"
)

// The dynamic-workflows example's two requests, in process: what one
// instance costs the dispatcher and its tenant beyond the workflow's own
// steps (bench/dynworkflows measures the whole, against wrangler dev).

func benchExampleRequest(b *testing.B, a *App, method, path, body string) string {
	code, out := tenantRequest(b, workerHandler{a}, method, path, body)
	if code != 200 {
		b.Fatalf("%s %s: %d %s", method, path, code, out)
	}
	return out
}

func loadExampleForBench(b *testing.B) *App {
	a, err := Load(dynamicWorkflowsExample(b), log.New(io.Discard, "", 0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	return a
}

// BenchmarkDynamicWorkflowsCreate: POST / (tenant fetch, the loopback
// binding's create, `await instance.id`); the instances run meanwhile.
func BenchmarkDynamicWorkflowsCreate(b *testing.B) {
	a := loadExampleForBench(b)
	benchExampleRequest(b, a, "POST", "/", `{"name":"Alice"}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchExampleRequest(b, a, "POST", "/", `{"name":"Alice"}`)
	}
}

// BenchmarkDynamicWorkflowsStatus: GET /status?id= of a complete instance
// (tenant fetch, the loopback binding's get, status() on the stub).
func BenchmarkDynamicWorkflowsStatus(b *testing.B) {
	a := loadExampleForBench(b)
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(benchExampleRequest(b, a, "POST", "/", `{"name":"Alice"}`)), &created); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if strings.Contains(benchExampleRequest(b, a, "GET", "/status?id="+created.ID, ""), `"complete"`) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the instance never completed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchExampleRequest(b, a, "GET", "/status?id="+created.ID, "")
	}
}
