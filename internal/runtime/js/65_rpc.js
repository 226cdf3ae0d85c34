// 65_rpc.js: Workers RPC: the value encoding that crosses isolates, stubs,
// pipelining, and the callee side of calls, with workerd's rules and words.
// A lazy unit: a worker with no bindings never loads it.
//
// Encoding. A value becomes JSON where plain data stays as it is and other
// values become tagged objects {"$": tag, ...}. A plain object that has its
// own "$" key is wrapped ({"$":"O","v":{...}}) so it cannot be mistaken for
// a tag. Objects are numbered in the order the encoder meets them; meeting
// one again (a shared reference, a cycle) writes {"$":"r","i":n}. Binary
// data goes to a side list of ArrayBuffers, referenced by index; so do
// capabilities (stubs, and functions or RpcTargets this isolate lends out),
// which Go translates between isolates. JSON without a single "$" needs no
// decoding beyond JSON.parse, the common case of small plain messages.
// Go writes and reads the plain part of the format itself (jsvm.EncodeRPC,
// jsvm.DecodeRPC), leaving the rest to RpcEncoder and RpcDecoder here.
//
// Stubs. A stub is a Proxy: over a plain object for an entrypoint (a
// Fetcher: typeof "object", as in workerd), over a function for a function
// or RpcTarget (typeof "function"). Reading a member gives an RpcProperty
// (await it to read, call it to call); a call gives an RpcPromise, whose
// members can be used before it settles (pipelining: the result arrives
// whole and the rest of the path is followed here, with the callee's rules).
//
// Disposal. Stubs received as arguments are disposed when the call they
// came with completes; an object result gets a Symbol.dispose method that
// disposes the stubs in it; dup() makes a stub that outlives its original.

// QuickJS has no explicit resource management. esbuild lowers `using` to
// helpers that read Symbol.dispose, else Symbol.for("Symbol.dispose"): the
// same registered symbols here keep both agreeing.
if (typeof Symbol.dispose !== "symbol") Object.defineProperty(Symbol, "dispose", { value: Symbol.for("Symbol.dispose") });
if (typeof Symbol.asyncDispose !== "symbol") Object.defineProperty(Symbol, "asyncDispose", { value: Symbol.for("Symbol.asyncDispose") });

const kStub = Symbol("rpcStub");
const rpcDispose = Symbol.dispose;
const rpcHasOwn = Object.prototype.hasOwnProperty;
const rpcObjectProto = Object.prototype;
const rpcGetProto = Object.getPrototypeOf;
const rpcUndefined = { $: "u" };
const rpcHoleTag = { $: "_" };
const rpcHole = Symbol("hole");
const rpcMissing = Symbol("missing");
const rpcNoBufs = [];

function rpcDisposedError() {
  return new Error("RPC stub used after being disposed.");
}

function rpcCloneError(message) {
  return new DOMException(message, "DataCloneError");
}

