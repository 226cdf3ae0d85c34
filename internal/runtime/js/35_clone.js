// 35_clone.js: structuredClone, the HTML structured clone algorithm in JS,
// with the choices and messages of workerd, which serializes through V8
// (checked against workerd itself): a RegExp loses its lastIndex, an array
// keeps its holes and extra properties, an error keeps its own properties,
// what cannot be cloned is a DataCloneError "<value> could not be cloned.",
// and a platform object (URL, Event, ...) "does not support serialization".
//
// For other prelude files: cloneValue(v) clones without a transfer list,
// and cloneRegister(Class, fn) teaches the clone a platform class: fn(value,
// cloneChild) returns the copy, or throws to refuse.

// Brand checks borrowed from the builtins, captured before worker code runs:
// Object.prototype.toString alone can be fooled by Symbol.toStringTag.
const cloneToString = Object.prototype.toString;
const cloneHasOwn = Object.prototype.hasOwnProperty;
const cloneGetter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const cloneTypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const cloneTypedArrayName = cloneGetter(cloneTypedArrayProto, Symbol.toStringTag);
const cloneViewBuffer = cloneGetter(cloneTypedArrayProto, "buffer");
const cloneViewOffset = cloneGetter(cloneTypedArrayProto, "byteOffset");
const cloneViewByteLength = cloneGetter(cloneTypedArrayProto, "byteLength");
const cloneViewLength = cloneGetter(cloneTypedArrayProto, "length");
const cloneBufferByteLength = cloneGetter(ArrayBuffer.prototype, "byteLength");
const cloneBufferDetached = cloneGetter(ArrayBuffer.prototype, "detached");
const cloneBufferResizable = cloneGetter(ArrayBuffer.prototype, "resizable");
const cloneBufferMaxByteLength = cloneGetter(ArrayBuffer.prototype, "maxByteLength");
const cloneBufferSlice = ArrayBuffer.prototype.slice;
const cloneBufferTransfer = ArrayBuffer.prototype.transfer;
const cloneDataViewBuffer = cloneGetter(DataView.prototype, "buffer");
const cloneDataViewOffset = cloneGetter(DataView.prototype, "byteOffset");
const cloneDateTime = Date.prototype.getTime;
const cloneRegExpSource = cloneGetter(RegExp.prototype, "source");
const cloneRegExpFlags = cloneGetter(RegExp.prototype, "flags");
const cloneMapSize = cloneGetter(Map.prototype, "size");
const cloneMapEntries = Map.prototype.entries;
const cloneMapSet = Map.prototype.set;
const cloneSetSize = cloneGetter(Set.prototype, "size");
const cloneSetValues = Set.prototype.values;
const cloneSetAdd = Set.prototype.add;
const cloneTypedArrays = {
  __proto__: null,
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};
if (typeof Float16Array === "function") cloneTypedArrays.Float16Array = Float16Array;
const cloneErrorTypes = {
  __proto__: null, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError,
};

// Builtins V8 refuses whatever their properties. Any other tag belongs to an
// ordinary object (perhaps with its own Symbol.toStringTag) or a platform
// object.
const cloneRefused = new Set([
  "[object Promise]", "[object WeakMap]", "[object WeakSet]", "[object WeakRef]",
  "[object FinalizationRegistry]", "[object Generator]", "[object AsyncGenerator]",
  "[object Arguments]", "[object Symbol]", "[object Module]", "[object Array Iterator]",
  "[object Map Iterator]", "[object Set Iterator]", "[object String Iterator]",
  "[object RegExp String Iterator]", "[object Iterator Helper]",
]);
// Of those, the ones V8 names by their tag rather than their constructor.
const cloneNamedByTag = /^\[object (?:Symbol|Generator|AsyncGenerator|.* Iterator|Iterator Helper)\]$/;

const cloneHooks = [];
function cloneRegister(cls, fn) {
  cloneHooks.push([cls, fn]);
}

function cloneError(message) {
  return new DOMException(message, "DataCloneError");
}

// cloneDescribe names a value the way V8's DataCloneError message does.
function cloneDescribe(v, tag) {
  if (typeof v === "symbol") return String(v);
  if (typeof v === "function") {
    // V8 shows a builtin on one line.
    return Function.prototype.toString.call(v).replace(/\{\s*\[native code\]\s*\}$/, "{ [native code] }");
  }
  if (cloneNamedByTag.test(tag)) return tag;
  return `#<${cloneConstructorName(v, "Object")}>`;
}

function cloneConstructorName(v, fallback) {
  try {
    const ctor = v.constructor;
    if (typeof ctor === "function" && typeof ctor.name === "string" && ctor.name !== "") return ctor.name;
  } catch {
    // A throwing constructor getter still leaves a name to report.
  }
  return fallback;
}

function cloneRefuse(v, tag) {
  throw cloneError(`${cloneDescribe(v, tag)} could not be cloned.`);
}

// cloneBrand calls a builtin that throws on the wrong kind of receiver.
function cloneBrand(fn, v) {
  try {
    fn.call(v);
    return true;
  } catch {
    return false;
  }
}

