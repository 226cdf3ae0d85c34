// 16_builtins.js: built-ins the reference's V8 has and QuickJS lacks: V8's
// Error.captureStackTrace and Error.stackTraceLimit (code written for V8
// calls the first without checking that it exists: custom error classes,
// npm packages) and ES2024's Array.fromAsync. A lazy unit, installed only in
// isolates whose worker's code names one of them (runtime.Script.V8Builtins).

function installV8Builtins() {
  defineProperty(Error, "captureStackTrace", { value: captureStackTrace, writable: true, configurable: true });
  Error.stackTraceLimit = 10;
  defineProperty(Array, "fromAsync", {
    value: function fromAsync(items) { return arrayFromAsync(this, arguments); },
    writable: true, configurable: true,
  });
}

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