class RpcEncoder {
  // allowAsync: bodies may be read before the message is sent. forRpc:
  // functions and RpcTargets may be lent out (not in a WorkerCode's env or
  // in props; setting forEnv = true says the same).
  constructor(allowAsync, forRpc = allowAsync) {
    this.caps = [];
    this.bufs = [];
    this.tasks = allowAsync ? [] : null;
    this.forEnv = !forRpc;
    this.seen = null;
    this.count = 0;
    this.depth = 0;
  }
  // reset forgets an encoding given up on: the objects it lent out were
  // never sent, so they are dropped without being disposed.
  reset() {
    for (let i = 0; i < this.caps.length; i++) {
      const e = this.caps[i].e;
      if (e !== undefined) rpcExports.delete(e);
    }
    this.caps = [];
    this.seen = null;
    this.count = 0;
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
  // body puts a Request's or Response's body in out: a text body that
  // nobody has read travels as a string (no encoder, no copy), anything else
  // as bytes read before the message is sent.
  body(v, out) {
    const b = v[kBody];
    if (!b) return;
    if (b.text !== undefined && !b.stream && !bodyUsed(b)) {
      b.used = true;
      out.bt = b.text;
      return;
    }
    out.b = this.later(() => consumeBytes(v).then(exactBuffer));
  }
  later(fn) {
    if (!this.tasks) throw rpcCloneError("Could not serialize the value: it holds a body, which cannot be sent here.");
    const slot = this.buf(null);
    this.tasks.push(fn().then((bytes) => { this.bufs[slot] = bytes; }));
    return slot;
  }
  encode(v) {
    switch (typeof v) {
      case "string": case "boolean": return v;
      case "number":
        if (rpcPlainNumber(v)) return v;
        return { $: "n", v: v === 0 ? "-0" : String(v) };
      case "undefined": return rpcUndefined;
      case "bigint": return { $: "b", v: v.toString() };
      case "symbol": throw rpcCloneError(`${String(v)} could not be cloned.`);
      case "function": return this.func(v);
    }
    if (v === null) return null;
    return this.object(v);
  }
  stub(st) {
    if (st.noTransfer) throw rpcCloneError(st.noTransfer);
    return { $: "c", i: this.cap({ h: stubHandleNow(st) }) };
  }
  func(v) {
    const st = v[kStub];
    if (st) return this.stub(st);
    if (this.forEnv) throw rpcCloneError(`${cloneDescribe(v, "")} could not be cloned.`);
    return { $: "c", i: this.cap({ e: rpcExport(v), k: "function" }) };
  }
  object(v) {
    const st = v[kStub];
    if (st) return this.stub(st);
    let seen = this.seen;
    if (seen === null) {
      seen = this.seen = new Map();
    } else {
      const i = seen.get(v);
      if (i !== undefined) return { $: "r", i };
    }
    if (++this.depth > 1000) throw rpcCloneError("Maximum call stack size exceeded while serializing.");
    let out;
    const proto = rpcGetProto(v);
    if (proto === rpcObjectProto || proto === null) {
      seen.set(v, this.count++);
      out = {};
      // Indexed loops, and strings and booleans not sent through encode():
      // each call and iterator step costs this engine a few hundred
      // nanoseconds, a small object's whole encoding a few microseconds.
      const keys = Object.keys(v);
      let dollar = false;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const x = v[k];
        const e = typeof x === "string" || typeof x === "boolean" ? x : this.encode(x);
        if (k === "__proto__") rpcSetKey(out, k, e);
        else out[k] = e;
        if (k === "$") dollar = true;
      }
      if (dollar) out = { $: "O", v: out };
    } else if (Array.isArray(v)) {
      seen.set(v, this.count++);
      const n = v.length;
      out = new Array(n);
      for (let i = 0; i < n; i++) {
        const x = v[i];
        if (typeof x === "string" || typeof x === "boolean") out[i] = x;
        else out[i] = x === undefined && !(i in v) ? rpcHoleTag : this.encode(x);
      }
    } else {
      out = this.special(v, seen);
    }
    this.depth--;
    return out;
  }
  special(v, seen) {
    if (v instanceof RpcTarget) {
      if (this.forEnv) throw rpcCloneError("Remote RPC references can only be serialized for RPC.");
      // A workflow's step crosses as its handle (69_workflow.js).
      const view = v[kWorkflowRun];
      if (view !== undefined) return { $: "c", i: this.cap({ h: view.h }) };
      return { $: "c", i: this.cap({ e: rpcExport(v), k: "object" }) };
    }
    seen.set(v, this.count++);
    if (v instanceof Date) return { $: "D", v: v.getTime() };
    if (v instanceof RegExp) return { $: "R", s: v.source, f: v.flags };
    if (v instanceof Map) {
      const out = [];
      for (const [k, x] of [...v]) out.push(this.encode(k), this.encode(x));
      return { $: "M", v: out };
    }
    if (v instanceof Set) {
      const out = [];
      for (const x of [...v]) out.push(this.encode(x));
      return { $: "S", v: out };
    }
    if (v instanceof ArrayBuffer) return { $: "A", i: this.buf(v.slice(0)) };
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      return { $: "V", t: v.constructor.name, i: this.buf(bytes.buffer) };
    }
    if (v instanceof Error) return this.error(v);
    if (v instanceof Request) {
      const out = { $: "Q", m: v.method, u: v.url, h: headerPairs(v.headers), r: v.redirect, b: -1 };
      this.body(v, out);
      return out;
    }
    if (v instanceof Response) {
      const out = { $: "P", s: v.status, t: v.statusText, h: headerPairs(v.headers), b: -1 };
      this.body(v, out);
      return out;
    }
    if (v instanceof Headers) return { $: "H", v: headerPairs(v) };
    if (isLoaded("ReadableStream") && v instanceof ReadableStream) {
      return { $: "RS", i: this.later(() => readAllBytes(v).then(exactBuffer)) };
    }
    if (v instanceof String) return { $: "B", t: "s", v: String.prototype.valueOf.call(v) };
    if (v instanceof Number) return { $: "B", t: "n", v: String(Number.prototype.valueOf.call(v)) };
    if (v instanceof Boolean) return { $: "B", t: "t", v: Boolean.prototype.valueOf.call(v) };
    if (v instanceof BigInt) return { $: "B", t: "b", v: BigInt.prototype.valueOf.call(v).toString() };
    // What V8 refuses outright is named by its tag; any other object with a
    // prototype of its own is a class instance or a platform object.
    const tag = cloneToString.call(v);
    if (cloneRefused.has(tag)) cloneRefuse(v, tag);
    const name = cloneConstructorName(v, "Object");
    throw rpcCloneError(`Could not serialize object of type "${name}". This type does not support serialization.`);
  }
  // An error keeps its class when the name is a standard one (a DOMException
  // always), its message, its own enumerable properties, cause and errors.
  // Go reads the first keys of a thrown InternalError: keep $, n, m first.
  error(v) {
    const dom = isLoaded("DOMException") && v instanceof DOMException;
    const out = { $: "E", n: String(v.name), m: String(v.message) };
    if (dom) out.x = 1;
    if (v[kRpcLocal] === true) out.l = 1;
    let p = null;
    for (const k of Object.keys(v)) {
      if (k === "name" || k === "message" || k === "stack" || (dom && k === "code")) continue;
      rpcSetKey(p ??= {}, k, this.encode(v[k]));
    }
    if (p !== null) out.p = p;
    if (rpcHasOwn.call(v, "cause")) out.c = this.encode(v.cause);
    if (v instanceof AggregateError && rpcHasOwn.call(v, "errors")) out.e = this.encode(v.errors);
    return out;
  }
}

// rpcEncodeJSON is JSON.stringify(enc.encode(v)). Go writes plain data
// (objects, arrays, strings, numbers, Dates, capabilities) straight from
// the engine's objects, several times faster than the encoder runs here
// (jsvm.EncodeRPC); anything else it gives back untouched, and the encoder
// does the whole value.
const rpcDateProto = Date.prototype;
function rpcEncodeJSON(enc, v) {
  const json = host.rpcEncode(v, enc, rpcCapIndex, rpcObjectProto, rpcDateProto);
  if (json !== undefined) return json;
  enc.reset();
  return JSON.stringify(enc.encode(v));
}

// rpcCapIndex is the capability index the encoder gives x, a function or an
// object of some class, or -1 when x is not a capability.
function rpcCapIndex(enc, x) {
  if (typeof x === "function") return enc.func(x).i;
  if (x instanceof RpcTarget) return enc.special(x, null).i;
  return -1;
}