// clonePlatformCheck refuses the prelude's own platform objects. The tag
// says which file to ask, so no lazily loaded unit is loaded just to say no.
function clonePlatformCheck(v, tag) {
  let platform;
  switch (tag) {
    case "[object TextEncoder]":
    case "[object TextDecoder]":
      platform = encIsPlatform(v);
      break;
    case "[object URL]":
    case "[object URLSearchParams]":
      platform = urlIsPlatform(v);
      break;
    case "[object AbortSignal]":
      if (isAbortSignal(v)) throw cloneError("AbortSignal serialization is not enabled.");
      platform = false;
      break;
    default:
      // Events and event targets, subclasses with tags of their own included.
      platform = evtIsPlatform(v);
  }
  if (platform) {
    throw cloneError(`Could not serialize object of type "${cloneConstructorName(v, tag.slice(8, -1))}". This type does not support serialization.`);
  }
}

function cloneBuffer(buffer) {
  if (cloneBufferDetached.call(buffer)) throw cloneError("An ArrayBuffer is detached and could not be cloned.");
  if (!cloneBufferResizable.call(buffer)) return cloneBufferSlice.call(buffer, 0);
  const copy = new ArrayBuffer(cloneBufferByteLength.call(buffer), { maxByteLength: cloneBufferMaxByteLength.call(buffer) });
  new Uint8Array(copy).set(new Uint8Array(buffer));
  return copy;
}

function cloneInner(v, memo) {
  if (typeof v !== "object" || v === null) {
    if (typeof v === "function" || typeof v === "symbol") cloneRefuse(v, "");
    return v;
  }
  const seen = memo.get(v);
  if (seen !== undefined) return seen;

  for (const [cls, fn] of cloneHooks) {
    if (v instanceof cls) {
      const out = fn(v, (child) => cloneInner(child, memo));
      memo.set(v, out);
      return out;
    }
  }

  const tag = cloneToString.call(v);
  switch (tag) {
    case "[object Object]":
      return clonePlain(v, memo);
    case "[object Array]":
      if (Array.isArray(v)) return cloneArray(v, memo);
      break;
    case "[object Date]":
      if (cloneBrand(cloneDateTime, v)) return cloneMemo(memo, v, new Date(cloneDateTime.call(v)));
      break;
    case "[object RegExp]":
      if (cloneBrand(cloneRegExpSource, v)) {
        return cloneMemo(memo, v, new RegExp(cloneRegExpSource.call(v), cloneRegExpFlags.call(v)));
      }
      break;
    case "[object Boolean]":
      if (cloneBrand(Boolean.prototype.valueOf, v)) return cloneMemo(memo, v, Object(Boolean.prototype.valueOf.call(v)));
      break;
    case "[object Number]":
      if (cloneBrand(Number.prototype.valueOf, v)) return cloneMemo(memo, v, Object(Number.prototype.valueOf.call(v)));
      break;
    case "[object String]":
      if (cloneBrand(String.prototype.valueOf, v)) return cloneMemo(memo, v, Object(String.prototype.valueOf.call(v)));
      break;
    case "[object BigInt]":
      if (cloneBrand(BigInt.prototype.valueOf, v)) return cloneMemo(memo, v, Object(BigInt.prototype.valueOf.call(v)));
      break;
    case "[object Map]":
      if (cloneBrand(cloneMapSize, v)) {
        const out = cloneMemo(memo, v, new Map());
        // Snapshot first: cloning a key or value runs getters that could
        // change the map under a live iterator.
        for (const [key, value] of [...cloneMapEntries.call(v)]) {
          cloneMapSet.call(out, cloneInner(key, memo), cloneInner(value, memo));
        }
        return out;
      }
      break;
    case "[object Set]":
      if (cloneBrand(cloneSetSize, v)) {
        const out = cloneMemo(memo, v, new Set());
        for (const value of [...cloneSetValues.call(v)]) cloneSetAdd.call(out, cloneInner(value, memo));
        return out;
      }
      break;
    case "[object ArrayBuffer]":
      if (cloneBrand(cloneBufferByteLength, v)) return cloneMemo(memo, v, cloneBuffer(v));
      break;
    case "[object SharedArrayBuffer]":
      // Sharing the memory is the point of a SharedArrayBuffer, and QuickJS
      // cannot make a second object over it: the clone is the original.
      return v;
    case "[object DataView]":
      if (cloneBrand(cloneDataViewBuffer, v)) {
        const buffer = cloneDataViewBuffer.call(v);
        if (cloneBufferDetached.call(buffer)) throw cloneError("An ArrayBuffer is detached and could not be cloned.");
        const copy = cloneInner(buffer, memo);
        return cloneMemo(memo, v, new DataView(copy, cloneDataViewOffset.call(v), v.byteLength));
      }
      break;
    case "[object Error]":
      return cloneErrorValue(v, memo);
  }
  const typedName = cloneTypedArrayName.call(v);
  if (typedName !== undefined) return cloneTypedArray(v, typedName, memo);
  if (cloneRefused.has(tag)) cloneRefuse(v, tag);
  clonePlatformCheck(v, tag);
  return clonePlain(v, memo);
}

