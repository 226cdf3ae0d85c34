package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/workflows"
)

// A sleeping dynamically dispatched instance holds nothing in memory: its
// run is dropped in the dispatcher's isolate, the calls between it and the
// tenant's isolate are abandoned, and the tenant's isolate, idle, is
// evicted.
func TestSleepingDynamicInstancesHoldNoMemory(t *testing.T) {
	dir := project(t, map[string]string{
		"wrangler.jsonc": `{"name":"t","main":"worker.js","compatibility_date":"2026-04-01",
  "worker_loaders":[{"binding":"LOADER"}],
  "workflows":[{"name":"dyn","binding":"WORKFLOWS","class_name":"DynamicWorkflow"}]}`,
		"worker.js": `
import { createDynamicWorkflowEntrypoint, DynamicWorkflowBinding, wrapWorkflowBinding } from "@cloudflare/dynamic-workflows";
export { DynamicWorkflowBinding };
const CODE = ` + "`" + `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const big = await step.do("load", async () => "x".repeat(1000));
    await step.sleep("s", "1 hour");
    return big.length;
  }
}
export default { async fetch(req, env) {
  const from = Number(new URL(req.url).searchParams.get("from"));
  const batch = [];
  for (let i = 0; i < 100; i++) batch.push({ id: "s" + (from + i) });
  await env.WORKFLOWS.createBatch(batch);
  return new Response("ok");
} };` + "`" + `;
const load = (env) => env.LOADER.get("tenant", () => ({
  compatibilityDate: "2026-01-01", mainModule: "index.js", modules: { "index.js": CODE },
  env: { WORKFLOWS: wrapWorkflowBinding({}) },
}));
export const DynamicWorkflow = createDynamicWorkflowEntrypoint(async ({ env }) => load(env).getEntrypoint("TenantWorkflow"));
export default { fetch(request, env) { return load(env).getEntrypoint().fetch(request); } };`,
	})
	a, logs := loadLinked(t, dir, Options{Loader: runtime.LoaderLimits{Idle: 200 * time.Millisecond}})
	n := 2000
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
			c, _ := a.Workflows.Counts()
			t.Fatalf("only %d of %d instances asleep: %v\n%s\n%s", len(ins), n, c, logs, a.debugLog(workflows.ListFilter{Status: workflows.Queued, Limit: 5}))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Nothing is in flight any more: the idle sweep (every Idle/4) closes
	// the tenant's isolate.
	for deadline := time.Now().Add(5 * time.Second); a.Loaders.Stats().LiveIsolates > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the tenant's isolate is still live with every instance asleep: %+v", a.Loaders.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	iso, err := a.workflowWorker.Isolate()
	if err != nil {
		t.Fatal(err)
	}
	// Dropped runs are cycles that the collector frees when it runs; the
	// stubs among them then release what they hold, in jobs that run after
	// the collection, leaving more garbage for the next one.
	for i := 0; i < 3; i++ {
		if err := iso.CollectGarbage(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	js, _ := iso.Memory()
	// Each run held a 1,000-character string (and a stub, a step object, an
	// event): 2 MB and more if runs were kept. The heap is ~540 KiB with
	// 100 or 4,000 instances asleep.
	if js.MallocSize > 1<<20 {
		t.Errorf("the dispatcher's workflow isolate heap is %d KiB with %d instances asleep: dropped runs are kept alive\n%s", js.MallocSize>>10, n, logs)
	}
	t.Logf("%d asleep: dispatcher isolate heap %d KiB; loader %+v", n, js.MallocSize>>10, a.Loaders.Stats())
}

// A tenant's step that kills the tenant's isolate (its CPU limit) costs that
// instance a run, as when the workflow's own isolate dies: it runs again,
// fails after its third loss with the limit's error, and nothing else is
// affected: the dispatcher, and another tenant's instance.
func TestDynamicStepKillingItsIsolate(t *testing.T) {
	dir := project(t, map[string]string{
		"wrangler.jsonc": `{"name":"t","main":"worker.js","compatibility_date":"2026-04-01",
  "worker_loaders":[{"binding":"LOADER"}],
  "workflows":[{"name":"dyn","binding":"WORKFLOWS","class_name":"DynamicWorkflow"}]}`,
		"worker.js": `
import { createDynamicWorkflowEntrypoint, DynamicWorkflowBinding, wrapWorkflowBinding } from "@cloudflare/dynamic-workflows";
export { DynamicWorkflowBinding };
const code = (body) => ` + "`" + `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const a = await step.do("first", async () => 1);
    return step.do("second", async () => { ${body} });
  }
}
export default { async fetch(req, env) {
  const inst = await env.WORKFLOWS.create({ id: new URL(req.url).searchParams.get("id") });
  return new Response(await inst.id);
} };` + "`" + `;
const BODY = { spin: "for (;;) {}", fine: "return 'fine';" };
const load = (env, tenant) => env.LOADER.get(tenant, () => ({
  compatibilityDate: "2026-01-01", mainModule: "index.js", modules: { "index.js": code(BODY[tenant]) },
  env: { WORKFLOWS: wrapWorkflowBinding({ tenant }) }, limits: { cpuMs: 50 },
}));
export const DynamicWorkflow = createDynamicWorkflowEntrypoint(async ({ env, metadata }) => load(env, metadata.tenant).getEntrypoint("TenantWorkflow"));
export default { fetch(request, env) {
  return load(env, new URL(request.url).searchParams.get("tenant")).getEntrypoint().fetch(request);
} };`,
	})
	a, logs := loadLinked(t, dir, Options{})
	for _, tenant := range []string{"spin", "fine"} {
		if code, body := get(t, a, "GET", "/?tenant="+tenant+"&id="+tenant, ""); code != 200 || body != tenant {
			t.Fatalf("create %s: %d %s\n%s", tenant, code, body, logs)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		spin, _ := a.Workflows.Instance("dyn", "spin")
		fine, _ := a.Workflows.Instance("dyn", "fine")
		if spin != nil && fine != nil && spin.Status == workflows.Errored && fine.Status == workflows.Complete {
			if !strings.Contains(spin.Error.Message, "CPU time limit") {
				t.Fatalf("spin failed with %+v, want the CPU limit", spin.Error)
			}
			if fine.Output.JSON != `"fine"` {
				t.Fatalf("fine's output: %s", fine.Output.JSON)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spin %+v, fine %+v\n%s", spin, fine, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "dyn/spin: its isolate died"); n != 2 {
		t.Fatalf("spin was run again %d times, want 2 (then failed)\n%s", n, logs)
	}
}
