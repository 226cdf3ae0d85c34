// 16_optional.js: globals an isolate installs only when its worker's code
// names one of them (runtime.optionalGlobals, through init's features): as
// eager code, or as lazy globals' accessors, each would cost every isolate
// engine memory, in steps of 4 KB, and few workers use them. One lazy unit
// for all, each set inside its install function, so that the unit publishes
// one name: a unit of its own, or more names, crossed such a step.

// installOptional installs the sets whose bits are on in features (the bits
// of runtime.optionalGlobals). One entry point for all: each name the eager
// unit calls in here, and each thing it hands over, costs every isolate
// memory.
function installOptional(features) {
  if ((features & 256) !== 0) installV8Builtins();
  if ((features & 512) !== 0) installCompressionStreams();
  if ((features & 1024) !== 0) installDisposableStacks();
  if ((features & 2048) !== 0) installGlobalEvents();
  if ((features & 4096) !== 0) installWebSockets();
  if ((features & 8192) !== 0) installWasm();
}

// installV8Builtins: built-ins the reference's V8 has and QuickJS lacks:
// V8's Error.captureStackTrace and Error.stackTraceLimit (code written for
// V8 calls the first without checking that it exists: custom error classes,
// npm packages) and ES2024's Array.fromAsync.
function installV8Builtins() {
  // captureStackTrace gives obj a stack in the engine's format, frames only.
  // The frames up to and including the latest call of fn are left out, as V8
  // leaves them out (all of them when fn is not on the stack), and
  // Error.stackTraceLimit caps the rest; the engine's own stacks ignore it.
  function captureStackTrace(obj, fn) {
    if (obj === null || (typeof obj !== "object" && typeof obj !== "function")) throw new TypeError("Invalid argument");
    // The first frame is this function's.
    let frames = new Error().stack.split("\n").slice(1, -1);
    if (typeof fn === "function") {
      const name = fn.name || "<anonymous>";
      const at = frames.findIndex((f) => f === "    at " + name || f.startsWith("    at " + name + " ("));
      frames = at < 0 ? [] : frames.slice(at + 1);
    }
    const limit = Error.stackTraceLimit;
    if (typeof limit === "number" && frames.length > limit) frames = frames.slice(0, Math.max(0, limit));
    defineProperty(obj, "stack", { value: frames.length ? frames.join("\n") + "\n" : "", writable: true, configurable: true });
  }

  // arrayFromAsync is Array.fromAsync (ES2024) called on C with args: from an
  // async iterable, a sync iterable (each value awaited) or an array-like,
  // each value passed through mapfn (awaited too). Every failure rejects.
  async function arrayFromAsync(C, args) {
    const [items, mapfn, thisArg] = args;
    if (mapfn !== undefined && typeof mapfn !== "function") throw new TypeError("Array.fromAsync: mapfn is not a function");
    if (items === null || items === undefined) throw new TypeError(`Array.fromAsync: ${items} is not iterable or array-like`);
    const make = builtinsIsConstructor(C) ? (n) => (n === undefined ? new C() : new C(n)) : (n) => (n === undefined ? [] : new Array(n));
    const iterate = items[Symbol.asyncIterator] ?? items[Symbol.iterator];
    if (iterate !== undefined && iterate !== null) {
      const out = make();
      let k = 0;
      for await (const v of builtinsAsyncIterable(items)) {
        builtinsDefine(out, k, mapfn === undefined ? v : await Reflect.apply(mapfn, thisArg, [v, k]));
        k++;
      }
      out.length = k;
      return out;
    }
    const arrayLike = Object(items);
    const len = builtinsToLength(arrayLike.length);
    const out = make(len);
    for (let k = 0; k < len; k++) {
      const v = await arrayLike[k];
      builtinsDefine(out, k, mapfn === undefined ? v : await Reflect.apply(mapfn, thisArg, [v, k]));
    }
    out.length = len;
    return out;
  }

  // builtinsAsyncIterable lets for await take items by its async iterator if
  // it has one, else by its sync one (values awaited), as the spec orders.
  function builtinsAsyncIterable(items) {
    if (items[Symbol.asyncIterator] !== undefined && items[Symbol.asyncIterator] !== null) return items;
    return { [Symbol.iterator]: () => items[Symbol.iterator]() };
  }

  function builtinsDefine(o, k, v) {
    defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  }

  function builtinsToLength(v) {
    const n = Math.trunc(Number(v));
    if (!(n > 0)) return 0;
    return Math.min(n, Number.MAX_SAFE_INTEGER);
  }

  function builtinsIsConstructor(f) {
    if (typeof f !== "function") return false;
    try {
      Reflect.construct(String, [], f);
      return true;
    } catch {
      return false;
    }
  }

  defineProperty(Error, "captureStackTrace", { value: captureStackTrace, writable: true, configurable: true });
  Error.stackTraceLimit = 10;
  defineProperty(Array, "fromAsync", {
    value: function fromAsync(items) { return arrayFromAsync(this, arguments); },
    writable: true, configurable: true,
  });
}