// rpcSetKey sets a data property, also one named "__proto__".
function rpcSetKey(o, k, v) {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

// rpcCapsJSON writes the capability list, [{h} or {e, k}] with numbers
// and a kind (function, object), by hand: JSON.stringify of a one-element
// list costs this engine several microseconds.
function rpcCapsJSON(caps) {
  if (caps.length === 0) return "[]";
  let out = "[";
  for (let i = 0; i < caps.length; i++) {
    const c = caps[i];
    if (i > 0) out += ",";
    out += c.h !== undefined ? '{"h":' + c.h + "}" : '{"e":' + c.e + ',"k":"' + c.k + '"}';
  }
  return out + "]";
}

function headerPairs(h) {
  const out = [];
  for (const [k, list] of h[kHeaderList]) for (const v of list) out.push([k, v]);
  return out;
}

// rpcEncodeSync encodes v outside RPC (props, a WorkerCode's env): stubs
// may go, functions and RpcTargets may not, nor bodies.
function rpcEncodeSync(v) {
  const enc = new RpcEncoder(false);
  const json = rpcEncodeJSON(enc, v);
  return { json, caps: rpcCapsJSON(enc.caps), bufs: enc.bufs };
}

const typedArrayCtors = {
  __proto__: null,
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
};
const errorCtors = {
  __proto__: null, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError,
};

// RpcDecoder turns a message JSON.parse made into the values it stands for.
// It works in place: the parsed tree is the decoder's own, and its plain
// objects and arrays become the values, with only their tagged members
// replaced; building a copy of every object cost QuickJS three times the
// parse (a call's event, a few objects deep: ~13 µs).
class RpcDecoder {
  // refs: the message may hold back-references ("$":"r"), so every object
  // made is numbered.
  constructor(caps, bufs, refs = true) {
    this.caps = caps;
    this.bufs = bufs;
    this.objs = refs ? [] : null;
  }
  reg(o) {
    if (this.objs !== null) this.objs.push(o);
    return o;
  }
  decode(v) {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) {
      this.reg(v);
      const n = v.length;
      for (let i = 0; i < n; i++) {
        const x = v[i];
        if (x === null || typeof x !== "object") continue;
        const d = this.decode(x);
        if (d === rpcHole) delete v[i];
        else if (d !== x) v[i] = d;
      }
      return v;
    }
    const tag = v.$;
    if (tag === undefined) return this.plain(v);
    switch (tag) {
      case "O": return this.plain(v.v);
      case "u": return undefined;
      case "_": return rpcHole;
      case "r": return this.objs[v.i];
      case "c": return this.caps[v.i];
      case "n": return v.v === "-0" ? -0 : Number(v.v);
      case "b": return BigInt(v.v);
      case "D": return this.reg(new Date(v.v));
      case "R": return this.reg(new RegExp(v.s, v.f));
      case "M": {
        const out = this.reg(new Map());
        const a = v.v;
        for (let i = 0; i < a.length; i += 2) {
          const k = this.decode(a[i]);
          out.set(k, this.decode(a[i + 1]));
        }
        return out;
      }
      case "S": {
        const out = this.reg(new Set());
        for (const x of v.v) out.add(this.decode(x));
        return out;
      }
      case "A": return this.reg(this.bufs[v.i]);
      case "V": {
        const C = typedArrayCtors[v.t] || Uint8Array;
        const b = this.bufs[v.i];
        return this.reg(C === DataView ? new DataView(b) : new C(b, 0, b.byteLength / (C.BYTES_PER_ELEMENT || 1)));
      }
      case "E": return this.error(v);
      case "B": {
        const x = v.v;
        return this.reg(Object(v.t === "s" ? x : v.t === "n" ? Number(x) : v.t === "b" ? BigInt(x) : x));
      }
      case "Q": return this.reg(trustedRequest(v.m, v.u, v.h, v.r, v.bt !== undefined ? v.bt : v.b >= 0 ? this.bufs[v.b] : undefined));
      case "P": return this.reg(new Response(v.bt !== undefined ? v.bt : v.b >= 0 ? this.bufs[v.b] : null, { status: v.s, statusText: v.t, headers: v.h }));
      case "H": return this.reg(new Headers(v.v));
      case "RS": {
        const bytes = new Uint8Array(this.bufs[v.i]);
        return this.reg(new ReadableStream({ type: "bytes", start(c) { if (bytes.byteLength) c.enqueue(bytes); c.close(); } }));
      }
    }
    throw new TypeError("isola: unknown RPC tag " + tag);
  }
  plain(v) {
    this.reg(v);
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x === null || typeof x !== "object") continue;
      const d = this.decode(x);
      if (d !== x) rpcSetKey(v, k, d);
    }
    return v;
  }
  error(v) {
    let e;
    if (v.x) {
      e = new DOMException(v.m, v.n);
    } else {
      const C = errorCtors[v.n] || Error;
      e = C === AggregateError ? new AggregateError([], v.m) : new C(v.m);
      if (C === Error && v.n !== "Error") {
        Object.defineProperty(e, "name", { value: v.n, writable: true, configurable: true, enumerable: false });
      }
    }
    // The stack the engine gave it is this decoder's. workerd sends no
    // stack across either: a callee's frames are not the caller's business.
    e.stack = "";
    this.reg(e);
    if (v.l) e[kRpcLocal] = true;
    if (v.p) for (const k of Object.keys(v.p)) rpcSetKey(e, k, this.decode(v.p[k]));
    if (rpcHasOwn.call(v, "c")) Object.defineProperty(e, "cause", { value: this.decode(v.c), writable: true, configurable: true, enumerable: false });
    if (rpcHasOwn.call(v, "e")) Object.defineProperty(e, "errors", { value: this.decode(v.e), writable: true, configurable: true, enumerable: false });
    return e;
  }
}

// capValues turns the capability list Go sends ([{h, k}]) into values; the
// states of the stubs it makes go to stubs, when given.
function capValues(capsJSON, stubs = null) {
  const caps = JSON.parse(capsJSON);
  const out = new Array(caps.length);
  for (let i = 0; i < caps.length; i++) {
    const { h, k } = caps[i];
    switch (k) {
      case "loader": out[i] = new WorkerLoader(h); break;
      case "worker": out[i] = { workerHandle: h }; break;
      case "namespace": out[i] = new DurableObjectNamespace(h); break;
      case "doclass": out[i] = new DurableObjectClass(h); break;
      case "workflow": out[i] = new Workflow(h); break;
      case "step": out[i] = wfStepFromHandle(h); break;
      default: {
        const st = { handle: h, kind: k };
        out[i] = makeStub(st);
        if (stubs !== null) stubs.push(st);
      }
    }
  }
  return out;
}

