// Concurrent RPC calls into one dynamic worker: all complete, each gets its
// own result, calls interleave at awaits (the isolate is shared), and a
// failing call does not disturb the others.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      let log = [];
      export default class extends WorkerEntrypoint {
        async step(name, ms) {
          log.push("start " + name);
          await new Promise((r) => setTimeout(r, ms));
          log.push("end " + name);
          return name + " done";
        }
        async failAfter(ms) {
          await new Promise((r) => setTimeout(r, ms));
          throw new Error("failed after " + ms);
        }
        takeLog() { const l = log; log = []; return l; }
      }
    `,
  },
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("concurrency", () => code).getEntrypoint();
    await ep.takeLog();
    const settled = await Promise.allSettled([
      ep.step("slow", 60),
      ep.step("fast", 5),
      ep.failAfter(30),
      ep.step("medium", 90),
    ]);
    const log = await ep.takeLog();
    return Response.json({
      settled: settled.map((s) => s.status === "fulfilled" ? s.value : "rejected: " + s.reason.message),
      starts: log.filter((l) => l.startsWith("start")).sort(),
      ends: log.filter((l) => l.startsWith("end")),
    });
  },
};
