// 68_storage.js: ctx.storage of a Durable Object, with workerd's classes,
// rules and words: the asynchronous key-value API, the synchronous one
// (storage.kv), SQL (storage.sql), transactions and alarms, on the host
// functions of storagehost.go. A lazy unit: an isolate loads it when an
// object first reads ctx.storage.
//
// For other prelude files: storageMake(handle, opts) makes the storage
// object of the store Go registered under handle (Isolate.addStore); opts
// are { legacy, blockConcurrencyWhile(fn) → Promise, hasAlarmHandler() →
// boolean, runningAlarm() → the scheduled time of the alarm whose handler is
// running, or null }; the facet rule (no alarms) is enforced in Go.
//
// Host calls answer null when they fail; stError then says why, as
// "Name: message". Everything here runs synchronously against SQLite, so the
// asynchronous API only wraps results in promises (as workerd does for
// SQLite-backed objects) and its errors become rejections.
//
// Values. A value is stored as the Workers RPC encoding (65_rpc.js): JSON
// where plain data stays as it is, {"$": tag, ...} for the rest, and binary
// data in a side list of ArrayBuffers. What may be stored and what comes
// back follow workerd, which stores what V8's serializer writes: a class
// instance comes back as a plain object; an error keeps its class only when
// its name is a standard one, and keeps its message, stack and cause but no
// other property; functions, symbols, stubs and most platform objects are a
// DataCloneError. The encoder and decoder here are storage's own, so that
// storage never loads the RPC unit; an error's stack travels in "s", which
// RPC lacks.
//
// Known differences from workerd: a typed array comes back over a buffer of
// its own (V8 keeps the whole buffer it viewed, and shares one buffer
// between views); an array's non-index properties are dropped; a Blob is
// refused; kv.list() reads the whole range when it is called, so it does
// not see writes made while it is iterated; cursors read up to a chunk of
// rows ahead.

hostNeed("storage");

const storageToken = Symbol("storage");
const storageObjectProto = Object.prototype;
const storageGetProto = Object.getPrototypeOf;
const storageHasOwn = Object.prototype.hasOwnProperty;
const storageIsArray = Array.isArray;
const storageKeys = Object.keys;
const storageDefine = Object.defineProperty;
const storageApply = Reflect.apply;
const storageIteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
const storageDateTime = Date.prototype.getTime;
const storageMapEntries = Map.prototype.entries;
const storageSetValues = Set.prototype.values;
const storageBufferSlice = ArrayBuffer.prototype.slice;
const storageBufferDetached = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached").get;
const storageTypedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
const storageUndefinedTag = { $: "u" };
const storageHoleTag = { $: "_" };
const storageErrorNames = new Set(["EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"]);
const storageErrorCtors = {
  __proto__: null, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
};
const storageViewCtors = {
  __proto__: null,
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
};
// The deepest value V8 serializes in practice before its stack runs out.
const storageMaxDepth = 1000;

const storageSqlLegacyMessage = "SQL is not enabled for this Durable Object class. To enable it, change " +
  "`new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or " +
  "wrangler.toml file. If using workerd directly,set `enableSql = true` in your workerd config for the " +
  "class. Note that this change cannot be made after the class is already deployed to production.";
const storageKvLegacyMessage = "The storage.kv (synchronous KV) API is only available for SQLite-backed " +
  "Durable Objects, but this object's namespace is not declared to use SQLite. You can use the older, " +
  "asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). Alternatively, to enable " +
  "SQLite, change `new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc " +
  "or wrangler.toml file. If using workerd directly, set `enableSql = true` in your workerd config for the " +
  "class. Note that this change cannot be made after the class is already deployed to production.";
const storageDeletedMessage = "SQLite query was canceled because the database was deleted.";

// ---------------------------------------------------------------- errors

function storageFail() {
  throw hostError(host.stError());
}