// rpcDecodeParts decodes a message as Go delivers it. One with tags is
// built by Go when it holds only JSON, undefined, numbers JSON lacks, Dates
// and capabilities (jsvm.DecodeRPC), else by RpcDecoder.
function rpcDecodeParts(json, capsJSON, bufs, stubs) {
  if (capsJSON === "[]" && json.indexOf('"$"') < 0) return JSON.parse(json);
  const caps = capsJSON === "[]" ? rpcNoBufs : capValues(capsJSON, stubs);
  const v = host.rpcDecode(json, caps, rpcMissing);
  if (v !== rpcMissing) return v;
  return new RpcDecoder(caps, bufs, json.indexOf('"$":"r"') >= 0).decode(JSON.parse(json));
}

function rpcDecodeMessage(json, capsJSON, bufs) {
  return rpcDecodeParts(json, capsJSON, bufs, null);
}

// ---------------------------------------------------------------- exports

const rpcExports = new Map();
let rpcNextExport = 1;

function rpcExport(obj) {
  const id = rpcNextExport++;
  rpcExports.set(id, obj);
  return id;
}

// rpcDropExport forgets an object lent out once no stub to it is left; an
// RpcTarget hears of it through its Symbol.dispose method, as in workerd.
function rpcDropExport(id) {
  const obj = rpcExports.get(id);
  rpcExports.delete(id);
  if (obj instanceof RpcTarget) {
    const d = obj[rpcDispose];
    if (typeof d === "function") {
      try {
        d.call(obj);
      } catch (e) {
        consoleEmit("error", ["Uncaught (in RpcTarget dispose)", e]);
      }
    }
  }
}

// ---------------------------------------------------------------- stubs

// Held values: a handle, or the record of a handle that dup() shares.
const stubRegistry = new FinalizationRegistry((held) => {
  if (typeof held === "number") host.rpcRelease(held);
  else if (--held.refs === 0) host.rpcRelease(held.handle);
});

// A stub's state: its handle (or a promise of one, for stubs made before
// their target exists, like a Worker Loader's entrypoints), its kind, and
// noTransfer, the DataCloneError message if it may not be sent anywhere.
function stubHandleNow(st) {
  if (st.disposed) throw rpcDisposedError();
  if (typeof st.handle !== "number") {
    throw rpcCloneError("Could not serialize an RPC stub whose target is still being loaded.");
  }
  return st.handle;
}

async function stubHandle(st) {
  if (st.disposed) throw rpcDisposedError();
  if (typeof st.handle !== "number") {
    const h = await st.handle;
    if (typeof st.handle !== "number") {
      st.handle = h;
      if (st.disposed) {
        host.rpcRelease(h);
        throw rpcDisposedError();
      }
      stubRegistry.register(st.proxy, h, st);
    }
  }
  return st.handle;
}

// One handler serves every stub, finding the stub's state on its target
// (each stub has a target of its own): a handler per stub cost a platform
// three closures and an object for every stub it made. Not a WeakMap from
// target to state: the state holds the proxy, which holds the target, and
// the engine never collects such an entry, so no stub would ever be
// released (TestLoaderGetReleasesHandles).
const kStubState = Symbol("stubState");
const stubHandler = {
  get(t, prop) {
    const st = t[kStubState];
    const fetcher = st.kind === "fetcher";
    if (typeof prop === "symbol") {
      if (prop === kStub) return st;
      if (prop === rpcDispose) return fetcher ? undefined : st.dispose ??= () => disposeStub(st);
      if (prop === Symbol.toStringTag) return st.tag || (fetcher ? "Fetcher" : "JsRpcStub");
      return undefined;
    }
    if (prop === "then") return undefined;
    if (st.members !== undefined && rpcHasOwn.call(st.members, prop)) return st.members[prop];
    if (fetcher) {
      if (prop === "fetch") return stubFetchMethod;
      if (prop === "connect") {
        return () => { throw new Error("connect() over a service binding is not supported yet by Isola."); };
      }
    } else if (prop === "dup") {
      return () => rpcDup(st);
    }
    const local = rpcLocalMember(t, prop);
    if (local !== rpcMissing) return local;
    // One member proxy per name and stub: a platform calls the same few
    // methods over and over, and each proxy costs a function, a handler
    // and its closures.
    const props = st.props ??= new Map();
    let m = props.get(prop);
    if (m === undefined) props.set(prop, m = rpcProperty(st, [prop]));
    return m;
  },
  apply(t, thisArg, args) {
    return rpcInvoke(t[kStubState], rpcNoBufs, "call", args);
  },
  set() { throw new TypeError("RPC stubs are read-only."); },
};

// A stub with an owner (a Worker Loader's memo entry, 66_loader.js) shares
// its owner's handle: the owner releases it, once no stub holds the owner.
function makeStub(st) {
  st.disposed = false;
  const target = st.target || (st.kind === "fetcher" ? {} : function RpcStub() {});
  target[kStubState] = st;
  const proxy = new Proxy(target, stubHandler);
  st.proxy = proxy;
  if (typeof st.handle === "number" && st.owner === undefined) stubRegistry.register(proxy, st.shared || st.handle, st);
  return proxy;
}

// rpcDup is stub.dup(): a second stub on the same target, disposed on its
// own; the handle goes when the last of them does.
function rpcDup(st) {
  if (st.disposed) throw rpcDisposedError();
  if (st.owner !== undefined) return makeStub({ handle: st.handle, kind: st.kind, noTransfer: st.noTransfer, owner: st.owner });
  let shared = st.shared;
  if (!shared) {
    shared = st.shared = { handle: st.handle, refs: 1 };
    stubRegistry.unregister(st);
    stubRegistry.register(st.proxy, shared, st);
  }
  shared.refs++;
  return makeStub({ handle: st.handle, kind: st.kind, shared });
}

function disposeStub(st) {
  if (st.disposed) return;
  st.disposed = true;
  if (typeof st.handle !== "number" || st.owner !== undefined) return; // released once it arrives, or by its owner
  stubRegistry.unregister(st);
  if (st.shared) {
    if (--st.shared.refs === 0) host.rpcRelease(st.handle);
  } else {
    host.rpcRelease(st.handle);
  }
}

// Names every object has from Object.prototype are found on the stub
// itself, as on workerd's stubs (their RPC members never mask them); so
// are integer indices, which workerd's stubs do not have at all.
const rpcObjectMembers = new Set(Object.getOwnPropertyNames(Object.prototype));
const rpcIndex = /^(?:0|[1-9][0-9]*)$/;
const rpcIllegalConstructor = function () { throw new TypeError("Illegal constructor"); };