// installCompressionStreams: CompressionStream and DecompressionStream (gzip,
// deflate, deflate-raw) over Go's compress packages (the "stream" host
// functions, runtime/streamhost.go). Error messages are workerd's.
function installCompressionStreams() {
  hostNeed("stream");

  const compressionFormats = new Set(["gzip", "deflate", "deflate-raw"]);

  function compressionFormat(what, format) {
    if (format === undefined) {
      throw new TypeError(`Failed to construct '${what}': constructor parameter 1 is not of type 'string'.`);
    }
    format = String(format);
    if (!compressionFormats.has(format)) {
      throw new TypeError("The compression format must be either 'deflate', 'deflate-raw' or 'gzip'.");
    }
    return format;
  }

  // compressionChunk is a written chunk as the host takes it. workerd takes
  // strings too, as their UTF-8.
  function compressionChunk(chunk) {
    if (typeof chunk === "string") return new TextEncoder().encode(chunk).buffer;
    if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) return exactBuffer(chunk);
    throw new TypeError("This TransformStream is being used as a byte stream, but received a value that is not a BufferSource.");
  }

  // A compressor's tables are Go memory: a stream dropped before it closed
  // gives them back when its state is collected.
  const compressionRegistry = new FinalizationRegistry((h) => host.byteStreamFree(h));

  class CompressionStream extends TransformStream {
    constructor(format) {
      format = compressionFormat("CompressionStream", format);
      const state = { h: 0 };
      super({
        start() {
          state.h = hostResult(host.compressOpen(format));
        },
        transform(chunk, controller) {
          const out = hostResult(host.compressWrite(state.h, compressionChunk(chunk)));
          if (out.byteLength > 0) controller.enqueue(new Uint8Array(out));
        },
        flush(controller) {
          compressionRegistry.unregister(state);
          const out = hostResult(host.compressEnd(state.h));
          if (out.byteLength > 0) controller.enqueue(new Uint8Array(out));
        },
      });
      // Watched through state, which the stream's algorithms hold: code
      // that pipes through the stream drops the stream object itself.
      compressionRegistry.register(state, state.h, state);
    }
  }
  rsBrand(CompressionStream, "CompressionStream");

  // The input is gathered and decompressed when the stream closes, in pieces
  // (streamhost.go says why); the output then arrives all at once.
  class DecompressionStream extends TransformStream {
    constructor(format) {
      format = compressionFormat("DecompressionStream", format);
      let chunks = [];
      super({
        transform(chunk) {
          chunks.push(compressionChunk(chunk));
          // One argument each when the host is called: keep their number small.
          if (chunks.length >= 1024) chunks = [concatBuffers(chunks)];
        },
        flush(controller) {
          const input = chunks;
          chunks = [];
          const h = hostResult(Reflect.apply(host.inflateOpen, host, [format].concat(input)));
          try {
            for (let piece; (piece = hostResult(host.inflateRead(h))) !== null;) controller.enqueue(new Uint8Array(piece));
          } finally {
            host.byteStreamFree(h);
          }
        },
      });
    }
  }
  rsBrand(DecompressionStream, "DecompressionStream");

  function concatBuffers(buffers) {
    let n = 0;
    for (const b of buffers) n += b.byteLength;
    const out = new Uint8Array(n);
    let o = 0;
    for (const b of buffers) {
      out.set(new Uint8Array(b), o);
      o += b.byteLength;
    }
    return out.buffer;
  }

  // Indented, these calls are not the unit's lazy globals (prelude.go reads
  // those from top-level calls), whose accessors every isolate would carry.
  defineGlobal("CompressionStream", CompressionStream);
  defineGlobal("DecompressionStream", DecompressionStream);
}

