// Plain-string modules (ES modules for .js names), relative imports between
// dynamic modules, a main module inside a folder, import.meta.url, and
// dynamic import() of a sibling module.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "src/main.js",
  modules: {
    "src/main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      import { twice } from "./lib/math.js";
      import shout, { PREFIX } from "../shared/text.js";
      import * as ns from "./lib/math.js";
      export default class extends WorkerEntrypoint {
        run() {
          return {
            twice: twice(21),
            shout: shout("hi"),
            prefix: PREFIX,
            nsKeys: Object.keys(ns).sort(),
          };
        }
        async lazy() {
          const m = await import("./lib/lazy.js");
          return m.value;
        }
        metaUrl() { return String(import.meta.url); }
      }
    `,
    "src/lib/math.js": `
      import { PREFIX } from "../../shared/text.js";
      export const twice = (n) => n * 2;
      export const tag = PREFIX + "math";
    `,
    "shared/text.js": `
      export const PREFIX = ">";
      export default function shout(s) { return PREFIX + s.toUpperCase(); }
    `,
    "src/lib/lazy.js": `export const value = "loaded lazily";`,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("strings", () => code).getEntrypoint();
    return Response.json({
      run: await probe(() => ep.run()),
      lazy: await probe(() => ep.lazy()),
      metaUrl: await probe(() => ep.metaUrl()),
    });
  },
};