function rpcLocalMember(t, prop) {
  if (rpcObjectMembers.has(prop)) {
    if (prop === "constructor") return rpcIllegalConstructor;
    if (prop === "__proto__") return rpcGetProto(t);
    return rpcObjectProto[prop];
  }
  const c = prop.charCodeAt(0);
  if (c >= 48 && c <= 57 && rpcIndex.test(prop)) return undefined;
  return rpcMissing;
}

// rpcProperty is a member of a stub: call it, or await it to read it (each
// then() is a read of its own, as in workerd).
function rpcProperty(st, path) {
  const t = function RpcProperty() {};
  t[kRpcProperty] = { st, path };
  return new Proxy(t, rpcPropertyHandler);
}

// Member and pending-call proxies, like stubs, share their handlers and keep
// their state on their targets.
const kRpcProperty = Symbol("rpcProperty");
const rpcPropertyHandler = {
  get(t, prop) {
    if (typeof prop === "symbol") return undefined;
    const { st, path } = t[kRpcProperty];
    if (prop === "then" || prop === "catch" || prop === "finally") {
      const p = rpcInvoke(st, path, "get", rpcNoBufs);
      return (a, b) => p[prop](a, b);
    }
    const local = rpcLocalMember(t, prop);
    if (local !== rpcMissing) return local;
    return rpcProperty(st, path.concat(prop));
  },
  apply(t, thisArg, args) {
    const { st, path } = t[kRpcProperty];
    return rpcInvoke(st, path, "call", args);
  },
};

// rpcPending is the RpcPromise of a call: p resolves to the result, path
// leads from it to the member this proxy stands for.
function rpcPending(p, path) {
  const t = function RpcPromise() {};
  t[kRpcPending] = { p, path, settled: null };
  return new Proxy(t, rpcPendingHandler);
}

const kRpcPending = Symbol("rpcPending");
const rpcPendingHandler = {
  get(t, prop) {
    const s = t[kRpcPending];
    if (typeof prop === "symbol") {
      return prop === rpcDispose ? () => { s.p.then(rpcDisposeValue, rpcIgnore); } : undefined;
    }
    if (prop === "then" || prop === "catch" || prop === "finally") {
      const settled = s.settled ??= s.path.length ? s.p.then((v) => rpcPipelineGet(v, s.path)) : s.p;
      return (a, b) => settled[prop](a, b);
    }
    const local = rpcLocalMember(t, prop);
    if (local !== rpcMissing) return local;
    return rpcPending(s.p, s.path.concat(prop));
  },
  apply(t, thisArg, args) {
    const { p, path } = t[kRpcPending];
    return rpcPending(p.then((v) => rpcPipelineCall(v, path, args)), rpcNoBufs);
  },
};

function rpcIgnore() {}

function rpcNotImplemented(name) {
  return new TypeError(`The RPC receiver does not implement the method "${name}".`);
}

function rpcIsStub(v) {
  return v !== null && (typeof v === "object" || typeof v === "function") && v[kStub] !== undefined;
}

function rpcIsPlain(v) {
  if (v === null || typeof v !== "object") return false;
  const proto = rpcGetProto(v);
  return proto === rpcObjectProto || proto === null;
}

// rpcPipelineGet follows path from a result that has arrived: own
// properties of plain objects, and anything past a stub is the stub's
// target's business. Anything else is what workerd calls not pipelinable.
function rpcPipelineGet(v, path) {
  for (let i = 0; i < path.length; i++) {
    if (rpcIsStub(v)) return rpcInvoke(v[kStub], path.slice(i), "get", rpcNoBufs);
    const name = path[i];
    if (!rpcIsPlain(v) || !rpcHasOwn.call(v, name)) throw rpcNotImplemented(name);
    v = v[name];
  }
  return v;
}

function rpcPipelineCall(v, path, args) {
  const n = path.length;
  for (let i = 0; i < n; i++) {
    if (rpcIsStub(v)) return rpcInvoke(v[kStub], path.slice(i), "call", args);
    if (i === n - 1) break;
    const name = path[i];
    if (!rpcIsPlain(v) || !rpcHasOwn.call(v, name)) throw rpcNotImplemented(name);
    v = v[name];
  }
  if (n === 0) {
    if (rpcIsStub(v)) return rpcInvoke(v[kStub], rpcNoBufs, "call", args);
    throw new TypeError(`"(this)" is not a function.`);
  }
  const last = path[n - 1];
  if (!rpcIsPlain(v) || !rpcHasOwn.call(v, last)) throw rpcNotImplemented(last);
  const fn = v[last];
  if (typeof fn !== "function") throw new TypeError(`"${path.join(".")}" is not a function.`);
  return Reflect.apply(fn, v, args);
}

function rpcInvoke(st, path, op, args) {
  return rpcPending(rpcCall(st, path, op, args), rpcNoBufs);
}

// rpcCall makes one call. The arguments are encoded at once, as workerd
// serializes them when the call is made. The common case (no body to read
// first, a stub whose handle is known) makes no async function: each one
// costs QuickJS a frame and a resumption per call.
function rpcCall(st, path, op, args) {
  if (st.disposed) return Promise.reject(rpcDisposedError());
  let json = "[]", caps = "[]", bufs = rpcNoBufs;
  const scalars = args.length ? rpcScalarArgsJSON(args) : null;
  if (scalars !== null) {
    json = scalars;
    if (typeof st.handle !== "number") return rpcCallLater(st, path, op, json, null);
  } else if (args.length) {
    const enc = new RpcEncoder(true);
    try {
      json = rpcEncodeJSON(enc, args);
    } catch (e) {
      return Promise.reject(e);
    }
    if (enc.tasks.length || typeof st.handle !== "number") return rpcCallLater(st, path, op, json, enc);
    caps = rpcCapsJSON(enc.caps);
    bufs = enc.bufs;
  } else if (typeof st.handle !== "number") {
    return rpcCallLater(st, path, op, json, null);
  }
  return rpcSendCall(st.handle, path, op, json, caps, bufs);
}

