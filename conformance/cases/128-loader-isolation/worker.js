// A dynamic worker is its own isolate: it does not see the parent's
// globals or modules, its globals do not leak back, two ids do not share
// module state, and it has the same globals as the parent.
globalThis.parentMarker = "set by the parent";

// Names whose presence must match between the parent and a dynamic worker
// of the same compatibility date (whatever the runtime provides).
const GLOBALS = ["fetch", "Request", "Response", "Headers", "URL", "crypto", "caches", "scheduler",
  "structuredClone", "setTimeout", "queueMicrotask", "navigator", "TextEncoder", "ReadableStream",
  "WebSocket", "EventTarget", "AbortController", "atob", "performance", "console", "process", "Buffer"];
const globalTypes = () => GLOBALS.map((k) => k + ":" + typeof globalThis[k]);

const source = `
  const GLOBALS = ${JSON.stringify(GLOBALS)};
  import { WorkerEntrypoint } from "cloudflare:workers";
  globalThis.dynamicMarker = "set by the dynamic worker";
  let counter = 0;
  const globalTypes = () => GLOBALS.map((k) => k + ":" + typeof globalThis[k]);
  export default class extends WorkerEntrypoint {
    look() {
      return {
        parentMarker: typeof globalThis.parentMarker,
        dynamicMarker: globalThis.dynamicMarker,
        globals: globalTypes(),
        userAgent: navigator.userAgent,
      };
    }
    bump() { return ++counter; }
    async importParentModule() {
      // A computed specifier: resolved when the import runs.
      const specifier = "./" + ["worker", "js"].join(".");
      try { await import(specifier); return "imported"; }
      catch (e) { return "threw " + e.name + ": " + e.message; }
    }
  }
`;
const code = { compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": source } };

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const a = env.LOADER.get("a", () => code).getEntrypoint();
    const b = env.LOADER.get("b", () => code).getEntrypoint();
    const look = await a.look();
    const parentGlobals = globalTypes();
    return Response.json({
      parentMarker: look.parentMarker,
      dynamicMarker: look.dynamicMarker,
      userAgent: look.userAgent,
      globalsDifferingFromParent: look.globals.filter((g, i) => g !== parentGlobals[i]),
      parentSeesDynamicMarker: typeof globalThis.dynamicMarker,
      a: [await a.bump(), await a.bump()],
      b: [await b.bump()],
      importParentModule: await probe(() => a.importParentModule()),
    });
  },
};