function storageIllegal() {
  return new TypeError("Illegal invocation: function called with incorrect `this` reference. " +
    "See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
}

function storageParamError(method, iface, n, type) {
  return new TypeError(`Failed to execute '${method}' on '${iface}': parameter ${n} is not of type '${type}'.`);
}

function storageCloneError(message) {
  return new DOMException(message, "DataCloneError");
}

// storageKey converts a key as WebIDL does: V8's ToString, which throws for
// a symbol.
function storageKey(k) {
  if (typeof k === "string") return k;
  if (typeof k === "symbol") throw storageSymbolError();
  return `${k}`;
}

function storageSymbolError() {
  return new TypeError("Cannot convert a Symbol value to a string");
}

// storageOptions checks an options dictionary argument; its members only
// tune caching and gates, which a SQLite-backed object does not have.
function storageOptions(o, method, iface, n, type) {
  if (o !== undefined && o !== null && typeof o !== "object" && typeof o !== "function") {
    throw storageParamError(method, iface, n, type);
  }
}

// ---------------------------------------------------------------- values

// The RPC unit's stub marker, once that unit is loaded: before, no stub
// exists.
let storageStubKey;
function storageIsStub(v) {
  if (storageStubKey === undefined) {
    if (!isLoaded("kStub")) return false;
    storageStubKey = kStub;
  }
  return v[storageStubKey] !== undefined;
}

class StorageEncoder {
  constructor() {
    this.bufs = null;
    // Objects are numbered in the order met, as the decoder numbers what it
    // makes; the first needs no Map (most values hold one object at most).
    this.first = null;
    this.seen = null;
    this.count = 0;
    this.depth = 0;
  }
  buf(b) {
    if (this.bufs === null) this.bufs = [];
    this.bufs.push(b);
    return this.bufs.length - 1;
  }
  encode(v) {
    switch (typeof v) {
      case "string": case "boolean": return v;
      case "number":
        if (v === v && v !== Infinity && v !== -Infinity && (v !== 0 || 1 / v > 0)) return v;
        return { $: "n", v: v === 0 ? "-0" : String(v) };
      case "undefined": return storageUndefinedTag;
      case "bigint": return { $: "b", v: v.toString() };
      case "symbol": throw storageCloneError(`${String(v)} could not be cloned.`);
      case "function":
        if (storageIsStub(v)) throw storageCloneError("ServiceStub cannot be serialized in this context.");
        throw storageCloneError(`${cloneDescribe(v, "")} could not be cloned.`);
    }
    if (v === null) return null;
    return this.object(v);
  }
  mark(v) {
    if (this.count === 0) {
      this.first = v;
    } else {
      if (this.seen === null) this.seen = new Map([[this.first, 0]]);
      this.seen.set(v, this.count);
    }
    this.count++;
  }
  object(v) {
    const i = this.seen !== null ? this.seen.get(v) : v === this.first ? 0 : undefined;
    if (i !== undefined) return { $: "r", i };
    if (++this.depth > storageMaxDepth) throw new RangeError("Maximum call stack size exceeded");
    let out;
    const proto = storageGetProto(v);
    if ((proto === storageObjectProto || proto === null) && !storageIsStub(v)) {
      this.mark(v);
      out = this.plain(v);
    } else if (storageIsArray(v)) {
      this.mark(v);
      const n = v.length;
      out = new Array(n);
      for (let i = 0; i < n; i++) {
        const x = v[i];
        out[i] = x === undefined && !(i in v) ? storageHoleTag : this.encode(x);
      }
    } else {
      out = this.special(v);
    }
    this.depth--;
    return out;
  }
  plain(v) {
    const out = {};
    const keys = storageKeys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const x = this.encode(v[k]);
      if (k === "__proto__") storageDefine(out, k, { value: x, writable: true, enumerable: true, configurable: true });
      else out[k] = x;
    }
    return storageHasOwn.call(v, "$") ? { $: "O", v: out } : out;
  }
  special(v) {
    if (storageIsStub(v)) throw storageCloneError("ServiceStub cannot be serialized in this context.");
    if (v instanceof Date) {
      this.mark(v);
      return { $: "D", v: storageDateTime.call(v) };
    }
    if (v instanceof RegExp) {
      this.mark(v);
      return { $: "R", s: v.source, f: v.flags };
    }
    if (v instanceof Map) {
      this.mark(v);
      const out = [];
      for (const [k, x] of [...storageMapEntries.call(v)]) out.push(this.encode(k), this.encode(x));
      return { $: "M", v: out };
    }
    if (v instanceof Set) {
      this.mark(v);
      const out = [];
      for (const x of [...storageSetValues.call(v)]) out.push(this.encode(x));
      return { $: "S", v: out };
    }
    if (v instanceof ArrayBuffer) {
      if (storageBufferDetached.call(v)) throw storageCloneError("An ArrayBuffer is detached and could not be cloned.");
      this.mark(v);
      return { $: "A", i: this.buf(storageBufferSlice.call(v, 0)) };
    }
    if (typeof SharedArrayBuffer === "function" && v instanceof SharedArrayBuffer) {
      this.mark(v);
      return { $: "A", i: this.buf(new Uint8Array(v).slice().buffer) };
    }
    if (ArrayBuffer.isView(v)) {
      const name = v instanceof DataView ? "DataView" : storageTypedArrayName.call(v);
      if (storageBufferDetached.call(v.buffer)) throw storageCloneError("An ArrayBuffer is detached and could not be cloned.");
      this.mark(v);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      return { $: "V", t: name, i: this.buf(bytes.buffer) };
    }
    if (isLoaded("DOMException") && v instanceof DOMException) {
      this.mark(v);
      const out = { $: "E", n: String(v.name), m: String(v.message), x: 1 };
      if (typeof v.stack === "string") out.s = v.stack;
      return out;
    }
    if (v instanceof Error) {
      this.mark(v);
      return this.error(v);
    }
    if (v instanceof String) {
      this.mark(v);
      return { $: "B", t: "s", v: String.prototype.valueOf.call(v) };
    }
    if (v instanceof Number) {
      this.mark(v);
      return { $: "B", t: "n", v: String(Number.prototype.valueOf.call(v)) };
    }
    if (v instanceof Boolean) {
      this.mark(v);
      return { $: "B", t: "t", v: Boolean.prototype.valueOf.call(v) };
    }
    if (v instanceof BigInt) {
      this.mark(v);
      return { $: "B", t: "b", v: BigInt.prototype.valueOf.call(v).toString() };
    }
    if (v instanceof Headers) {
      this.mark(v);
      return { $: "H", v: storageHeaderPairs(v) };
    }
    if (v instanceof Request) {
      if (v[kBody]) throw storageCloneError("ReadableStream can only be serialized for RPC.");
      this.mark(v);
      return { $: "Q", m: v.method, u: v.url, h: storageHeaderPairs(v.headers), r: v.redirect, b: -1 };
    }
    if (v instanceof Response) {
      if (v[kBody]) throw storageCloneError("ReadableStream can only be serialized for RPC.");
      this.mark(v);
      return { $: "P", s: v.status, t: v.statusText, h: storageHeaderPairs(v.headers), b: -1 };
    }
    if (isLoaded("ReadableStream") && v instanceof ReadableStream) {
      throw storageCloneError("ReadableStream can only be serialized for RPC.");
    }
    if (v instanceof RpcTarget) throw storageCloneError("Remote RPC references can only be serialized for RPC.");
    const tag = cloneToString.call(v);
    if (cloneRefused.has(tag)) cloneRefuse(v, tag);
    clonePlatformCheck(v, tag);
    if (storageIsPlatform(v)) {
      throw storageCloneError(`Could not serialize object of type "${cloneConstructorName(v, "Object")}". This type does not support serialization.`);
    }
    // Any other object, a class instance included, is stored as V8 stores
    // it: as a plain object of its own enumerable properties.
    this.mark(v);
    return this.plain(v);
  }
  // error stores what V8 does: the class when the name is a standard one,
  // an own message, the stack and an own cause.
  error(v) {
    const name = v.name;
    const out = { $: "E", n: typeof name === "string" && storageErrorNames.has(name) ? name : "Error" };
    if (storageHasOwn.call(v, "message")) out.m = String(v.message);
    const stack = v.stack;
    if (typeof stack === "string") out.s = stack;
    if (storageHasOwn.call(v, "cause")) out.c = this.encode(v.cause);
    return out;
  }
}