// rpcScalarArgsJSON writes arguments that all cross as themselves (see
// rpcJSONScalar) as JSON, else gives null: without a JSON.stringify call
// for the array (rpcScalarJSON says why).
function rpcScalarArgsJSON(args) {
  let out = "[";
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (!rpcJSONScalar(v)) return null;
    out += i === 0 ? rpcScalarJSON(v) : "," + rpcScalarJSON(v);
  }
  return out + "]";
}

// rpcPathJSON is a call's path as JSON. Most paths are one method name,
// the same few again and again: their JSON is kept.
const rpcNamePaths = new Map();
function rpcPathJSON(path) {
  if (path.length !== 1) return path.length ? JSON.stringify(path) : "[]";
  const name = path[0];
  let json = rpcNamePaths.get(name);
  if (json === undefined) {
    json = JSON.stringify(path);
    if (rpcNamePaths.size >= 256) rpcNamePaths.clear();
    rpcNamePaths.set(name, json);
  }
  return json;
}

// rpcCallLater finishes a call that must first read bodies or wait for
// its stub's target to load.
async function rpcCallLater(st, path, op, json, enc) {
  let caps = "[]", bufs = rpcNoBufs;
  if (enc !== null) {
    if (enc.tasks.length) await Promise.all(enc.tasks);
    caps = rpcCapsJSON(enc.caps);
    bufs = enc.bufs;
  }
  const handle = await stubHandle(st);
  return rpcSendCall(handle, path, op, json, caps, bufs);
}

function rpcSendCall(handle, path, op, json, caps, bufs) {
  let p;
  try {
    const ps = rpcPathJSON(path);
    p = bufs.length ? Reflect.apply(host.rpcCall, host, [handle, ps, op, json, caps].concat(bufs)) : host.rpcCall(handle, ps, op, json, caps);
  } catch (e) {
    return Promise.reject(typeof e === "string" ? hostError(e) : e);
  }
  return p; // settled by rpcSettleCall
}

// Go settles a call's promise through these (host.rpcSettlers): the reply
// is unpacked in the job that settles the promise, not in a then() that
// would cost every call a promise and a job more. failed: v is the
// "Name: message" of a failure in Go. A call's reply comes as its parts
// after extra ([ok, json, caps, ...bufs]: packed), with v undefined.
function rpcSettleCall(resolve, reject, v, failed, extra, ...packed) {
  try {
    if (failed) rpcHostRejection(v);
    resolve(unpackReply(packed));
  } catch (e) {
    reject(e);
  }
}

// A response in HTTP's terms comes as its parts after url (status first),
// with v undefined.
function rpcSettleFetch(resolve, reject, v, failed, url, status, statusText, headers, kind, body, socket) {
  try {
    if (failed) rpcHostRejection(v);
    resolve(status !== undefined ? fetchedResponse(status, statusText, headers, kind, body, url, socket && wsFromHost(socket)) : unpackReply(v));
  } catch (e) {
    reject(e);
  }
}

host.rpcSettlers(rpcSettleCall, rpcSettleFetch);

function rpcHostRejection(e) {
  throw typeof e === "string" ? hostError(e) : e;
}

// Results keep the stubs that came with them here, for their dispose().
const rpcResultStubs = new WeakMap();

function rpcResultDispose() {
  const stubs = rpcResultStubs.get(this);
  if (stubs === undefined) return;
  rpcResultStubs.delete(this);
  for (const st of stubs) disposeStub(st);
}

function rpcDisposeValue(v) {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return;
  const d = v[rpcDispose];
  if (typeof d === "function") d.call(v);
}

// kRpcLocal marks an error the callee raised on the caller's behalf (an
// entrypoint that does not exist), which workerd raises without crossing.
const kRpcLocal = Symbol("rpcLocal");

// unpackReply decodes a reply: a result gets its dispose(); a thrown value
// is marked remote, as workerd marks exceptions that crossed RPC.
function unpackReply(packed) {
  const stubs = [];
  const v = rpcDecodeParts(packed[1], packed[2], packed.length > 3 ? packed.slice(3) : rpcNoBufs, stubs);
  if (!packed[0]) {
    if (v !== null && typeof v === "object") {
      if (v[kRpcLocal] === true) delete v[kRpcLocal];
      else try { v.remote = true; } catch { /* frozen: left as it is */ }
      throw v;
    }
    const e = new Error(String(v));
    e.remote = true;
    throw e;
  }
  if (v !== null && typeof v === "object" && v[kStub] === undefined) {
    Object.defineProperty(v, rpcDispose, { value: rpcResultDispose, writable: true, configurable: true, enumerable: false });
    if (stubs.length) rpcResultStubs.set(v, stubs);
  }
  return v;
}

// stubFetchMethod is fetch() of every Fetcher stub: it finds its stub
// through `this`, as workerd's Fetcher.fetch does (called detached, it
// throws workerd's error), and no stub makes a closure of its own.
function stubFetchMethod(input, init) {
  const st = this !== null && (typeof this === "object" || typeof this === "function") ? this[kStub] : undefined;
  if (st === undefined || st.kind !== "fetcher") throw webIllegalInvocation();
  return stubFetch(st, input, init);
}

// stubFetch is fetch() on a Fetcher stub: the request crosses with its body
// read into memory, and so does the response.
function stubFetch(st, input, init) {
  let req, parts;
  try {
    req = input instanceof Request && init === undefined ? input : new Request(input, init);
    if (st.disposed) throw rpcDisposedError();
    if (bodyUsed(req[kBody])) throw new TypeError("Cannot reconstruct a Request with a used body.");
    // In HTTP's terms when the body allows it (stubfetch.go); a body that
    // is a stream of the worker's making is read and encoded.
    parts = requestParts(req);
    if (parts === null) return rpcInvoke(st, ["fetch"], "call", [req]);
    if (typeof st.handle !== "number") return stubHandle(st).then((h) => stubFetchSend(h, parts));
    return stubFetchSend(st.handle, parts);
  } catch (e) {
    return Promise.reject(e);
  }
}

