// 65_rpc.js: Workers RPC: the value encoding that crosses isolates, stubs,
// the callee side of calls, Worker Loader bindings and ctx.exports
// loopbacks. A lazy unit: a worker with no bindings never loads it.
//
// Encoding. A value becomes JSON where plain data stays as it is and other
// values become tagged objects {"$": tag, ...}. A plain object that has its
// own "$" key is wrapped ({"$":"O","v":{...}}) so it cannot be mistaken for
// a tag. Binary data goes to a side list of ArrayBuffers, referenced by
// index; so do capabilities (stubs, and functions or RpcTargets this
// isolate lends out), which Go translates between isolates.

const kStub = Symbol("rpcStub");

class RpcEncoder {
  constructor(allowAsync) {
    this.caps = [];
    this.bufs = [];
    this.tasks = allowAsync ? [] : null;
    this.depth = 0;
  }
  buf(bytes) {
    this.bufs.push(bytes);
    return this.bufs.length - 1;
  }
  cap(c) {
    this.caps.push(c);
    return this.caps.length - 1;
  }
  later(fn) {
    if (!this.tasks) throw new DOMException("Could not serialize the value: it holds a body, which cannot be sent here.", "DataCloneError");
    const slot = this.buf(null);
    this.tasks.push(fn().then((bytes) => { this.bufs[slot] = bytes; }));
    return slot;
  }
  encode(v) {
    switch (typeof v) {
      case "string": case "boolean": return v;
      case "number": return Number.isFinite(v) && !Object.is(v, -0) ? v : { $: "n", v: Object.is(v, -0) ? "-0" : String(v) };
      case "undefined": return { $: "u" };
      case "bigint": return { $: "b", v: v.toString() };
      case "symbol": throw new DOMException(`${String(v)} could not be cloned.`, "DataCloneError");
      case "function": {
        const st = v[kStub];
        if (st) return { $: "c", i: this.cap({ h: stubHandleNow(st) }) };
        return { $: "c", i: this.cap({ e: rpcExport(v), k: "function" }) };
      }
    }
    if (v === null) return null;
    if (++this.depth > 1000) throw new DOMException("Maximum call stack size exceeded while serializing.", "DataCloneError");
    try {
      return this.encodeObject(v);
    } finally {
      this.depth--;
    }
  }
  encodeObject(v) {
    const st = v[kStub];
    if (st) return { $: "c", i: this.cap({ h: stubHandleNow(st) }) };
    if (Array.isArray(v)) {
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = this.encode(v[i]);
      return out;
    }
    if (v instanceof RpcTarget) return { $: "c", i: this.cap({ e: rpcExport(v), k: "object" }) };
    if (v instanceof Date) return { $: "D", v: v.getTime() };
    if (v instanceof RegExp) return { $: "R", s: v.source, f: v.flags };
    if (v instanceof Map) return { $: "M", v: [...v].map(([k, x]) => [this.encode(k), this.encode(x)]) };
    if (v instanceof Set) return { $: "S", v: [...v].map((x) => this.encode(x)) };
    if (v instanceof ArrayBuffer) return { $: "A", i: this.buf(v.slice(0)) };
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      return { $: "V", t: v.constructor.name, i: this.buf(bytes.buffer) };
    }
    if (v instanceof Error) {
      const out = { $: "E", n: String(v.name), m: String(v.message) };
      if (v.stack) out.s = String(v.stack);
      const extra = {};
      let any = false;
      for (const k of Object.keys(v)) {
        if (k === "name" || k === "message" || k === "stack") continue;
        extra[k] = this.encode(v[k]);
        any = true;
      }
      if (any) out.p = extra;
      return out;
    }
    if (v instanceof Request) {
      const b = v[kBody] ? this.later(() => consumeBytes(v).then(exactBuffer)) : -1;
      return { $: "Q", m: v.method, u: v.url, h: headerPairs(v.headers), r: v.redirect, b };
    }
    if (v instanceof Response) {
      const b = v[kBody] ? this.later(() => consumeBytes(v).then(exactBuffer)) : -1;
      return { $: "P", s: v.status, t: v.statusText, h: headerPairs(v.headers), b };
    }
    if (v instanceof Headers) return { $: "H", v: headerPairs(v) };
    if (isLoaded("ReadableStream") && v instanceof ReadableStream) {
      return { $: "RS", i: this.later(() => readAllBytes(v).then(exactBuffer)) };
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = v.constructor && v.constructor.name || "Object";
      throw new DOMException(`Could not serialize object of type "${name}". This type does not support serialization.`, "DataCloneError");
    }
    const out = {};
    for (const k of Object.keys(v)) out[k] = this.encode(v[k]);
    return Object.prototype.hasOwnProperty.call(v, "$") ? { $: "O", v: out } : out;
  }
  async finish() {
    if (this.tasks && this.tasks.length) await Promise.all(this.tasks);
  }
}