function storageHeaderPairs(h) {
  const out = [];
  for (const [k, list] of h[kHeaderList]) for (const x of list) out.push([k, x]);
  return out;
}

// storageIsPlatform recognises objects of the runtime's own classes (the
// prelude's, the engine's): their constructors have no source. V8 refuses
// to serialize such host objects, and so does workerd.
const storageFunctionSource = Function.prototype.toString;
function storageIsPlatform(v) {
  for (let p = storageGetProto(v); p !== null && p !== storageObjectProto; p = storageGetProto(p)) {
    const d = Object.getOwnPropertyDescriptor(p, "constructor");
    if (d !== undefined && typeof d.value === "function" && storageFunctionSource.call(d.value).endsWith("[native code]\n}")) {
      return true;
    }
  }
  return false;
}

// storageEncode returns a value's JSON; its buffers, if it has any, are
// left in storageBufs for the host call that follows.
let storageBufs = null;
function storageEncode(v) {
  storageBufs = null;
  switch (typeof v) {
    case "string": return JSON.stringify(v);
    case "boolean": return v ? "true" : "false";
    case "number":
      // A finite number other than -0 is its own JSON, as String writes it.
      if (v === v && v !== Infinity && v !== -Infinity && (v !== 0 || 1 / v > 0)) return "" + v;
  }
  const enc = new StorageEncoder();
  const json = JSON.stringify(enc.encode(v));
  storageBufs = enc.bufs;
  return json;
}

class StorageDecoder {
  // bufs[base + i] is the value's buffer i.
  constructor(bufs, base) {
    this.bufs = bufs;
    this.base = base;
    this.objs = [];
  }
  reg(o) {
    this.objs.push(o);
    return o;
  }
  decode(v) {
    if (v === null || typeof v !== "object") return v;
    if (storageIsArray(v)) {
      const n = v.length;
      const out = this.reg(new Array(n));
      for (let i = 0; i < n; i++) {
        const x = v[i];
        if (x !== null && typeof x === "object" && x.$ === "_") continue;
        out[i] = this.decode(x);
      }
      return out;
    }
    const tag = v.$;
    if (tag === undefined) return this.plain(v);
    switch (tag) {
      case "O": return this.plain(v.v);
      case "u": return undefined;
      case "r": return this.objs[v.i];
      case "n": return v.v === "-0" ? -0 : Number(v.v);
      case "b": return BigInt(v.v);
      case "D": return this.reg(new Date(v.v === null ? NaN : v.v));
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
      case "A": return this.reg(this.bufs[this.base + v.i]);
      case "V": {
        const C = storageViewCtors[v.t] || Uint8Array;
        const b = this.bufs[this.base + v.i];
        return this.reg(C === DataView ? new DataView(b) : new C(b, 0, b.byteLength / C.BYTES_PER_ELEMENT));
      }
      case "E": return this.error(v);
      case "B": {
        const x = v.v;
        return this.reg(Object(v.t === "s" ? x : v.t === "n" ? Number(x) : v.t === "b" ? BigInt(x) : x));
      }
      case "H": return this.reg(new Headers(v.v));
      case "Q": return this.reg(trustedRequest(v.m, v.u, v.h, v.r, undefined));
      case "P": return this.reg(new Response(null, { status: v.s, statusText: v.t, headers: v.h }));
    }
    throw new Error(`isola: a stored value has an unknown tag ${JSON.stringify(tag)}`);
  }
  plain(v) {
    const out = this.reg({});
    for (const k of storageKeys(v)) {
      const x = this.decode(v[k]);
      if (k === "__proto__") storageDefine(out, k, { value: x, writable: true, enumerable: true, configurable: true });
      else out[k] = x;
    }
    return out;
  }
  error(v) {
    let e;
    if (v.x) {
      e = new DOMException(v.m, v.n);
    } else {
      const C = storageErrorCtors[v.n] || Error;
      e = v.m === undefined ? new C() : new C(v.m);
    }
    this.reg(e);
    if (v.s !== undefined) storageDefine(e, "stack", { value: v.s, writable: true, enumerable: false, configurable: true });
    if (storageHasOwn.call(v, "c")) {
      storageDefine(e, "cause", { value: this.decode(v.c), writable: true, enumerable: false, configurable: true });
    }
    return e;
  }
}

// storageValue turns a host answer for one value (its JSON, or [json,
// ...buffers] when it has tags) into the value.
function storageValue(r) {
  if (typeof r === "string") return JSON.parse(r);
  return new StorageDecoder(r, 1).decode(JSON.parse(r[0]));
}

// storagePairs turns a host list answer into [key, value, key, value, ...].
function storagePairs(r) {
  if (typeof r === "string") return JSON.parse(r);
  const pairs = JSON.parse(r[0]);
  for (const [i, base] of JSON.parse(r[1])) pairs[2 * i + 1] = new StorageDecoder(r, 2 + base).decode(pairs[2 * i + 1]);
  return pairs;
}

