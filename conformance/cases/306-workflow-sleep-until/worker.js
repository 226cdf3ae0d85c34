// step.sleepUntil with a Date and with epoch milliseconds (targets taken in
// steps, so a replay sleeps until the same instant), and a target in the
// past, which the local engine rejects.
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;

export class Until extends WorkflowEntrypoint {
  async run(event, step) {
    const out = {};
    const dateTarget = await step.do("date-target", async () => Date.now() + 300);
    await step.sleepUntil("until-date", new Date(dateTarget));
    const afterDate = await step.do("after-date", async () => Date.now());
    out.date = afterDate >= dateTarget;

    const numberTarget = await step.do("number-target", async () => Date.now() + 200);
    await step.sleepUntil("until-number", numberTarget);
    const afterNumber = await step.do("after-number", async () => Date.now());
    out.number = afterNumber >= numberTarget;

    try {
      await step.sleepUntil("in-the-past", new Date(Date.UTC(2020, 0, 1)));
      out.past = "no error";
    } catch (e) {
      out.past = fmt(e);
    }
    return out;
  }
}

async function view(env, id) {
  const s = await (await env.WF.get(id)).status();
  const v = { status: s.status, output: s.output };
  if (s.error !== undefined) v.error = { name: s.error.name, message: s.error.message };
  return v;
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    try {
      if (url.pathname === "/create") {
        const inst = await env.WF.create({ id: "until-1" });
        return Response.json({ id: inst.id });
      }
      if (url.pathname === "/status") return Response.json(await view(env, url.searchParams.get("id")));
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