function cloneTypedArray(v, name, memo) {
  const buffer = cloneViewBuffer.call(v);
  if (cloneBufferDetached.call(buffer)) throw cloneError("An ArrayBuffer is detached and could not be cloned.");
  const copy = cloneInner(buffer, memo);
  const offset = cloneViewOffset.call(v);
  // QuickJS cannot say whether a view over a resizable buffer tracks its
  // length; one that reaches the buffer's end is taken to, the usual case.
  const tracking = cloneBufferResizable.call(buffer) && offset + cloneViewByteLength.call(v) === cloneBufferByteLength.call(buffer);
  const ctor = cloneTypedArrays[name];
  return cloneMemo(memo, v, tracking ? new ctor(copy, offset) : new ctor(copy, offset, cloneViewLength.call(v)));
}

function cloneMemo(memo, from, to) {
  memo.set(from, to);
  return to;
}

// cloneDefine sets a data property without running a setter, which plain
// assignment would do for "__proto__".
function cloneDefine(out, key, value) {
  if (key === "__proto__") {
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

function clonePlain(v, memo) {
  const out = cloneMemo(memo, v, {});
  for (const key of Object.keys(v)) {
    // A getter met earlier may have deleted this key.
    if (!cloneHasOwn.call(v, key)) continue;
    cloneDefine(out, key, cloneInner(v[key], memo));
  }
  return out;
}

function cloneArray(v, memo) {
  const length = v.length;
  const out = cloneMemo(memo, v, new Array(length));
  const keys = Object.keys(v);
  if (keys.length === length) {
    // Dense with nothing extra: the indices are the keys.
    for (let i = 0; i < length; i++) out[i] = cloneInner(v[i], memo);
    return out;
  }
  for (const key of keys) {
    if (!cloneHasOwn.call(v, key)) continue;
    cloneDefine(out, key, cloneInner(v[key], memo));
  }
  return out;
}

// cloneErrorValue copies an error as workerd's V8 does: the constructor
// follows the name when it is a standard one (else Error, with the name
// kept as an own property); stack and message are always own properties,
// and every other own string-keyed property comes along too.
function cloneErrorValue(v, memo) {
  const name = v.name;
  const standard = typeof name === "string" ? cloneErrorTypes[name] : undefined;
  const out = cloneMemo(memo, v, standard === AggregateError ? new AggregateError([]) : new (standard || Error)());
  const hidden = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(out, "stack", hidden(cloneInner(v.stack, memo)));
  const message = v.message;
  Object.defineProperty(out, "message", hidden(message === undefined ? "" : cloneInner(message, memo)));
  for (const key of Object.getOwnPropertyNames(v)) {
    if (key === "stack" || key === "message" || (key === "name" && standard)) continue;
    const desc = Object.getOwnPropertyDescriptor(v, key);
    if (desc === undefined) continue;
    Object.defineProperty(out, key, {
      value: cloneInner(v[key], memo), writable: true, enumerable: desc.enumerable, configurable: true,
    });
  }
  return out;
}

cloneRegister(DOMException, (e) => {
  const out = new DOMException(e.message, e.name);
  const stack = e.stack;
  if (typeof stack === "string") Object.defineProperty(out, "stack", { value: stack, writable: true, configurable: true });
  return out;
});

function cloneValue(value) {
  return cloneInner(value, new Map());
}

// cloneTransferList reads structuredClone's transfer option: an array of
// ArrayBuffers, the one transferable kind Isola has.
function cloneTransferList(options) {
  if (options === undefined || options === null) return [];
  if (typeof options !== "object" && typeof options !== "function") {
    throw new TypeError("Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 2 is not of type 'StructuredCloneOptions'.");
  }
  const transfer = options.transfer;
  if (transfer === undefined) return [];
  if (!Array.isArray(transfer)) {
    throw new TypeError("Incorrect type for the 'transfer' field on 'StructuredCloneOptions': the provided value is not of type 'Array'.");
  }
  const list = [];
  for (const item of transfer) {
    if (!cloneBrand(cloneBufferByteLength, item)) throw new TypeError("Object is not transferable");
    if (!list.includes(item)) list.push(item);
  }
  return list;
}

defineGlobal("structuredClone", function structuredClone(value, options = undefined) {
  if (value === undefined && arguments.length === 0) {
    throw new TypeError("Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Value'.");
  }
  const transfer = cloneTransferList(options);
  const memo = new Map();
  // A detached buffer in the list arrives empty, as in workerd.
  for (const buffer of transfer) {
    if (cloneBufferDetached.call(buffer)) memo.set(buffer, new ArrayBuffer(0));
  }
  const out = cloneInner(value, memo);
  // The clone holds copies; transferring detaches the originals, and only
  // now that nothing can fail.
  for (const buffer of transfer) {
    if (!cloneBufferDetached.call(buffer)) cloneBufferTransfer.call(buffer);
  }
  return out;
});