function storageMap(pairs) {
  const m = new Map();
  for (let i = 0; i < pairs.length; i += 2) m.set(pairs[i], pairs[i + 1]);
  return m;
}

// ---------------------------------------------------------------- operations
// s is the state storageMake keeps for a store: h its handle; gen counts
// deleteAll() calls (a cursor of the old database fails) and listGen
// list() calls (only the newest kv.list() iterator works).

function storageGetOne(s, key) {
  const r = host.stGet(s.h, key);
  if (typeof r === "string") return JSON.parse(r);
  if (r === undefined) return undefined;
  if (r === null) storageFail();
  return storageValue(r);
}

function storagePutOne(s, key, value) {
  const json = storageEncode(value);
  const bufs = storageBufs;
  const r = bufs === null ? host.stPut(s.h, key, json) : host.stPut(s.h, key, json, ...bufs);
  if (r === null) storageFail();
}

// storageAtomically runs fn inside a transactionSync-like savepoint, so that
// a multi-key write applies whole or not at all.
function storageAtomically(s, fn) {
  const id = host.stTxBegin(s.h, true);
  if (id === null) storageFail();
  let done = false;
  try {
    const r = fn();
    done = true;
    return r;
  } finally {
    if (host.stTxEnd(s.h, id, done) === null && done) storageFail();
  }
}

function storagePutMany(s, entries) {
  const keys = [], jsons = [], bufs = [];
  for (const k of storageKeys(entries)) {
    const v = entries[k];
    // workerd drops undefined values from an entries object.
    if (v === undefined) continue;
    keys.push(k);
    jsons.push(storageEncode(v));
    bufs.push(storageBufs);
  }
  if (keys.length === 0) return;
  storageAtomically(s, () => {
    for (let i = 0; i < keys.length; i++) {
      const b = bufs[i];
      const r = b === null ? host.stPut(s.h, keys[i], jsons[i]) : host.stPut(s.h, keys[i], jsons[i], ...b);
      if (r === null) storageFail();
    }
  });
}

function storageDeleteOne(s, key) {
  const r = host.stDelete(s.h, key);
  if (r === null) storageFail();
  return r;
}

function storageDeleteMany(s, keys) {
  if (keys.length === 0) return 0;
  return storageAtomically(s, () => {
    let n = 0;
    for (const k of keys) if (storageDeleteOne(s, k)) n++;
    return n;
  });
}

function storageGetMany(s, keys) {
  const r = host.stGetMany(s.h, JSON.stringify(keys));
  if (r === null) storageFail();
  return storageMap(storagePairs(r));
}

function storageKeyArray(keys) {
  const out = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = storageKey(keys[i]);
  return out;
}

// storageListOptions reads a ListOptions dictionary as WebIDL converts it.
function storageListOptions(o, method, iface) {
  const out = {};
  if (o === undefined || o === null) return out;
  if (typeof o !== "object" && typeof o !== "function") throw storageParamError(method, iface, 1, "ListOptions");
  let v = o.start;
  if (v !== undefined) out.start = storageKey(v);
  v = o.startAfter;
  if (v !== undefined) out.startAfter = storageKey(v);
  v = o.end;
  if (v !== undefined) out.end = storageKey(v);
  v = o.prefix;
  if (v !== undefined) out.prefix = storageKey(v);
  v = o.reverse;
  if (v !== undefined) out.reverse = !!v;
  v = o.limit;
  if (v !== undefined) {
    let n = +v;
    n = n === n && n !== Infinity && n !== -Infinity ? Math.trunc(n) : 0;
    if (n > 2147483647 || n < -2147483648) {
      throw new TypeError("Value out of range. Must be between -2147483648 and 2147483647 (inclusive).");
    }
    out.limit = n;
  }
  return out;
}

function storageList(s, o) {
  if (o.start !== undefined && o.startAfter !== undefined) {
    throw new TypeError("list() cannot be called with both start and startAfter values.");
  }
  if (o.limit !== undefined && o.limit <= 0) throw new TypeError("List limit must be positive.");
  s.listGen++;
  const r = host.stList(s.h, JSON.stringify(o));
  if (r === null) storageFail();
  return storagePairs(r);
}

function storageGetAlarm(s) {
  const r = host.stGetAlarm(s.h);
  if (r === null) storageFail();
  // The alarm whose handler is running reads as unset (see actorAlarm).
  if (r === 0 || (s.runningAlarm !== null && s.runningAlarm() === r)) return null;
  return r;
}

// storageAlarmTime converts setAlarm's argument as workerd's kj::Date
// conversion does: milliseconds, whole, within int64 nanoseconds.
function storageAlarmTime(t, method, iface) {
  let ms;
  if (typeof t === "number") ms = t;
  else if (t instanceof Date) ms = t.getTime();
  else throw storageParamError(method, iface, 1, "date");
  if (ms !== ms || ms === Infinity || ms === -Infinity) {
    throw new TypeError("The value cannot be converted because it is not a valid Date.");
  }
  const nanos = ms * 1e6;
  if (!(nanos < 9223372036854775807)) throw new TypeError("This API doesn't support dates after 2189.");
  if (!(nanos > -9223372036854775808)) throw new TypeError("This API doesn't support dates before 1687.");
  return Math.trunc(ms);
}

function storageSetAlarm(s, ms) {
  if (!(ms > 0)) throw new TypeError("setAlarm() cannot be called with an alarm time <= 0");
  if (s.hasAlarmHandler !== null && !s.hasAlarmHandler()) {
    throw new TypeError("Your Durable Object class must have an alarm() handler in order to call setAlarm()");
  }
  // A time in the past becomes now, as in workerd (which keeps alarm times
  // unique and in order that way).
  const now = Math.trunc(Date.now());
  if (host.stSetAlarm(s.h, ms > now ? ms : now) === null) storageFail();
}