// installDisposableStacks: ES2026's DisposableStack, AsyncDisposableStack
// and SuppressedError (explicit resource management), which the reference's
// V8 has. Resources are disposed last-in first-out; an error thrown while
// another is pending becomes a SuppressedError of the two. Error messages
// are V8's.
function installDisposableStacks() {
  class SuppressedError extends Error {
    constructor(error, suppressed, message) {
      super(message);
      defineProperty(this, "error", { value: error, writable: true, configurable: true });
      defineProperty(this, "suppressed", { value: suppressed, writable: true, configurable: true });
    }
  }
  defineProperty(SuppressedError.prototype, "name", { value: "SuppressedError", writable: true, configurable: true });

  const kind = { sync: "DisposableStack", async: "AsyncDisposableStack" };

  // stackMethod checks that a stack may still be used by method.
  function stackLive(s, method) {
    if (s.disposed) {
      throw new ReferenceError(`Cannot call ${kind[s.kind]}.prototype.${method} on an already-disposed ${kind[s.kind]}`);
    }
  }

  // disposerOf finds value's dispose method, as a using declaration does.
  function disposerOf(value, isAsync) {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) {
      throw new TypeError("An object is expected with `using` declarations");
    }
    let fn = isAsync ? value[Symbol.asyncDispose] : undefined;
    if (fn === undefined || fn === null) fn = value[Symbol.dispose];
    if (typeof fn !== "function") throw new TypeError(`${String(isAsync ? Symbol.asyncDispose : Symbol.dispose)} is not a function`);
    return fn;
  }

  function checkCallable(fn) {
    if (typeof fn !== "function") throw new TypeError(`${String(fn)} is not a function`);
  }

  // disposeAll runs the disposers, newest first; each call's result is
  // awaited for an async stack.
  function disposeAll(s) {
    const list = s.list;
    s.list = [];
    s.disposed = true;
    let failed = false, error;
    const fail = (e) => {
      error = failed ? new SuppressedError(e, error, "An error was suppressed during disposal") : e;
      failed = true;
    };
    if (s.kind === "sync") {
      for (let i = list.length - 1; i >= 0; i--) {
        try { list[i](); } catch (e) { fail(e); }
      }
      if (failed) throw error;
      return undefined;
    }
    return (async () => {
      for (let i = list.length - 1; i >= 0; i--) {
        try { await list[i](); } catch (e) { fail(e); }
      }
      if (failed) throw error;
    })();
  }

  function makeStack(kindName) {
    const isAsync = kindName === "async";
    const states = new WeakMap();
    const state = (self) => {
      const s = states.get(self);
      if (s === undefined) throw new TypeError(`Illegal invocation: not a ${kind[kindName]}`);
      return s;
    };
    class Stack {
      constructor() {
        states.set(this, { kind: kindName, disposed: false, list: [] });
      }
      get disposed() { return state(this).disposed; }
      use(value) {
        const s = state(this);
        stackLive(s, "use");
        if (value !== null && value !== undefined) {
          const fn = disposerOf(value, isAsync);
          s.list.push(() => Reflect.apply(fn, value, []));
        }
        return value;
      }
      adopt(value, onDispose) {
        const s = state(this);
        stackLive(s, "adopt");
        checkCallable(onDispose);
        s.list.push(() => onDispose(value));
        return value;
      }
      defer(onDispose) {
        const s = state(this);
        stackLive(s, "defer");
        checkCallable(onDispose);
        s.list.push(() => onDispose());
      }
      move() {
        const s = state(this);
        stackLive(s, "move");
        const next = new Stack();
        state(next).list = s.list;
        s.list = [];
        s.disposed = true;
        return next;
      }
    }
    const dispose = isAsync
      ? { disposeAsync() { const s = state(this); return s.disposed ? Promise.resolve() : disposeAll(s); } }.disposeAsync
      : { dispose() { const s = state(this); if (!s.disposed) disposeAll(s); } }.dispose;
    const method = isAsync ? "disposeAsync" : "dispose";
    defineProperty(Stack.prototype, method, { value: dispose, writable: true, configurable: true });
    defineProperty(Stack.prototype, isAsync ? Symbol.asyncDispose : Symbol.dispose, { value: dispose, writable: true, configurable: true });
    defineProperty(Stack.prototype, Symbol.toStringTag, { value: kind[kindName], configurable: true });
    defineProperty(Stack, "name", { value: kind[kindName], configurable: true });
    return Stack;
  }

  defineGlobal("SuppressedError", SuppressedError);
  defineGlobal("DisposableStack", makeStack("sync"));
  defineGlobal("AsyncDisposableStack", makeStack("async"));
}

// installGlobalEvents: the global scope's addEventListener,
// removeEventListener and dispatchEvent, which workerd has in module
// workers too, with ErrorEvent and PromiseRejectionEvent. The runtime
// dispatches unhandledrejection for a rejection nobody handled by the end
// of a turn, and rejectionhandled when it gets a handler later
// (Isolate.drain).
// The runtime calls the function given to host.rejectionHandler (the
// "events" host functions): registering it as a host event would take a
// name the eager unit does not publish.
function installGlobalEvents() {
  const target = new EventTarget();
  const kRuntime = Symbol("runtime");

  // workerd makes these events itself: code may not construct one.
  class PromiseRejectionEvent extends Event {
    #promise;
    #reason;
    constructor(type, init) {
      if (init === undefined || init === null || init[kRuntime] !== true) throw new TypeError("Illegal constructor");
      super(type);
      this.#promise = init.promise;
      this.#reason = init.reason;
    }
    get promise() { return this.#promise; }
    get reason() { return this.#reason; }
  }

  defineProperty(PromiseRejectionEvent.prototype, Symbol.toStringTag, { value: "PromiseRejectionEvent", configurable: true });

  defineGlobal("addEventListener", function addEventListener(type, listener, options = undefined) {
    return target.addEventListener(type, listener, options);
  });
  defineGlobal("removeEventListener", function removeEventListener(type, listener, options = undefined) {
    return target.removeEventListener(type, listener, options);
  });
  defineGlobal("dispatchEvent", function dispatchEvent(event) { return target.dispatchEvent(event); });
  defineGlobal("ErrorEvent", ErrorEvent);
  defineGlobal("PromiseRejectionEvent", PromiseRejectionEvent);
  hostNeed("events");
  host.rejectionHandler((type, promise, reason) => {
    target.dispatchEvent(new PromiseRejectionEvent(type, { [kRuntime]: true, promise, reason }));
  });
}
