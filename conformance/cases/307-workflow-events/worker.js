// step.waitForEvent and instance.sendEvent: events sent before the instance
// waits for them are kept, in order, per type; the event's shape; an event
// sent while the instance waits; event types the local engine does not
// check; sending to a finished instance and to a missing one.
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;
const shape = (ev) => ({
  payload: ev.payload,
  type: ev.type,
  timestampIsDate: ev.timestamp instanceof Date,
  keys: Object.keys(ev).sort(),
});

export class Events extends WorkflowEntrypoint {
  async run(event, step) {
    switch (event.payload.mode) {
      case "early": {
        await step.sleep("let the events arrive first", 300);
        const first = await step.waitForEvent("first go", { type: "go", timeout: "1 minute" });
        const second = await step.waitForEvent("second go", { type: "go", timeout: "1 minute" });
        const other = await step.waitForEvent("other", { type: "other", timeout: "1 minute" });
        return { first: shape(first), second: second.payload, other: other.payload };
      }
      case "late": {
        const ev = await step.waitForEvent("late", { type: "late", timeout: "1 minute" });
        return ev.payload;
      }
      case "odd": {
        const ev = await step.waitForEvent("odd", { type: "bad type!", timeout: "1 minute" });
        return ev.payload;
      }
    }
    return "no mode";
  }
}

async function view(env, id) {
  const s = await (await env.WF.get(id)).status();
  const v = { status: s.status, output: s.output };
  if (s.error !== undefined) v.error = { name: s.error.name, message: s.error.message };
  return v;
}

async function attempt(f) {
  try {
    const v = await f();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return fmt(e);
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const id = url.searchParams.get("id");
    try {
      switch (url.pathname) {
        case "/create-early": {
          // The events go out right after create, before the instance waits.
          const inst = await env.WF.create({ id: "ev-early", params: { mode: "early" } });
          const sent = [];
          sent.push(await attempt(() => inst.sendEvent({ type: "go", payload: { n: 1 } })));
          sent.push(await attempt(() => inst.sendEvent({ type: "other", payload: "x" })));
          sent.push(await attempt(() => inst.sendEvent({ type: "go", payload: { n: 2 } })));
          return Response.json(sent);
        }
        case "/create-late":
          return Response.json((await env.WF.create({ id: "ev-late", params: { mode: "late" } })).id);
        case "/send-late":
          return Response.json(await attempt(async () => (await env.WF.get("ev-late")).sendEvent({ type: "late", payload: [1, 2, 3] })));
        case "/odd-types": {
          const inst = await env.WF.create({ id: "ev-odd", params: { mode: "odd" } });
          return Response.json({
            spaces: await attempt(() => inst.sendEvent({ type: "bad type!", payload: "odd" })),
            noType: await attempt(() => inst.sendEvent({ payload: "no type" })),
          });
        }
        case "/send-finished":
          return Response.json(await attempt(async () => (await env.WF.get("ev-late")).sendEvent({ type: "late", payload: "again" })));
        case "/send-missing":
          return Response.json(await attempt(async () => (await env.WF.get("no-such-instance")).sendEvent({ type: "go" })));
        case "/status":
          return Response.json(await view(env, id));
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