function storageDeleteAlarm(s) {
  if (host.stDeleteAlarm(s.h) === null) storageFail();
}

// ---------------------------------------------------------------- the API
// Methods are shared by DurableObjectStorage and DurableObjectTransaction;
// iface names the class in argument errors.

function storageDoGet(s, args, iface) {
  const [keys, options] = args;
  if (args.length === 0) throw storageParamError("get", iface, 1, "string or Array");
  const many = storageIsArray(keys);
  const k = many ? storageKeyArray(keys) : storageKey(keys);
  storageOptions(options, "get", iface, 2, "GetOptions");
  return many ? storageGetMany(s, k) : storageGetOne(s, k);
}

function storageDoPut(s, args, iface) {
  const [k, value, options] = args;
  if (args.length === 0) throw storageParamError("put", iface, 1, "string or object");
  if (k !== null && ((typeof k === "object" && !storageIsArray(k)) || typeof k === "function")) {
    if (value !== undefined && value !== null && typeof value !== "object" && typeof value !== "function") {
      throw new TypeError("put() may only be called with a single key-value pair and optional options as put(key, value, options) or with multiple key-value pairs and optional options as put(entries, options)");
    }
    storagePutMany(s, k);
    return;
  }
  const key = storageKey(k);
  storageOptions(options, "put", iface, 3, "PutOptions");
  if (value === undefined) throw new TypeError("put() called with undefined value.");
  storagePutOne(s, key, value);
}

function storageDoDelete(s, args, iface) {
  const [keys, options] = args;
  if (args.length === 0) throw storageParamError("delete", iface, 1, "string or Array");
  const many = storageIsArray(keys);
  const k = many ? storageKeyArray(keys) : storageKey(keys);
  storageOptions(options, "delete", iface, 2, "PutOptions");
  return many ? storageDeleteMany(s, k) : storageDeleteOne(s, k);
}

function storageDoList(s, args, iface) {
  return storageMap(storageList(s, storageListOptions(args[0], "list", iface)));
}

function storageDoGetAlarm(s, args, iface) {
  storageOptions(args[0], "getAlarm", iface, 1, "GetAlarmOptions");
  return storageGetAlarm(s);
}

function storageDoSetAlarm(s, args, iface) {
  const ms = storageAlarmTime(args[0], "setAlarm", iface);
  storageOptions(args[1], "setAlarm", iface, 2, "SetAlarmOptions");
  storageSetAlarm(s, ms);
}

function storageDoDeleteAlarm(s, args, iface) {
  storageOptions(args[0], "deleteAlarm", iface, 1, "SetAlarmOptions");
  storageDeleteAlarm(s);
}

// storagePromise runs op now and settles a promise with its outcome.
function storagePromise(op, s, args, iface) {
  try {
    return Promise.resolve(op(s, args, iface));
  } catch (e) {
    return Promise.reject(e);
  }
}