function headerPairs(h) {
  const out = [];
  for (const [k, list] of h[kHeaderList]) for (const v of list) out.push([k, v]);
  return out;
}

// rpcEncodeValue encodes v; with allowAsync the result's bodies are read
// before it resolves.
async function rpcEncodeValue(v) {
  const enc = new RpcEncoder(true);
  const json = JSON.stringify(enc.encode(v));
  await enc.finish();
  return { json, caps: JSON.stringify(enc.caps), bufs: enc.bufs };
}

function rpcEncodeSync(v) {
  const enc = new RpcEncoder(false);
  const json = JSON.stringify(enc.encode(v));
  return { json, caps: JSON.stringify(enc.caps), bufs: enc.bufs };
}

const typedArrayCtors = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
};
const errorCtors = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

class RpcDecoder {
  constructor(caps, bufs) {
    this.caps = caps;
    this.bufs = bufs;
  }
  decode(v) {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map((x) => this.decode(x));
    const tag = v.$;
    if (tag === undefined) {
      const out = {};
      for (const k of Object.keys(v)) out[k] = this.decode(v[k]);
      return out;
    }
    switch (tag) {
      case "O": { const out = {}; for (const k of Object.keys(v.v)) out[k] = this.decode(v.v[k]); return out; }
      case "u": return undefined;
      case "n": return v.v === "-0" ? -0 : Number(v.v);
      case "b": return BigInt(v.v);
      case "D": return new Date(v.v);
      case "R": return new RegExp(v.s, v.f);
      case "M": return new Map(v.v.map(([k, x]) => [this.decode(k), this.decode(x)]));
      case "S": return new Set(v.v.map((x) => this.decode(x)));
      case "A": return this.bufs[v.i];
      case "V": {
        const C = typedArrayCtors[v.t] || Uint8Array;
        const b = this.bufs[v.i];
        return C === DataView ? new DataView(b) : new C(b, 0, b.byteLength / (C.BYTES_PER_ELEMENT || 1));
      }
      case "E": {
        const C = errorCtors[v.n] || Error;
        const e = new C(v.m);
        if (!errorCtors[v.n] || e.name !== v.n) Object.defineProperty(e, "name", { value: v.n, writable: true, configurable: true, enumerable: false });
        if (v.p) for (const k of Object.keys(v.p)) e[k] = this.decode(v.p[k]);
        return e;
      }
      case "Q": return new Request(v.u, { method: v.m, headers: v.h, redirect: v.r, body: v.b >= 0 ? this.bufs[v.b] : undefined });
      case "P": return new Response(v.b >= 0 ? this.bufs[v.b] : null, { status: v.s, statusText: v.t, headers: v.h });
      case "H": return new Headers(v.v);
      case "RS": {
        const bytes = new Uint8Array(this.bufs[v.i]);
        return new ReadableStream({ type: "bytes", start(c) { if (bytes.byteLength) c.enqueue(bytes); c.close(); } });
      }
      case "c": return this.caps[v.i];
    }
    throw new TypeError("isola: unknown RPC tag " + tag);
  }
}

// capValues turns the capability list Go sends ([{h, k}]) into values.
function capValues(capsJSON) {
  const caps = JSON.parse(capsJSON);
  return caps.map(({ h, k }) => {
    switch (k) {
      case "loader": return new WorkerLoader(h);
      case "worker": return { workerHandle: h };
      case "function": return makeStub({ handle: h, kind: k });
      default: return makeStub({ handle: h, kind: k });
    }
  });
}

