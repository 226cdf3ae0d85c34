// The Workflows benchmark's worker: the same on Isola and on wrangler dev.
import { WorkflowEntrypoint } from "cloudflare:workers";

// Three steps, each using the one before.
export class ThreeSteps extends WorkflowEntrypoint {
  async run(event, step) {
    const a = await step.do("one", async () => event.payload.n);
    const b = await step.do("two", async () => a + 1);
    return await step.do("three", async () => b + 1);
  }
}

// Sleeps until payload.at (ms since the epoch), then reports how late it
// woke.
export class Sleeper extends WorkflowEntrypoint {
  async run(event, step) {
    await step.sleepUntil("until", event.payload.at);
    return await step.do("woke", async () => ({ late: Date.now() - event.payload.at }));
  }
}

function binding(env, url) {
  return url.searchParams.get("wf") === "sleeper" ? env.SLEEPER : env.THREE;
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/create": {
        // One instance per request: what wrk drives for creates/s.
        await env.THREE.create({ params: { n: 1 } });
        return new Response("ok");
      }
      case "/batch": {
        // ?n=&prefix=&from=&wf=&at=&spread=&total=: instances
        // <prefix><from>..<from+n-1>; instance k of total wakes at
        // at + spread*k/total.
        const n = Number(url.searchParams.get("n"));
        const prefix = url.searchParams.get("prefix");
        const from = Number(url.searchParams.get("from"));
        const at = Number(url.searchParams.get("at"));
        const spread = Number(url.searchParams.get("spread") || 0);
        const total = Number(url.searchParams.get("total") || 1);
        const batch = [];
        for (let i = 0; i < n; i++) {
          batch.push({ id: prefix + (from + i), params: { n: i, at: at + Math.floor((spread * (from + i)) / total) } });
        }
        await binding(env, url).createBatch(batch);
        return new Response("ok");
      }
      case "/status": {
        // ?ids=a,b,c: how many are complete, and the outputs asked for.
        const ids = url.searchParams.get("ids").split(",");
        const out = { complete: 0, statuses: {}, outputs: [] };
        for (const id of ids) {
          const s = await (await binding(env, url).get(id)).status();
          out.statuses[s.status] = (out.statuses[s.status] || 0) + 1;
          if (s.status === "complete") {
            out.complete++;
            if (url.searchParams.has("outputs")) out.outputs.push(s.output);
          }
        }
        return Response.json(out);
      }
    }
    return new Response("ok");
  },
};
