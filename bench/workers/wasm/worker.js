// The WebAssembly benchmark's worker (bench/wasm): the same module on both
// runtimes. /calls makes 10,000 calls from JavaScript into WebAssembly;
// /compute runs 5,000,000 rounds of arithmetic inside one call; /memory
// fills 64 KiB from JavaScript and sums it in WebAssembly; /instantiate
// makes a new instance per request.
import mod from "./bench.wasm";

const ex = new WebAssembly.Instance(mod).exports;

export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    let out;
    if (path === "/calls") {
      let s = 0;
      for (let i = 0; i < 10000; i++) s = ex.add(s, i);
      out = s;
    } else if (path === "/compute") {
      out = String(ex.mix(5000000));
    } else if (path === "/memory") {
      new Uint8Array(ex.memory.buffer).fill(3);
      out = ex.sum(65536);
    } else if (path === "/instantiate") {
      out = new WebAssembly.Instance(mod).exports.add(1, 2);
    } else {
      return new Response("not found", { status: 404 });
    }
    return new Response(String(out));
  },
};
