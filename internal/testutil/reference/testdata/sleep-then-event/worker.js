// TestStartWrangler's program: an instance greets, sleeps 2 s, waits for an
// "approve" event and returns what it got. /create, /status?id=, /send?id=.
import { WorkflowEntrypoint } from "cloudflare:workers";

export class SleepThenEvent extends WorkflowEntrypoint {
  async run(event, step) {
    const a = await step.do("greet", async () => `Hello, ${event.payload.name}!`);
    await step.sleep("nap", "2 seconds");
    const approval = await step.waitForEvent("approval", { type: "approve", timeout: "1 minute" });
    return step.do("after", async () => ({ a, got: approval.payload }));
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const id = url.searchParams.get("id");
    switch (url.pathname) {
      case "/create":
        return Response.json({ id: (await env.FLOW.create({ params: { name: "Alice" } })).id });
      case "/status":
        return Response.json(await (await env.FLOW.get(id)).status());
      case "/send":
        await (await env.FLOW.get(id)).sendEvent({ type: "approve", payload: { ok: true } });
        return Response.json({ sent: true });
    }
    return new Response("not found", { status: 404 });
  },
};