function rpcDecodeMessage(json, capsJSON, bufs) {
  return new RpcDecoder(capValues(capsJSON), bufs).decode(JSON.parse(json));
}

// ---------------------------------------------------------------- exports

const rpcExports = new Map();
let rpcNextExport = 1;

function rpcExport(obj) {
  const id = rpcNextExport++;
  rpcExports.set(id, obj);
  return id;
}

function rpcDropExport(id) {
  rpcExports.delete(id);
}

// ---------------------------------------------------------------- stubs

const stubRegistry = new FinalizationRegistry((h) => { if (typeof h === "number") host.rpcRelease(h); });

// A stub's state: its handle (or a promise of one, for stubs made before
// their target exists, like a Worker Loader's entrypoints) and its kind.
function stubHandleNow(st) {
  if (st.disposed) throw new Error("Attempted to use RPC stub after it has been disposed.");
  if (typeof st.handle !== "number") {
    throw new DOMException("Could not serialize an RPC stub whose target is still being loaded.", "DataCloneError");
  }
  return st.handle;
}

async function stubHandle(st) {
  if (st.disposed) throw new Error("Attempted to use RPC stub after it has been disposed.");
  if (typeof st.handle !== "number") {
    st.handle = await st.handle;
    stubRegistry.register(st.proxy, st.handle);
  }
  return st.handle;
}

function makeStub(st) {
  st.disposed = false;
  const proxy = new Proxy(function RpcStub() {}, {
    get(t, prop) {
      if (prop === kStub) return st;
      if (prop === "then") return undefined;
      if (prop === Symbol.dispose) return () => disposeStub(st);
      if (prop === Symbol.toStringTag) return "RpcStub";
      if (typeof prop === "symbol") return undefined;
      if (prop === "dup") return () => st.proxy;
      if (st.kind === "fetcher" && prop === "fetch") {
        return (input, init) => stubFetch(st, input, init);
      }
      if (st.kind === "fetcher" && prop === "connect") {
        return () => { throw new Error("connect() over a service binding is not supported yet by Isola."); };
      }
      return rpcProperty(st, [prop]);
    },
    apply(t, thisArg, args) {
      if (st.kind !== "function") throw new TypeError("RPC stub is not a function.");
      return rpcInvoke(st, [], "call", args);
    },
    set() { throw new TypeError("RPC stubs are read-only."); },
  });
  st.proxy = proxy;
  if (typeof st.handle === "number") stubRegistry.register(proxy, st.handle);
  return proxy;
}

function disposeStub(st) {
  if (st.disposed) return;
  st.disposed = true;
  if (typeof st.handle === "number") {
    stubRegistry.unregister(st.proxy);
    host.rpcRelease(st.handle);
  }
}

// rpcProperty is a member of a stub: call it, or await it to read it.
function rpcProperty(st, path) {
  return new Proxy(function RpcProperty() {}, {
    get(t, prop) {
      if (prop === "then" || prop === "catch" || prop === "finally") {
        const p = rpcInvoke(st, path, "get", []);
        return p[prop].bind(p);
      }
      if (typeof prop === "symbol") return undefined;
      return rpcProperty(st, [...path, prop]);
    },
    apply(t, thisArg, args) { return rpcInvoke(st, path, "call", args); },
  });
}

// pipelined wraps a promise of a result so members of the result can be
// used before it arrives: `await stub.make().name`.
function pipelined(p, path = []) {
  const settled = path.length ? p.then((v) => walkPath(v, path)) : p;
  return new Proxy(function RpcPromise() {}, {
    get(t, prop) {
      if (prop === "then" || prop === "catch" || prop === "finally") return settled[prop].bind(settled);
      if (typeof prop === "symbol") return undefined;
      return pipelined(p, [...path, prop]);
    },
    apply(t, thisArg, args) {
      return pipelined(p.then((v) => {
        const recv = walkPath(v, path.slice(0, -1));
        const fn = recv[path[path.length - 1]];
        if (typeof fn !== "function") throw new TypeError(`${path[path.length - 1]} is not a function`);
        return fn.apply(recv, args);
      }));
    },
  });
}

