// A dynamic worker with a wasm module: {wasm: bytes} as an ArrayBuffer or a
// Uint8Array, a WebAssembly.Module object, invalid bytes, and other values.
// add.wasm (source: conformance/wasm-src/219-loader-wasm) is imported by the
// parent both as a module (add.wasm) and as bytes (add.bin, a data module).
import addModule from "./add.wasm";
import addBytes from "./add.bin";

const MAIN = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  import add from "./add.wasm";
  export default class extends WorkerEntrypoint {
    run() {
      const { exports } = new WebAssembly.Instance(add);
      return {
        isModule: add instanceof WebAssembly.Module,
        exports: WebAssembly.Module.exports(add),
        sum: exports.add(20, 22),
      };
    }
    async compileHere(bytes) {
      const out = {};
      try { new WebAssembly.Module(bytes); out.sync = "compiled"; } catch (e) { out.sync = e.constructor.name + ": " + e.message; }
      try { await WebAssembly.compile(bytes); out.async = "compiled"; } catch (e) { out.async = e.constructor.name + ": " + e.message; }
      return out;
    }
  }
`;

const code = (wasm) => ({
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: { "main.js": { js: MAIN }, "add.wasm": wasm },
});

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return `threw ${e.constructor.name}: ${e.message}`; }
};
// V8's decoder messages for malformed modules (past the magic word) are not
// reproducible by another engine: keep the message only up to the decoder's name.
const cut = (v) => (typeof v === "string" ? v.replace(/(Compile\(\): ).*/s, "$1...") : v);
const load = (env, id, wasm) => probe(() => env.LOADER.get(id, () => code(wasm)).getEntrypoint().run());

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/bytes") {
      return Response.json({
        parentImportIsModule: addModule instanceof WebAssembly.Module,
        parentBytesIsArrayBuffer: addBytes instanceof ArrayBuffer,
        arrayBuffer: await load(env, "array-buffer", { wasm: addBytes }),
        uint8Array: await load(env, "uint8-array", { wasm: new Uint8Array(addBytes) }),
        // A view on part of a larger buffer: only the view's bytes count.
        offsetView: await load(env, "offset-view", { wasm: new Uint8Array([9, 9, ...new Uint8Array(addBytes), 9]).subarray(2, 2 + addBytes.byteLength) }),
        compileInDynamicWorker: await probe(() => env.LOADER.get("array-buffer", () => code({ wasm: addBytes })).getEntrypoint().compileHere(new Uint8Array(addBytes))),
      });
    }
    if (path === "/invalid") {
      return Response.json({
        badMagic: await load(env, "bad-magic", { wasm: new Uint8Array([1, 2, 3, 4, 1, 0, 0, 0]) }),
        truncated: cut(await load(env, "truncated", { wasm: new Uint8Array(addBytes).slice(0, 12) })),
        empty: await load(env, "empty", { wasm: new ArrayBuffer(0) }),
        module: await load(env, "module-object", { wasm: addModule }),
        string: await load(env, "string", { wasm: "(module)" }),
        number: await load(env, "number", { wasm: 5 }),
        stringModule: await load(env, "string-module", "\0asm\x01\0\0\0"),
      });
    }
    return new Response("not found", { status: 404 });
  },
};
