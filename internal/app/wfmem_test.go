package app

import (
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/workflows"
)

// A sleeping instance must cost no memory: its run is dropped, and nothing
// may keep the dropped run's promises alive (a shared never-settling promise
// once kept every one of them).
func TestSleepingInstancesHoldNoMemory(t *testing.T) {
	a, logs := load(t, map[string]string{
		"wrangler.jsonc": `{"name":"t","main":"worker.js","compatibility_date":"2026-11-01","workflows":[{"name":"w","binding":"WF","class_name":"W"}]}`,
		"worker.js": `import { WorkflowEntrypoint } from "cloudflare:workers";
export class W extends WorkflowEntrypoint {
  async run(event, step) {
    const big = await step.do("load", async () => "x".repeat(1000));
    await step.sleep("s", "1 hour");
    return big.length;
  }
}
export default { async fetch(req, env) {
  const from = Number(new URL(req.url).searchParams.get("from"));
  const batch = [];
  for (let i = 0; i < 100; i++) batch.push({id: "s" + (from + i)});
  await env.WF.createBatch(batch);
  return new Response("ok");
} }`,
	})
	n := 5000
	for i := 0; i < n; i += 100 {
		if code, body := get(t, a, "GET", fmt.Sprintf("/?from=%d", i), ""); code != 200 {
			t.Fatal(body, logs)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ins, _ := a.Workflows.Store().List(workflows.ListFilter{Status: workflows.Waiting, Limit: n + 1})
		if len(ins) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d instances asleep\n%s", len(ins), n, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	iso, err := a.workflowWorker.Isolate()
	if err != nil {
		t.Fatal(err)
	}
	// Dropped runs are cycles (an async function and its promises), which
	// the collector frees when it next runs; run it now.
	if err := iso.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
	js, _ := iso.Memory()
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	// Each run held a 1,000-character string: 5 MB if runs were kept.
	if js.MallocSize > 3<<20 {
		t.Errorf("the workflow isolate's heap is %d KiB with %d instances asleep: dropped runs are kept alive", js.MallocSize>>10, n)
	}
	if ms.HeapInuse > 32<<20 {
		t.Errorf("Go heap in use %d MiB with %d instances asleep", ms.HeapInuse>>20, n)
	}
	t.Logf("%d asleep: isolate heap %d KiB, Go heap in use %d KiB", n, js.MallocSize>>10, ms.HeapInuse>>10)
}