// stubFetchSend makes the call; no async function, which would cost
// QuickJS a frame and a resumption on the hottest path there is.
function stubFetchSend(handle, parts) {
  let p;
  try {
    p = host.rpcFetch(handle, parts[0], parts[1], parts[2], parts[3]);
  } catch (e) {
    return Promise.reject(typeof e === "string" ? hostError(e) : e);
  }
  return p; // settled by rpcSettleFetch
}

// rpcHandleFetch serves a fetch() through a stub that came in HTTP's terms
// (target already parsed, 90_worker.js): the request is made as an incoming
// one is, then served as any call is.
const rpcFetchCalls = new Set();
function rpcHandleFetch(id, target, method, url, headers, kind, body) {
  const req = receivedRequest(method, url, headers, kind, body);
  rpcFetchCalls.add(id);
  if (target.kind === "actor") {
    rpcResolved.then(() => actorServe(id, target, ["fetch"], "call", [req], rpcNoStubs));
    return;
  }
  rpcServe(id, target, ["fetch"], "call", [req], rpcNoStubs);
}
const rpcNoStubs = Object.freeze([]);

// rpcAnswerFetch answers a fetch call served outside this unit (90_worker.js)
// with what rpcAnswer makes of it.
function rpcAnswerFetch(id, v) {
  rpcFetchCalls.add(id);
  rpcAnswer(id, true, v, rpcNoStubs);
}

// ---------------------------------------------------------------- callee

// Reserved names: on entrypoints (workerd's list) and on objects lent out.
const rpcEntryReserved = new Set(["fetch", "connect", "alarm", "webSocketMessage", "webSocketClose", "webSocketError", "dup", "constructor"]);
const rpcTransientReserved = new Set(["dup", "constructor"]);

const rpcEntryClasses = new WeakMap();
function rpcIsEntryClass(fn) {
  let c = rpcEntryClasses.get(fn);
  if (c === undefined) {
    c = fn.prototype instanceof WorkerEntrypoint || isClass(fn);
    rpcEntryClasses.set(fn, c);
  }
  return c;
}

// rpcHandleInvoke serves a call Go delivers, and answers through rpcReturn
// or rpcThrow. Stubs that came with the arguments are disposed once the
// answer is sent. The worker's code runs at once, in the host's call: a
// limit hit there (an interrupt, which JavaScript cannot catch) comes out of
// that call, and Go ends the isolate, which fails the call with the limit's
// message (deliver). A job of its own cost every call a promise reaction.
function rpcHandleInvoke(id, targetJSON, pathJSON, op, json, capsJSON, ...bufs) {
  const stubs = [];
  let target, path, args;
  try {
    args = rpcDecodeParts(json, capsJSON, bufs, stubs);
    target = rpcParsedOnce(rpcTargets, targetJSON);
    path = rpcParsedOnce(rpcPaths, pathJSON);
  } catch (e) {
    rpcAnswer(id, false, e, stubs);
    return;
  }
  if (target.kind === "actor") {
    rpcResolved.then(() => actorServe(id, target, path, op, args, stubs));
    return;
  }
  rpcServe(id, target, path, op, args, stubs);
}

const rpcResolved = Promise.resolve();

// A platform calls the same few targets and methods over and over: their
// descriptions are parsed once. Neither is changed by the code that uses
// them (a target's props are decoded afresh for every call).
const rpcTargets = new Map();
const rpcPaths = new Map();
function rpcParsedOnce(cache, json) {
  let v = cache.get(json);
  if (v === undefined) {
    v = JSON.parse(json);
    if (cache.size >= 256) cache.clear();
    cache.set(json, v);
  }
  return v;
}

function rpcServe(id, target, path, op, args, stubs) {
  let result;
  try {
    result = rpcDispatch(target, path, op, args);
    if (result !== null && (typeof result === "object" || typeof result === "function") && typeof result.then === "function") {
      Promise.resolve(result).then((v) => rpcAnswer(id, true, v, stubs), (e) => rpcAnswer(id, false, e, stubs));
      return;
    }
  } catch (e) {
    rpcAnswer(id, false, e, stubs);
    return;
  }
  rpcAnswer(id, true, result, stubs);
}

function rpcDispatch(target, path, op, args) {
  if (target.kind === "export") {
    const obj = rpcExports.get(target.id);
    if (obj === undefined) throw rpcDisposedError();
    return rpcApplyPath(obj, typeof obj === "function", path, op, args, null, rpcTransientReserved);
  }
  const props = target.props ? rpcDecodeParts(target.props, target.propsCaps || "[]", rpcNoBufs, null) : {};
  const ctx = new ExecutionContext(props);
  const name = target.name;
  const exported = workerModule ? workerModule[name || "default"] : undefined;
  let recv, envCtx = null;
  if (typeof exported === "function" && rpcIsEntryClass(exported)) {
    recv = new exported(ctx, workerEnv);
  } else if (exported !== null && typeof exported === "object") {
    recv = exported;
    envCtx = ctx;
  } else {
    // workerd finds out on the caller's side: the error is not remote.
    const e = new Error(`Worker has no such entrypoint: ${name || "default"}`);
    e[kRpcLocal] = true;
    throw e;
  }
  if (op === "call" && path.length === 1 && path[0] === "fetch") {
    const fn = recv.fetch;
    if (typeof fn !== "function") throw noFetchHandler();
    return envCtx ? Reflect.apply(fn, recv, [args[0], workerEnv, envCtx]) : Reflect.apply(fn, recv, [args[0]]);
  }
  return rpcApplyPath(recv, envCtx !== null, path, op, args, envCtx, rpcEntryReserved);
}

// rpcMember reads a member with workerd's rules: a plain object (or a
// function) shows its own properties; an entrypoint or RpcTarget shows its
// class's members but neither its own properties nor Object.prototype's.
function rpcMember(obj, name, own, reserved) {
  if (reserved.has(name)) throw new TypeError(`'${name}' is a reserved method and cannot be called over RPC.`);
  if (own) {
    if (!rpcHasOwn.call(obj, name)) throw rpcNotImplemented(name);
    return obj[name];
  }
  if (rpcHasOwn.call(obj, name)) throw rpcNotImplemented(name);
  const v = obj[name];
  if (v === rpcObjectProto[name]) throw rpcNotImplemented(name);
  return v;
}

