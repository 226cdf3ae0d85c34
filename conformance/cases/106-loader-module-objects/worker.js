// Module objects with exactly one key: {js}, {cjs}, {text}, {data} (an
// ArrayBuffer or a typed array) and {json} (serialised, then re-parsed).
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": {
      js: `
        import { WorkerEntrypoint } from "cloudflare:workers";
        import text from "./greeting.txt";
        import data from "./bytes.bin";
        import view from "./view.bin";
        import json from "./config.json";
        import cjs from "./helper.cjs";
        import esm from "./other.mjs";
        export default class extends WorkerEntrypoint {
          all() {
            return {
              text, textType: typeof text,
              dataIsArrayBuffer: data instanceof ArrayBuffer,
              dataBytes: [...new Uint8Array(data)],
              viewIsArrayBuffer: view instanceof ArrayBuffer,
              viewText: new TextDecoder().decode(view),
              json,
              cjsGreet: cjs.greet("Alice"),
              cjsNamed: cjs.named,
              esm,
            };
          }
        }
      `,
    },
    "greeting.txt": { text: "Hello from a text module" },
    "bytes.bin": { data: new Uint8Array([0, 1, 2, 250, 255]).buffer },
    "view.bin": { data: new TextEncoder().encode("bytes from a Uint8Array") },
    "config.json": { json: { message: "Hello from JSON", value: 42, list: [true, null], skipped: undefined } },
    "helper.cjs": {
      cjs: `
        module.exports = {
          greet(name) { return "Hello from CommonJS, " + name; },
          named: "a named CommonJS export",
        };
      `,
    },
    "other.mjs": { js: `export default "an ES module named .mjs";` },
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("objects", () => code).getEntrypoint();
    return Response.json({ all: await probe(() => ep.all()) });
  },
};
