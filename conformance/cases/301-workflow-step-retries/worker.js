// step.do retries: constant, linear and exponential backoff with small
// delays (a number or a duration string), a delay function, retries running
// out (the error step.do throws), and limit 0. Each step fails until the
// attempt it wants and reports ctx.attempt; the time between steps that
// read the clock checks the backoff's lower bound without printing times.
import { WorkflowEntrypoint } from "cloudflare:workers";

const failUntil = (n) => async (ctx) => {
  if (ctx.attempt < n) throw new Error(`attempt ${ctx.attempt} of ${ctx.step.name} failed`);
  return { step: ctx.step.name, attempt: ctx.attempt };
};

async function timed(step, name, body) {
  const t0 = await step.do(`${name}:t0`, async () => Date.now());
  const result = await body();
  const t1 = await step.do(`${name}:t1`, async () => Date.now());
  return { result, elapsed: t1 - t0 };
}

const fmt = (e) => `${e.name}: ${e.message}`;

export class Retries extends WorkflowEntrypoint {
  async run(event, step) {
    const out = {};
    // constant: 2 failures, 100 ms each -> at least 200 ms
    let r = await timed(step, "constant", () =>
      step.do("constant", { retries: { limit: 3, delay: 100, backoff: "constant" } }, failUntil(3)));
    out.constant = { ...r.result, atLeast200ms: r.elapsed >= 200 };
    // linear: 100, 200 -> at least 300 ms
    r = await timed(step, "linear", () =>
      step.do("linear", { retries: { limit: 3, delay: 100, backoff: "linear" } }, failUntil(3)));
    out.linear = { ...r.result, atLeast300ms: r.elapsed >= 300 };
    // exponential with a duration string: 100, 200, 400 -> at least 700 ms
    r = await timed(step, "exponential", () =>
      step.do("exponential", { retries: { limit: 3, delay: "0.1 seconds", backoff: "exponential" } }, failUntil(4)));
    out.exponential = { ...r.result, atLeast700ms: r.elapsed >= 700 };
    // no backoff given: the default is exponential
    r = await timed(step, "default-backoff", () =>
      step.do("default-backoff", { retries: { limit: 2, delay: 100 } }, failUntil(3)));
    out.defaultBackoff = { ...r.result, atLeast300ms: r.elapsed >= 300 };
    // a delay function gets {ctx, error}: 100 ms after attempt 1, 200 ms after
    // attempt 2 (read from the error) -> at least 300 ms
    r = await timed(step, "delay-fn", () =>
      step.do(
        "delay-fn",
        {
          retries: {
            limit: 2,
            delay: ({ ctx, error }) => (error.message.startsWith(`attempt ${ctx.attempt} `) ? 100 * ctx.attempt : 5000),
          },
        },
        failUntil(3),
      ));
    out.delayFunction = { ...r.result, atLeast300ms: r.elapsed >= 300, under5s: r.elapsed < 5000 };
    // retries run out: limit 2 means 3 attempts, then step.do throws the last error
    try {
      await step.do("exhausted", { retries: { limit: 2, delay: 50, backoff: "constant" } }, failUntil(10));
      out.exhausted = "no error";
    } catch (e) {
      out.exhausted = fmt(e);
    }
    // limit 0: one attempt only
    try {
      await step.do("once", { retries: { limit: 0, delay: 50 } }, failUntil(2));
      out.once = "no error";
    } catch (e) {
      out.once = fmt(e);
    }
    // a TypeError keeps its name through step.do
    try {
      await step.do("typed", { retries: { limit: 1, delay: 50 } }, async (ctx) => {
        throw new TypeError(`bad type on attempt ${ctx.attempt}`);
      });
    } catch (e) {
      out.typed = fmt(e);
    }
    // a failed step is not run again when its name comes up again: it is a new step
    out.again = await step.do("once", { retries: { limit: 0, delay: 50 } }, async (ctx) => ctx.step);
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
        const inst = await env.WF.create({ id: "retries-1" });
        return Response.json({ id: inst.id });
      }
      if (url.pathname === "/status") return Response.json(await view(env, url.searchParams.get("id")));
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