let storageStateOf;
class DurableObjectStorage {
  #s;
  constructor(token, s) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#s = s;
  }
  static {
    storageStateOf = (o) => {
      if (o === null || typeof o !== "object" || !(#s in o)) throw storageIllegal();
      return o.#s;
    };
  }
  get(...args) {
    try {
      return storagePromise(storageDoGet, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  list(...args) {
    try {
      return storagePromise(storageDoList, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  put(...args) {
    try {
      return storagePromise(storageDoPut, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  delete(...args) {
    try {
      return storagePromise(storageDoDelete, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  deleteAll(...args) {
    try {
      const s = storageStateOf(this);
      storageOptions(args[0], "deleteAll", "DurableObjectStorage", 1, "PutOptions");
      if (host.stDeleteAll(s.h) === null) storageFail();
      s.gen++;
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
  transaction(...args) {
    try {
      const s = storageStateOf(this);
      const [closure, options] = args;
      if (typeof closure !== "function") throw storageParamError("transaction", "DurableObjectStorage", 1, "function");
      storageOptions(options, "transaction", "DurableObjectStorage", 2, "TransactionOptions");
      // The input gate stays shut while the transaction runs, so no other
      // event joins it. A failure of the closure is carried out of
      // blockConcurrencyWhile as a value: it rolls the transaction back
      // but must not reset the object.
      const run = () => storageRunTransaction(s, closure);
      const p = s.blockConcurrencyWhile !== null ? s.blockConcurrencyWhile(run) : run();
      return p.then((r) => {
        if (r.failed) throw r.value;
        return r.value;
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }
  getAlarm(...args) {
    try {
      return storagePromise(storageDoGetAlarm, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  setAlarm(...args) {
    try {
      return storagePromise(storageDoSetAlarm, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  deleteAlarm(...args) {
    try {
      return storagePromise(storageDoDeleteAlarm, storageStateOf(this), args, "DurableObjectStorage");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  sync() {
    try {
      storageStateOf(this);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
  transactionSync(closure) {
    const s = storageStateOf(this);
    if (typeof closure !== "function") throw storageParamError("transactionSync", "DurableObjectStorage", 1, "function");
    return storageAtomically(s, () => closure.call(globalThis));
  }
  getCurrentBookmark() {
    try {
      storageStateOf(this);
      return Promise.resolve("00000000-00000000-00000000-00000000000000000000000000000000");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  getBookmarkForTime() {
    try {
      storageStateOf(this);
      throw new Error("This Durable Object's storage back-end does not implement point-in-time recovery.");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  onNextSessionRestoreBookmark() {
    try {
      storageStateOf(this);
      throw new Error("This Durable Object's storage back-end does not implement point-in-time recovery.");
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

async function storageRunTransaction(s, closure) {
  let t;
  try {
    const id = host.stTxBegin(s.h, false);
    if (id === null) storageFail();
    t = { s, id, state: "open" };
    const txn = new DurableObjectStorageTxn(storageToken, t);
    // workerd calls the closure from a promise reaction, as here.
    const value = await Promise.resolve(txn).then((x) => closure.call(globalThis, x));
    if (t.state === "open") {
      t.state = "committed";
      if (host.stTxEnd(s.h, t.id, true) === null) storageFail();
    }
    return { failed: false, value };
  } catch (e) {
    if (t !== undefined && t.state === "open") host.stTxEnd(s.h, t.id, false);
    if (t !== undefined) t.state = "committed";
    return { failed: true, value: e };
  }
}

let storageTxnOf;
const DurableObjectStorageTxn = class DurableObjectTransaction {
  #t;
  constructor(token, t) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#t = t;
  }
  static {
    // storageTxnOf checks that the transaction can still be used for op.
    storageTxnOf = (o, op) => {
      if (o === null || typeof o !== "object" || !(#t in o)) throw storageIllegal();
      const t = o.#t;
      if (t.state === "rolledBack") throw new Error(`Cannot ${op} on rolled back transaction`);
      if (t.state === "committed") {
        throw new Error(`Cannot call ${op} on transaction that has already committed: did you move \`txn\` outside of the closure?`);
      }
      return t.s;
    };
  }
  get(...args) {
    try {
      return storagePromise(storageDoGet, storageTxnOf(this, "get()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  list(...args) {
    try {
      return storagePromise(storageDoList, storageTxnOf(this, "list()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  put(...args) {
    try {
      return storagePromise(storageDoPut, storageTxnOf(this, "put()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  delete(...args) {
    try {
      return storagePromise(storageDoDelete, storageTxnOf(this, "delete()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  deleteAll() {
    if (this === null || typeof this !== "object" || !(#t in this)) throw storageIllegal();
    throw new Error("Cannot call deleteAll() within a transaction");
  }
  rollback() {
    if (this === null || typeof this !== "object" || !(#t in this)) throw storageIllegal();
    const t = this.#t;
    if (t.state === "rolledBack") return;
    storageTxnOf(this, "rollback()");
    t.state = "rolledBack";
    if (host.stTxEnd(t.s.h, t.id, false) === null) storageFail();
  }
  getAlarm(...args) {
    try {
      return storagePromise(storageDoGetAlarm, storageTxnOf(this, "getAlarm()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  setAlarm(...args) {
    try {
      return storagePromise(storageDoSetAlarm, storageTxnOf(this, "setAlarm()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
  deleteAlarm(...args) {
    try {
      return storagePromise(storageDoDeleteAlarm, storageTxnOf(this, "deleteAlarm()"), args, "DurableObjectTransaction");
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

// ---------------------------------------------------------------- storage.kv

let storageKvOf;
class SyncKvStorage {
  #s;
  constructor(token, s) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#s = s;
  }
  static {
    storageKvOf = (o) => {
      if (o === null || typeof o !== "object" || !(#s in o)) throw storageIllegal();
      return o.#s;
    };
  }
  get(key) {
    const s = storageKvOf(this);
    if (key === undefined && arguments.length === 0) throw storageParamError("get", "SyncKvStorage", 1, "string");
    if (typeof key !== "string") key = storageKey(key);
    if (s.legacy) throw new Error(storageKvLegacyMessage);
    const r = host.stGet(s.h, key);
    if (typeof r === "string") return JSON.parse(r);
    if (r === undefined) return undefined;
    if (r === null) storageFail();
    return storageValue(r);
  }
  put(key, value) {
    const s = storageKvOf(this);
    if (value === undefined && arguments.length < 2) {
      throw arguments.length === 0
        ? storageParamError("put", "SyncKvStorage", 1, "string")
        : storageParamError("put", "SyncKvStorage", 2, "Value");
    }
    if (typeof key !== "string") key = storageKey(key);
    if (s.legacy) throw new Error(storageKvLegacyMessage);
    storagePutOne(s, key, value);
  }
  delete(key) {
    const s = storageKvOf(this);
    if (key === undefined && arguments.length === 0) throw storageParamError("delete", "SyncKvStorage", 1, "string");
    if (typeof key !== "string") key = storageKey(key);
    if (s.legacy) throw new Error(storageKvLegacyMessage);
    return storageDeleteOne(s, key);
  }
  list(options) {
    const s = storageKvOf(this);
    const o = storageListOptions(options, "list", "SyncKvStorage");
    if (s.legacy) throw new Error(storageKvLegacyMessage);
    return new SyncKvListIterator(storageToken, { s, gen: 0, pairs: storageList(s, o), i: 0 });
  }
}

let storageListOf;
const SyncKvListIterator = class ListIterator {
  #l;
  constructor(token, l) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    l.gen = l.s.listGen;
    this.#l = l;
  }
  static {
    storageListOf = (o) => {
      if (o === null || typeof o !== "object" || !(#l in o)) throw storageIllegal();
      return o.#l;
    };
  }
  next() {
    const l = storageListOf(this);
    if (l.i >= l.pairs.length) return { done: true, value: undefined };
    if (l.gen !== l.s.listGen) {
      l.i = l.pairs.length;
      throw new Error("kv.list() iterator was invalidated because a new call to kv.list() was started. Only one kv.list() iterator can exist at a time.");
    }
    const i = l.i;
    l.i += 2;
    return { done: false, value: [l.pairs[i], l.pairs[i + 1]] };
  }
}
Object.setPrototypeOf(SyncKvListIterator.prototype, storageIteratorProto);

// ---------------------------------------------------------------- storage.sql

// storageSqlBinding converts a binding as workerd does: numbers bind as
// REAL, buffers and views as BLOBs, null and undefined as NULL, and
// anything else as its string (true becomes 'true').
function storageSqlBinding(v) {
  switch (typeof v) {
    case "number": case "string": return v;
    case "undefined": return null;
    case "boolean": return v ? "true" : "false";
    case "bigint": throw new TypeError("Cannot convert a BigInt value to a number");
    case "symbol": throw storageSymbolError();
  }
  if (v === null) return null;
  if (v instanceof ArrayBuffer) return v;
  if (ArrayBuffer.isView(v)) return exactBuffer(v);
  return `${v}`;
}

let storageSqlOf;
class SqlStorage {
  #s;
  constructor(token, s) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#s = s;
  }
  static {
    storageSqlOf = (o) => {
      if (o === null || typeof o !== "object" || !(#s in o)) throw storageIllegal();
      return o.#s;
    };
  }
  exec(...args) {
    const s = storageSqlOf(this);
    if (args.length === 0) throw storageParamError("exec", "SqlStorage", 1, "String");
    let query = args[0];
    if (typeof query !== "string") query = storageKey(query);
    let r;
    if (args.length === 1) {
      if (s.legacy) throw new Error(storageSqlLegacyMessage);
      r = host.stSqlExec(s.h, query, "");
    } else {
      // The host call's arguments: handle, query, the buffers' marks (a
      // "b" at the index of each ArrayBuffer, see stSqlExec), bindings.
      let buffers = "";
      const call = [s.h, query, ""];
      for (let i = 1; i < args.length; i++) {
        const b = storageSqlBinding(args[i]);
        call.push(b);
        if (b !== null && typeof b === "object") buffers = buffers.padEnd(i - 1, "-") + "b";
      }
      call[2] = buffers;
      if (s.legacy) throw new Error(storageSqlLegacyMessage);
      r = storageApply(host.stSqlExec, null, call);
    }
    if (r === null) storageFail();
    const c = storageSqlChunk(null, r);
    c.push(0, s, s.gen); // SqlNext, SqlStore, SqlGen
    // A statement left open (more rows than one chunk) is closed when the
    // cursor is read to its end, or here if it is dropped before.
    if (c[SqlID] !== 0) storageCursors.register(c, { h: s.h, id: c[SqlID] }, c);
    return new SqlCursor(storageToken, c);
  }
  get databaseSize() {
    const s = storageSqlOf(this);
    if (s.legacy) throw new Error(storageSqlLegacyMessage);
    const n = host.stSqlSize(s.h);
    if (n === null) storageFail();
    return n;
  }
}

// A cursor's state is the array its first chunk of rows arrived as (see
// sqlRows in storagehost.go), updated in place by later chunks: building no
// object of its own saves much of a small query's cost.
const SqlRead = 0;
const SqlWritten = 1;
const SqlID = 2; // the Go cursor still open, or 0
const SqlSpecial = 3;
const SqlRows = 4;
const SqlCols = 5;
const SqlErr = 6; // "Name: message" to throw after the rows, or 0
const SqlNext = 7; // index of the next row in SqlRows
const SqlStore = 8;
const SqlGen = 9; // the store's deleteAll() count when the query ran

// Cursors that still hold a SQLite statement in Go: it is released when
// the cursor is read to its end, and here when it is dropped before.
const storageCursors = new FinalizationRegistry((held) => host.stSqlClose(held.h, held.id));

// storageSqlChunk takes in a chunk of rows: as a new cursor state when c is
// null, else into c.
function storageSqlChunk(c, r) {
  const p = JSON.parse(typeof r === "string" ? r : r[0]);
  const rows = p[SqlRows];
  if (p[SqlSpecial] === 1) {
    for (const row of rows) {
      for (let j = 0; j < row.length; j++) {
        const x = row[j];
        if (x !== null && typeof x === "object") row[j] = x.b !== undefined ? r[1 + x.b] : x.f > 0 ? Infinity : -Infinity;
      }
    }
  }
  if (c === null) {
    if (p.length === SqlErr) p.push(0);
    return p;
  }
  c[SqlRead] = p[SqlRead];
  c[SqlWritten] = p[SqlWritten];
  c[SqlID] = p[SqlID];
  c[SqlRows] = rows;
  c[SqlErr] = p.length > SqlErr ? p[SqlErr] : 0;
  c[SqlNext] = 0;
  return c;
}

// storageNextRow returns the cursor's next row as an array, or undefined at
// the end.
function storageNextRow(c) {
  for (;;) {
    const rows = c[SqlRows];
    if (c[SqlNext] < rows.length) {
      if (c[SqlGen] !== c[SqlStore].gen) {
        storageCursorEnd(c);
        throw new Error(storageDeletedMessage);
      }
      return rows[c[SqlNext]++];
    }
    if (c[SqlErr] !== 0) {
      const text = c[SqlErr];
      c[SqlErr] = 0;
      throw hostError(text);
    }
    const id = c[SqlID];
    if (id === 0) return undefined;
    const r = host.stSqlNext(c[SqlStore].h, id);
    if (r === null) {
      storageCursorEnd(c);
      storageFail();
    }
    storageSqlChunk(c, r);
    if (c[SqlID] === 0) storageCursors.unregister(c);
  }
}

function storageCursorEnd(c) {
  c[SqlRows] = [];
  c[SqlNext] = 0;
  c[SqlErr] = 0;
  const id = c[SqlID];
  if (id !== 0) {
    storageCursors.unregister(c);
    host.stSqlClose(c[SqlStore].h, id);
    c[SqlID] = 0;
  }
}

function storageRowObject(cols, row) {
  // Plain assignment, as workerd builds rows: a column named __proto__
  // sets the prototype when its value is an object.
  const o = {};
  for (let i = 0; i < cols.length; i++) o[cols[i]] = row[i];
  return o;
}

let storageCursorOf;
const SqlCursor = class Cursor {
  #c;
  constructor(token, c) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  static {
    storageCursorOf = (o) => {
      if (o === null || typeof o !== "object" || !(#c in o)) throw storageIllegal();
      return o.#c;
    };
  }
  next() {
    const c = storageCursorOf(this);
    const row = storageNextRow(c);
    if (row === undefined) return { done: true, value: undefined };
    return { done: false, value: storageRowObject(c[SqlCols], row) };
  }
  toArray() {
    const c = storageCursorOf(this);
    const out = [];
    const cols = c[SqlCols];
    for (let row; (row = storageNextRow(c)) !== undefined;) out.push(storageRowObject(cols, row));
    return out;
  }
  one() {
    const c = storageCursorOf(this);
    const row = storageNextRow(c);
    if (row === undefined) throw new Error("Expected exactly one result from SQL query, but got no results.");
    if (c[SqlNext] < c[SqlRows].length || c[SqlID] !== 0 || c[SqlErr] !== 0) {
      storageCursorEnd(c);
      throw new Error("Expected exactly one result from SQL query, but got multiple results.");
    }
    return storageRowObject(c[SqlCols], row);
  }
  raw() {
    return new SqlRawIterator(storageToken, storageCursorOf(this));
  }
  get columnNames() {
    return storageCursorOf(this)[SqlCols];
  }
  // rowsRead counts as workerd's cursor does, which reads one row ahead of
  // the rows it has handed out.
  get rowsRead() {
    const c = storageCursorOf(this);
    const read = c[SqlRead], left = c[SqlRows].length - c[SqlNext];
    if (c[SqlID] === 0 && left > 0) return Math.min(read, read - left + 1);
    return read;
  }
  get rowsWritten() {
    return storageCursorOf(this)[SqlWritten];
  }
  [Symbol.iterator]() {
    return new SqlRowIterator(storageToken, storageCursorOf(this));
  }
}

let storageRowsOf;
const SqlRowIterator = class RowIterator {
  #c;
  constructor(token, c) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  static {
    storageRowsOf = (o) => {
      if (o === null || typeof o !== "object" || !(#c in o)) throw storageIllegal();
      return o.#c;
    };
  }
  next() {
    const c = storageRowsOf(this);
    const row = storageNextRow(c);
    if (row === undefined) return { done: true, value: undefined };
    return { done: false, value: storageRowObject(c[SqlCols], row) };
  }
  [Symbol.iterator]() {
    return this;
  }
}

let storageRawOf;
const SqlRawIterator = class RawIterator {
  #c;
  constructor(token, c) {
    if (token !== storageToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  static {
    storageRawOf = (o) => {
      if (o === null || typeof o !== "object" || !(#c in o)) throw storageIllegal();
      return o.#c;
    };
  }
  next() {
    const row = storageNextRow(storageRawOf(this));
    if (row === undefined) return { done: true, value: undefined };
    return { done: false, value: row };
  }
}
Object.setPrototypeOf(SqlRawIterator.prototype, storageIteratorProto);

// Statement is SqlStorage.Statement, which only exists for the experimental
// prepare() API.
const SqlStatement = class Statement {
  constructor() {
    throw new TypeError("Illegal constructor");
  }
}

// ---------------------------------------------------------------- shapes

// storageShape gives a class workerd's (JSG's) look: enumerable members,
// methods of length 0, and a toString tag.
function storageShape(cls, tag) {
  const proto = cls.prototype;
  for (const key of Reflect.ownKeys(proto)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (typeof d.value === "function") storageDefine(d.value, "length", { value: 0 });
    if (typeof key === "string") storageDefine(proto, key, { enumerable: true });
  }
  storageDefine(proto, Symbol.toStringTag, { value: tag, configurable: true });
  // JSG lists the constructor after the members, and the tag before other
  // symbols: re-adding a property moves it last.
  for (const key of [...Object.getOwnPropertySymbols(proto), "constructor"]) {
    if (key === Symbol.toStringTag) continue;
    const d = Object.getOwnPropertyDescriptor(proto, key);
    delete proto[key];
    storageDefine(proto, key, d);
  }
}
storageShape(DurableObjectStorage, "DurableObjectStorage");
storageShape(DurableObjectStorageTxn, "DurableObjectTransaction");
storageShape(SyncKvStorage, "SyncKvStorage");
storageShape(SyncKvListIterator, "ListIterator");
storageShape(SqlStorage, "SqlStorage");
storageShape(SqlCursor, "Cursor");
storageShape(SqlRowIterator, "RowIterator");
storageShape(SqlRawIterator, "RawIterator");
storageDefine(SqlStorage.prototype, "Cursor", { value: SqlCursor, writable: true, enumerable: true, configurable: true });
storageDefine(SqlStorage.prototype, "Statement", { value: SqlStatement, writable: true, enumerable: true, configurable: true });
// storageMake makes ctx.storage for the store Go registered as handle.
function storageMake(handle, opts) {
  const s = {
    h: handle,
    legacy: !!opts.legacy,
    blockConcurrencyWhile: typeof opts.blockConcurrencyWhile === "function" ? opts.blockConcurrencyWhile : null,
    hasAlarmHandler: typeof opts.hasAlarmHandler === "function" ? opts.hasAlarmHandler : null,
    runningAlarm: typeof opts.runningAlarm === "function" ? opts.runningAlarm : null,
    gen: 0,
    listGen: 0,
  };
  const storage = new DurableObjectStorage(storageToken, s);
  storageDefine(storage, "kv", { value: new SyncKvStorage(storageToken, s), writable: true, enumerable: true, configurable: true });
  storageDefine(storage, "sql", { value: new SqlStorage(storageToken, s), writable: true, enumerable: true, configurable: true });
  return storage;
}