function rpcApplyPath(obj, own, path, op, args, envCtx, reserved) {
  const n = path.length;
  if (n === 0) {
    if (op !== "call" || typeof obj !== "function") throw new TypeError(`"(this)" is not a function.`);
    return Reflect.apply(obj, obj, args);
  }
  for (let i = 0; i < n - 1; i++) {
    const name = path[i];
    const next = rpcMember(obj, name, own, reserved);
    if (next === null || (typeof next !== "object" && typeof next !== "function")) throw rpcNotImplemented(name);
    const st = next[kStub];
    if (st !== undefined) return rpcInvoke(st, path.slice(i + 1), op, args);
    if (typeof next === "function") own = true;
    else if (rpcIsPlain(next)) own = true;
    else if (next instanceof RpcTarget) own = false;
    else throw rpcNotImplemented(name);
    obj = next;
    reserved = rpcTransientReserved;
  }
  const v = rpcMember(obj, path[n - 1], own, reserved);
  if (op === "get") return typeof v === "function" && v[kStub] === undefined ? rpcBind(v, obj) : v;
  if (typeof v !== "function") throw new TypeError(`"${path.join(".")}" is not a function.`);
  if (envCtx !== null) {
    // A handler object's method takes (arg, env, ctx).
    const len = v[kStub] === undefined ? v.length : 0;
    const arity = len < 3 ? 3 : len;
    if (arity !== 3) {
      throw new TypeError(`Cannot call handler function "${path.join(".")}" over RPC because it has the wrong number of arguments. A simple function handler can only be called over RPC if it has exactly the arguments (arg, env, ctx), where only the first argument comes from the client. To support multi-argument RPC functions, use class-based syntax (extending WorkerEntrypoint) instead.`);
    }
    if (args.length !== 1) {
      throw new TypeError(`Attempted to call RPC function "${path.join(".")}" with the wrong number of arguments. When calling a top-level handler function that is not declared as part of a class, you must always send exactly one argument. In order to support variable numbers of arguments, the server must use class-based syntax (extending WorkerEntrypoint) instead.`);
    }
    return Reflect.apply(v, obj, [args[0], workerEnv, envCtx]);
  }
  return Reflect.apply(v, obj, args);
}

// rpcAnswer sends the outcome of a call. A thrown value that is not an
// object arrives as an Error (workerd's rule); one that cannot be encoded
// arrives as an Error with its message.
function rpcAnswer(id, ok, v, stubs) {
  if (rpcFetchCalls.size !== 0 && rpcFetchCalls.delete(id) && ok) {
    if (!(v instanceof Response)) {
      rpcAnswer(id, false, new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'."), stubs);
      return;
    }
    if (v.webSocket !== null) {
      wsFetchReturn(id, v);
      return;
    }
    if (sendFetchAnswer(id, v)) return;
  }
  // QuickJS throws null when it runs out of memory so completely that it
  // cannot make its InternalError. With the heap still near its limit that
  // is what a null is (Go then stops the isolate with the memory-limit
  // error); otherwise the code threw null and it crosses as workerd sends it.
  if (!ok && v === null && host.memoryTight()) {
    host.rpcThrow(id, '{"$":"E","n":"InternalError","m":"out of memory"}', "[]");
    return;
  }
  if (!ok && (v === null || (typeof v !== "object" && typeof v !== "function"))) v = new Error(rpcString(v));
  if (ok && (v === undefined || rpcJSONScalar(v))) {
    // Most answers are nothing, a string, a number or a boolean: no encoder.
    host.rpcReturn(id, v === undefined ? '{"$":"u"}' : rpcScalarJSON(v), "[]");
    if (stubs.length) for (const st of stubs) disposeStub(st);
    return;
  }
  let enc, json;
  try {
    enc = new RpcEncoder(true, true);
    json = rpcEncodeJSON(enc, v);
  } catch (e) {
    if (ok) {
      rpcAnswer(id, false, e, stubs);
      return;
    }
    enc = new RpcEncoder(false, true);
    json = JSON.stringify(enc.encode(new Error(rpcString(v && v.message !== undefined ? v.message : v))));
  }
  if (enc.tasks !== null && enc.tasks.length) {
    Promise.all(enc.tasks).then(() => rpcSend(id, ok, json, enc, stubs), (e) => rpcAnswer(id, false, e, stubs));
    return;
  }
  rpcSend(id, ok, json, enc, stubs);
}

// rpcJSONScalar reports whether v crosses as itself in JSON: a string, a
// boolean, null, or a number JSON writes as it is.
function rpcJSONScalar(v) {
  switch (typeof v) {
    case "string": case "boolean": return true;
    case "number": return rpcPlainNumber(v);
    case "object": return v === null;
  }
  return false;
}

// rpcScalarJSON is JSON.stringify of a value rpcJSONScalar accepts, made
// without the call for all but strings (which it escapes): a call costs
// this engine ~1 µs for a number and ~2 µs for the smallest array, most of
// it the call itself.
function rpcScalarJSON(v) {
  switch (typeof v) {
    case "string": return JSON.stringify(v);
    case "boolean": return v ? "true" : "false";
    case "number": return "" + v;
  }
  return "null";
}

// rpcPlainNumber: finite and not -0, which JSON would lose.
function rpcPlainNumber(v) {
  return v === v && v !== Infinity && v !== -Infinity && (v !== 0 || 1 / v > 0);
}

function rpcBind(fn, obj) {
  return (...args) => Reflect.apply(fn, obj, args);
}

function rpcString(v) {
  try {
    return String(v);
  } catch {
    return "Error";
  }
}

function rpcSend(id, ok, json, enc, stubs) {
  const caps = rpcCapsJSON(enc.caps);
  const fn = ok ? host.rpcReturn : host.rpcThrow;
  if (enc.bufs.length) Reflect.apply(fn, host, [id, json, caps].concat(enc.bufs));
  else fn(id, json, caps);
  if (stubs.length === 0) return;
  // A stub sent back in the answer stays: Go has taken its target, but the
  // receiver has not taken a handle yet.
  let sent = null;
  for (const c of enc.caps) if (c.h) (sent ??= new Set()).add(c.h);
  for (const st of stubs) if (sent === null || !sent.has(st.handle)) disposeStub(st);
}


