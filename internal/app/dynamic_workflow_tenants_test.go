package app

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/workflows"
)

// Ten thousand tenants, each with workflow code of its own, one instance
// each, behind one dispatcher whose loader keeps far fewer isolates (and
// workers) than there are tenants: every instance completes with its own
// tenant's output. Its tenant's isolate is loaded when the instance starts
// and again when it wakes from its sleep, most often evicted in between.
//
// ISOLA_TENANTS sets the count (default 10,000; -short: 1,000).
func TestManyTenantsDynamicWorkflows(t *testing.T) {
	tenants := 10000
	if testing.Short() {
		tenants = 1000
	}
	if s := os.Getenv("ISOLA_TENANTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ISOLA_TENANTS=%q: %v", s, err)
		}
		tenants = n
	}
	dir := project(t, map[string]string{
		"wrangler.jsonc": `{"name":"tenants","main":"worker.js","compatibility_date":"2026-04-01",
  "worker_loaders":[{"binding":"LOADER"}],
  "workflows":[{"name":"dyn","binding":"WORKFLOWS","class_name":"DynamicWorkflow"}]}`,
		"worker.js": `
import { createDynamicWorkflowEntrypoint, DynamicWorkflowBinding, wrapWorkflowBinding } from "@cloudflare/dynamic-workflows";
export { DynamicWorkflowBinding };

// Each tenant's code differs (its own constant), so each compiles apart.
function tenantCode(n) {
  return ` + "`" + `
import { WorkflowEntrypoint } from "cloudflare:workers";
const MINE = ${n};
export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const a = await step.do("double", async () => MINE * 2);
    await step.sleep("rest", 300);
    const b = await step.do("add", async () => a + event.payload.add);
    return "tenant " + MINE + ": " + b;
  }
}
export default {
  async fetch(request, env) {
    const inst = await env.WORKFLOWS.create({ id: "i-" + MINE, params: { add: 7 } });
    return new Response(await inst.id);
  },
};` + "`" + `;
}

function loadTenant(env, tenant) {
  return env.LOADER.get("t-" + tenant, () => ({
    compatibilityDate: "2026-01-01",
    mainModule: "index.js",
    modules: { "index.js": tenantCode(Number(tenant)) },
    env: { WORKFLOWS: wrapWorkflowBinding({ tenant }) },
  }));
}

export const DynamicWorkflow = createDynamicWorkflowEntrypoint(async ({ env, metadata }) =>
  loadTenant(env, metadata.tenant).getEntrypoint("TenantWorkflow"));

export default {
  fetch(request, env) {
    return loadTenant(env, new URL(request.url).searchParams.get("tenant")).getEntrypoint().fetch(request);
  },
};`,
	})
	limits := runtime.LoaderLimits{Isolates: 20, Workers: 1000}
	a, logs := loadLinked(t, dir, Options{Loader: limits})

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failures []string
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= tenants {
					return
				}
				code, body := get(t, a, "GET", fmt.Sprintf("/?tenant=%d", i), "")
				if code != 200 || body != fmt.Sprintf("i-%d", i) {
					failMu.Lock()
					failures = append(failures, fmt.Sprintf("tenant %d: %d %s", i, code, body))
					failMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d creates failed, first: %s\n%s", len(failures), failures[0], tail(logs.String(), 4000))
	}
	created := time.Since(start)

	deadline := time.Now().Add(10 * time.Minute)
	for {
		counts, err := a.Workflows.Counts()
		if err != nil {
			t.Fatal(err)
		}
		done := counts["dyn"][workflows.Complete] + counts["dyn"][workflows.Errored] + counts["dyn"][workflows.Terminated]
		if done == tenants {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d instances finished after 10 minutes: %v\n%s", done, tenants, counts["dyn"], tail(logs.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	finished := time.Since(start)

	ins, err := a.Workflows.Store().List(workflows.ListFilter{Workflow: "dyn", Limit: tenants + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != tenants {
		t.Fatalf("%d instances stored, want %d", len(ins), tenants)
	}
	bad := 0
	for _, in := range ins {
		n, _ := strconv.Atoi(strings.TrimPrefix(in.ID, "i-"))
		want := fmt.Sprintf(`"tenant %d: %d"`, n, n*2+7)
		if in.Status != workflows.Complete || in.Output == nil || in.Output.JSON != want {
			if bad++; bad <= 5 {
				t.Errorf("%s: %s, output %v, error %v (want %s)", in.ID, in.Status, in.Output, in.Error, want)
			}
			continue
		}
		if !strings.HasPrefix(in.CodeStarted, fmt.Sprintf("t-%d@", n)) {
			t.Errorf("%s ran on code %q, not its tenant's", in.ID, in.CodeStarted)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d instances wrong\n%s", bad, tenants, tail(logs.String(), 4000))
	}
	st := a.Loaders.Stats()
	if st.LiveIsolates > limits.Isolates || st.Workers > limits.Workers {
		t.Errorf("loader over budget: %+v, limits %+v", st, limits)
	}
	// Each tenant's isolate starts for its create request; a tenant whose
	// isolate was evicted before its instance ran, or while it slept,
	// starts again.
	if st.IsolatesStarted <= int64(tenants) {
		t.Errorf("%d isolates started for %d tenants: no tenant was evicted and loaded again, which the test exists to show", st.IsolatesStarted, tenants)
	}
	t.Logf("%d tenants: created in %v, all complete in %v; loader %+v (limits: %d isolates, %d workers); resident memory %d MiB",
		tenants, created.Round(time.Millisecond), finished.Round(time.Millisecond), st, limits.Isolates, limits.Workers, selfRSS()>>20)
}

// selfRSS is this process's resident memory in bytes (Linux), 0 elsewhere.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
