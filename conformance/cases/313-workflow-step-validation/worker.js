// Bad input to step.do: step names with control characters or over 256
// characters, config with unknown keys, timeout 0, a negative timeout,
// durations that do not parse, a retry limit that is not a number, and a
// missing callback. The workflow catches each error and goes on; an
// instance that does not catch one fails with it.
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;
const one = async () => 1;

export class Validator extends WorkflowEntrypoint {
  async run(event, step) {
    if (event.payload.uncaught) {
      await step.do("bad\u0001name", one);
      return "unreachable";
    }
    const out = {};
    const check = async (label, f) => {
      try {
        out[label] = { ok: await f() };
      } catch (e) {
        out[label] = fmt(e);
      }
    };
    await check("newline", () => step.do("bad\nname", one));
    // (a NUL is refused too, but workerd cuts the error message at the NUL
    // on its way back, so it is left out)
    await check("unitSeparator", () => step.do("bad\u001fname", one));
    await check("tab", () => step.do("tab\there", one));
    await check("del", () => step.do("del\u007fok", one));
    await check("length256", () => step.do("n".repeat(256), one));
    await check("length257", () => step.do("n".repeat(257), one));
    await check("unicode", () => step.do("étape ✓", one));
    await check("unknownKey", () => step.do("unknown-key", { retries: { limit: 1, delay: 10 }, foo: 1 }, one));
    await check("unknownRetryKey", () => step.do("unknown-retry-key", { retries: { limit: 1, delay: 10, jitter: true } }, one));
    await check("retriesWithoutDelay", () => step.do("no-delay", { retries: { limit: 1 } }, one));
    await check("badBackoff", () => step.do("bad-backoff", { retries: { limit: 1, delay: 10, backoff: "random" } }, one));
    await check("limitString", () => step.do("limit-string", { retries: { limit: "3", delay: 10 } }, one));
    await check("timeout0", () => step.do("timeout-0", { timeout: 0 }, one));
    await check("negativeTimeout", () => step.do("negative-timeout", { timeout: -5 }, one));
    await check("badTimeoutString", () => step.do("bad-timeout", { timeout: "soon" }, one));
    await check("badDelayString", () => step.do("bad-delay", { retries: { limit: 1, delay: "later" } }, one));
    await check("emptyConfig", () => step.do("empty-config", {}, one));
    await check("noCallback", () => step.do("no-callback", {}));
    await check("sensitive", () => step.do("sensitive", { sensitive: "output" }, one));
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
        const a = await env.WF.create({ id: "validate-caught" });
        const b = await env.WF.create({ id: "validate-uncaught", params: { uncaught: true } });
        return Response.json([a.id, b.id]);
      }
      if (url.pathname === "/status") return Response.json(await view(env, url.searchParams.get("id")));
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
