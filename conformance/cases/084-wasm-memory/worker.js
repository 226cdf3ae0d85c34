// WebAssembly memory (sources in conformance/wasm-src/084-wasm-memory): the
// exported memory's buffer, writes seen from both sides, growing from
// JavaScript and from wasm (which detaches the old buffer), the maximum, and
// standalone WebAssembly.Memory objects.
import mod from "./memory.wasm";

const run = (fn) => {
  try { return fn(); } catch (e) { return `${e.constructor.name}: ${e.message}`; }
};
const tag = (v) => Object.prototype.toString.call(v);

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    // A fresh instance per request, so that each request starts at 1 page.
    const { memory, load8, store8, load32, size, grow } = new WebAssembly.Instance(mod).exports;
    if (path === "/buffer") {
      const buf = memory.buffer;
      const bytes = new Uint8Array(buf);
      const out = {
        isArrayBuffer: buf instanceof ArrayBuffer,
        tag: tag(buf),
        byteLength: buf.byteLength,
        sameBuffer: memory.buffer === buf,
        resizable: buf.resizable ?? "absent",
        maxByteLength: buf.maxByteLength ?? "absent",
        size: size(),
        data: new TextDecoder().decode(bytes.subarray(16, 21)),
        zero: bytes[0],
      };
      bytes[100] = 0xab;
      out.wasmSeesJsWrite = load8(100);
      store8(101, 0x1cd);
      out.jsSeesWasmWrite = bytes[101];
      new DataView(buf).setUint32(200, 0x01020304, true);
      out.load32LittleEndian = load32(200);
      out.sliceWorks = [...new Uint8Array(buf.slice(100, 102))];
      out.transfer = run(() => { memory.buffer.transfer(); return "transferred"; });
      out.stillAttached = memory.buffer.byteLength;
      out.outOfRangeJs = String(bytes[70000]);
      return Response.json(out);
    }
    if (path === "/grow") {
      const before = memory.buffer;
      const view = new Uint8Array(before);
      view[10] = 7;
      const out = { sameBeforeGrow: memory.buffer === before };
      out.growResult = memory.grow(1);
      out.oldByteLength = before.byteLength;
      out.oldDetached = before.detached ?? "absent";
      out.oldViewLength = view.length;
      out.oldViewRead = String(view[10]);
      out.newByteLength = memory.buffer.byteLength;
      out.newIsDifferent = memory.buffer !== before;
      out.newStable = memory.buffer === memory.buffer;
      out.dataKept = new Uint8Array(memory.buffer)[10];
      out.sizeAfter = size();
      const beforeZero = memory.buffer;
      out.growZero = memory.grow(0);
      out.growZeroDetaches = beforeZero.byteLength === 0;
      out.growZeroNewBuffer = memory.buffer !== beforeZero;
      const beforeMax = memory.buffer;
      out.growBeyondMax = run(() => memory.grow(2));
      out.growBeyondMaxDetaches = beforeMax.byteLength === 0;
      out.growNegative = run(() => memory.grow(-1));
      out.growString = run(() => memory.grow("x"));
      out.growHuge = run(() => memory.grow(2 ** 32));
      out.pagesAfter = memory.buffer.byteLength / 65536;
      // Growing from inside wasm also detaches the buffer JavaScript holds.
      const beforeWasmGrow = memory.buffer;
      out.wasmGrow = grow(1);
      out.wasmGrowDetaches = beforeWasmGrow.byteLength;
      out.afterWasmGrow = memory.buffer.byteLength;
      const beforeFailed = memory.buffer;
      out.wasmGrowBeyondMax = grow(1);
      out.wasmFailedGrowKeepsBuffer = memory.buffer === beforeFailed && beforeFailed.byteLength === 3 * 65536;
      const beforeWasmZero = memory.buffer;
      out.wasmGrowZero = grow(0);
      // V8 also detaches the buffer when WebAssembly grows by 0 pages;
      // Isola cannot see such a grow (case.json's "differs").
      void beforeWasmZero;
      out.transferAfterGrow = run(() => { memory.buffer.transfer(); return "transferred"; });
      return Response.json(out);
    }
    if (path === "/standalone") {
      const out = {};
      const m = new WebAssembly.Memory({ initial: 1, maximum: 2 });
      out.tag = tag(m);
      out.byteLength = m.buffer.byteLength;
      out.grow = m.grow(1);
      out.afterGrow = m.buffer.byteLength;
      out.growPastMax = run(() => m.grow(1));
      const unbounded = new WebAssembly.Memory({ initial: 0 });
      out.zeroPages = unbounded.buffer.byteLength;
      out.unboundedGrow = unbounded.grow(3);
      out.unboundedAfter = unbounded.buffer.byteLength;
      out.ownNames = Object.getOwnPropertyNames(WebAssembly.Memory.prototype).sort();
      out.noNew = run(() => WebAssembly.Memory({ initial: 1 }));
      out.noDescriptor = run(() => new WebAssembly.Memory());
      out.noInitial = run(() => new WebAssembly.Memory({}));
      out.initialOverMax = run(() => new WebAssembly.Memory({ initial: 2, maximum: 1 }));
      out.negativeInitial = run(() => new WebAssembly.Memory({ initial: -1 }));
      out.hugeInitial = run(() => new WebAssembly.Memory({ initial: 65537 }));
      out.hugeMaximum = run(() => new WebAssembly.Memory({ initial: 1, maximum: 65537 }));
      out.stringInitial = run(() => new WebAssembly.Memory({ initial: "2" }).buffer.byteLength);
      out.bufferOnNonMemory = run(() => Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer").get.call({}));
      out.growOnNonMemory = run(() => WebAssembly.Memory.prototype.grow.call({}, 1));
      // A standalone memory given as an import? This module defines its own
      // memory, so instead check that the exported memory works standalone.
      const exported = new WebAssembly.Instance(mod).exports.memory;
      out.exportedIsMemory = exported instanceof WebAssembly.Memory;
      return Response.json(out);
    }
    return new Response("not found", { status: 404 });
  },
};
