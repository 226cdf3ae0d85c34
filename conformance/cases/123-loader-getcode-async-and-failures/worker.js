// getCode may be async; it is called with no arguments; concurrent first
// uses of one id share one getCode call. A failure is cached with the id:
// when getCode threw, or returned code that fails to start, later get()s of
// that id (even in later requests) rethrow the same error without calling
// getCode again.
const good = (tag) => ({
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      let n = 0;
      export default class extends WorkerEntrypoint { hello() { return "${tag} #" + (++n); } }
    `,
  },
});

const probe = async (fn) => {
  try {
    return await fn();
  } catch (e) {
    // Line and column numbers are the engine's, so they are masked.
    return "threw " + e.name + ": " + e.message.replace(/(\.js):\d+(:\d+)?/g, "$1:<line>");
  }
};

let failing = 0;
let broken = 0;

export default {
  async fetch(request, env) {
    const out = {};
    let asyncCalls = 0;
    let argCount;
    const asyncStub = env.LOADER.get("async-" + new URL(request.url).pathname, async (...args) => {
      asyncCalls++;
      argCount = args.length;
      await new Promise((r) => setTimeout(r, 5));
      return good("async");
    });
    out.async = await probe(() => asyncStub.getEntrypoint().hello());
    out.argCount = argCount;

    // Several calls before the isolate is up: one getCode call.
    let concurrentCalls = 0;
    const c = env.LOADER.get("concurrent-" + new URL(request.url).pathname, async () => {
      concurrentCalls++;
      await new Promise((r) => setTimeout(r, 5));
      return good("concurrent");
    });
    const results = await Promise.all([1, 2, 3].map(() => c.getEntrypoint().hello()));
    out.concurrent = results.sort();
    out.concurrentCalls = concurrentCalls;
    out.asyncCalls = asyncCalls;

    // A getCode that throws the first time and then succeeds. The id is the
    // same across requests, so the second request shows whether the failure
    // was cached.
    const flaky = () => env.LOADER.get("flaky", () => {
      failing++;
      if (failing === 1) throw new Error("first getCode call fails");
      return good("flaky");
    });
    out.flakyFirst = await probe(() => flaky().getEntrypoint().hello());
    out.flakySecond = await probe(() => flaky().getEntrypoint().hello());
    out.flakyCalls = failing;

    // getCode returning code that fails to start.
    const brokenStub = () => env.LOADER.get("broken", () => {
      broken++;
      return { compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": "throw new Error('startup failure ' + 1)" } };
    });
    out.brokenFirst = await probe(() => brokenStub().getEntrypoint().hello());
    out.brokenSecond = await probe(() => brokenStub().getEntrypoint().hello());
    out.brokenCalls = broken;
    return Response.json(out);
  },
};