async function walkPath(v, path) {
  for (const p of path) v = await v[p];
  return v;
}

function rpcInvoke(st, path, op, args) {
  const p = (async () => {
    const handle = await stubHandle(st);
    const enc = await rpcEncodeValue(args);
    const packed = await hostAsync(host.rpcCall(handle, JSON.stringify(path), op, enc.json, enc.caps, ...enc.bufs));
    return unpackReply(packed);
  })();
  return pipelined(p);
}

function unpackReply(packed) {
  const [ok, json, caps, ...bufs] = packed;
  const v = rpcDecodeMessage(json, caps, bufs);
  if (!ok) throw v;
  return v;
}

// stubFetch is fetch() on a Fetcher stub: the request crosses with its body
// read into memory, and so does the response.
async function stubFetch(st, input, init) {
  const req = input instanceof Request && init === undefined ? input : new Request(input, init);
  return await rpcInvoke(st, ["fetch"], "call", [req]);
}

// ---------------------------------------------------------------- callee

const forbiddenMembers = new Set(Object.getOwnPropertyNames(Object.prototype));

async function rpcReceiver(target) {
  if (target.kind === "export") {
    const obj = rpcExports.get(target.id);
    if (obj === undefined) throw new Error("Attempted to use RPC stub after it has been disposed.");
    return obj;
  }
  const props = target.props ? rpcDecodeMessage(target.props, "[]", []) : {};
  return entrypointInstance(target.name, props);
}

// entrypointInstance makes the object an entrypoint call runs on: a fresh
// WorkerEntrypoint instance, or the default export object with fetch bound
// to (env, ctx) as a fetch handler expects.
function entrypointInstance(name, props) {
  const ctx = new ExecutionContext(props);
  const exported = name ? workerModule && workerModule[name] : workerModule && workerModule.default;
  if (exported === undefined) {
    throw new TypeError(name ? `Worker has no entrypoint named "${name}".` : "Worker has no default export.");
  }
  if (typeof exported === "function" && isClass(exported)) return new exported(ctx, workerEnv);
  if (exported && typeof exported === "object") {
    return new Proxy(exported, {
      get(t, prop) {
        const v = t[prop];
        if (typeof v === "function") return (...args) => prop === "fetch" ? v.call(t, args[0], workerEnv, ctx) : v.apply(t, args);
        return v;
      },
    });
  }
  throw new TypeError(`Entrypoint "${name || "default"}" is not a WorkerEntrypoint class or handler object.`);
}

function rpcHandleInvoke(id, targetJSON, pathJSON, op, json, capsJSON, ...bufs) {
  (async () => {
    const target = JSON.parse(targetJSON);
    const path = JSON.parse(pathJSON);
    const args = rpcDecodeMessage(json, capsJSON, bufs);
    let recv = await rpcReceiver(target);
    let result;
    if (path.length === 0) {
      if (op !== "call" || typeof recv !== "function") throw new TypeError("The RPC receiver is not callable.");
      result = await recv(...args);
    } else {
      for (let i = 0; i < path.length - 1; i++) recv = await memberOf(recv, path[i]);
      const last = path[path.length - 1];
      if (op === "get") {
        result = await memberOf(recv, last);
      } else {
        const fn = forbiddenMembers.has(last) ? undefined : recv[last];
        if (typeof fn !== "function") throw new TypeError(`The RPC receiver does not implement the method "${last}".`);
        result = await fn.apply(recv, args);
      }
    }
    const enc = await rpcEncodeValue(result);
    host.rpcReturn(id, enc.json, enc.caps, ...enc.bufs);
  })().catch(async (e) => {
    let enc;
    try {
      enc = await rpcEncodeValue(e);
    } catch {
      enc = rpcEncodeSync(new Error(String(e && e.message || e)));
    }
    host.rpcThrow(id, enc.json, enc.caps, ...enc.bufs);
  });
}

function memberOf(recv, name) {
  if (forbiddenMembers.has(name)) return undefined;
  const v = recv[name];
  return typeof v === "function" ? v.bind(recv) : v;
}

function rpcPackReply(ok, json, caps, ...bufs) {
  return [ok, json, caps, ...bufs];
}

