// 00_core.js: the first part of the prelude. All prelude files are
// concatenated in name order into one function body (see prelude.go), so
// top-level declarations here are visible to every later file and to nothing
// in the worker. Globals are installed only through defineGlobal.
//
// Host functions arrive in objects the isolate hands over (adoptHostFunctions)
// and live in `host`, out of the worker's reach.

// Worker code may replace built-ins before a lazy unit loads; the loader
// keeps its own copies.
const defineProperty = Object.defineProperty;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const objectKeys = Object.keys;

const host = {};
// The isolate hands over the host functions it made since the last call as
// one object (__isola_adopt); the first call also takes the globals the
// isolate and Install define, and deletes them.
function adoptHostFunctions() {
  if (host.adopt === undefined) {
    host.adopt = globalThis.__isola_adopt;
    host.loadUnit = globalThis.__isola_loadUnit;
    delete globalThis.__isola_adopt;
    delete globalThis.__isola_loadUnit;
    delete globalThis.__isola_boot;
  }
  const fns = host.adopt();
  for (const k of objectKeys(fns)) host[k] = fns[k];
}
adoptHostFunctions();

// isolateStart is performance.timeOrigin: the isolate's start, taken at
// init (90_worker.js) because the unit that defines performance loads on
// first use, and not here, as isolates start as copies of one that ran this
// (runtime/snapshot.go).
let isolateStart = 0;

// hostNeed makes a group of host functions ("storage", "actor") available:
// Go registers a group only in isolates that use it, as each function
// registered costs every start a little.
const hostGroups = Object.create(null);
function hostNeed(group) {
  if (hostGroups[group]) return;
  host.need(group);
  adoptHostFunctions();
  hostGroups[group] = true;
}

// ---- lazy units (see prelude.go) ----
// $isola holds every unit's top-level names. Until a lazy unit loads, its
// names resolve through $isola's prototype and its globals are getters,
// either of which loads it.
const unitState = Object.create(null);

let eagerPublished = false;

function loadUnit(unit) {
  if (unitState[unit] === "loaded") return;
  if (unitState[unit] === "loading") throw new Error(`isola: prelude unit ${unit} needs itself while loading`);
  unitState[unit] = "loading";
  try {
    if (!eagerPublished) {
      // The lazy units reach the eager unit's names through $isola, which
      // gets them only now (publishEager, prelude.go): an isolate that
      // never loads a unit never pays for the table.
      eagerPublished = true;
      publishEager();
    }
    const fn = host.loadUnit(unit);
    if (typeof fn !== "function") throw new Error(`isola: prelude unit ${unit} failed to load`);
    const exports = fn($isola);
    for (const k of objectKeys(exports)) {
      defineProperty($isola, k, { value: exports[k], writable: true, configurable: true, enumerable: true });
    }
    unitState[unit] = "loaded";
  } catch (e) {
    delete unitState[unit];
    throw e;
  }
}

// isLoaded reports whether a lazy name is already available without
// loading anything: an instanceof check against a class nobody has loaded
// can be answered false for free.
function isLoaded(name) {
  const d = getOwnPropertyDescriptor($isola, name);
  return d !== undefined && !d.get;
}

// A name not yet loaded is missing from $isola itself and found on its
// prototype, one Proxy for all of them: a getter per name cost every isolate
// a closure and a property each at start-up. Which unit owns which name is
// read from its JSON on the first miss, not at start-up (~100 µs).
let lazyOwner = null;
Object.setPrototypeOf($isola, new Proxy(Object.create(null), {
  get(t, name) {
    if (typeof name !== "string") return undefined;
    lazyOwner ??= JSON.parse(lazyOwnersJSON);
    const unit = lazyOwner[name];
    if (unit === undefined) return undefined;
    loadUnit(unit);
    const d = getOwnPropertyDescriptor($isola, name);
    return d && !d.get ? d.value : undefined;
  },
}));
// A lazy unit's globals are accessors until it loads. One function serves
// as a global's getter (which loads the unit) and its setter (which makes the
// global the value assigned), and it finds which global it serves from its own
// name: a getter and a setter apiece cost every isolate ~8 KB more, and a
// closure over the global's name ~4 KB more again, in every isolate. (A Proxy
// in globalThis's prototype chain would cost nothing per global, but then the
// engine cannot tell an undeclared name from an undefined one, and
// referencing an undeclared global no longer throws.)
function lazyGlobalAccess(fn, args) {
  const name = fn.name;
  if (args.length !== 0) {
    defineGlobal(name, args[0]);
    return;
  }
  for (const unit of objectKeys(lazyGlobals)) {
    if (lazyGlobals[unit].includes(name)) {
      loadUnit(unit);
      break;
    }
  }
  const d = getOwnPropertyDescriptor(globalThis, name);
  return d && !d.get ? d.value : undefined;
}
for (const unit of objectKeys(lazyGlobals)) {
  for (const name of lazyGlobals[unit]) {
    const access = function lazyAccess(value) { return lazyGlobalAccess(lazyAccess, arguments); };
    defineProperty(access, "name", { value: name });
    defineProperty(globalThis, name, { configurable: true, enumerable: false, get: access, set: access });
  }
}

// QuickJS has no Symbol.dispose; esbuild's lowering of `using` reads these
// registered symbols when the well-known ones are missing.
if (Symbol.dispose === undefined) defineProperty(Symbol, "dispose", { value: Symbol.for("Symbol.dispose") });
if (Symbol.asyncDispose === undefined) defineProperty(Symbol, "asyncDispose", { value: Symbol.for("Symbol.asyncDispose") });

// Web IDL globals are writable, configurable and not enumerable.
function defineGlobal(name, value) {
  defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

// Names a function or class the way the platform's toString shows it.
function setName(fn, name) {
  Object.defineProperty(fn, "name", { value: name, configurable: true });
  return fn;
}

// Handlers for events the Go side delivers through dispatch(kind, ...args).
const dispatchers = Object.create(null);
function onHostEvent(kind, fn) { dispatchers[kind] = fn; }
host.takeDispatch(function dispatch(kind, ...args) {
  const fn = dispatchers[kind];
  if (!fn) throw new Error("isola: no handler for host event " + kind);
  // Reflect.apply, not fn(...args): a spread call walks the array with the
  // iterator protocol, which costs QuickJS microseconds on every event.
  return Reflect.apply(fn, undefined, args);
});

// Host calls that can fail return [result, error]; error is "Name: message".
function hostResult(pair) {
  const err = pair[1];
  if (err !== null && err !== undefined && err !== "") throw hostError(err);
  return pair[0];
}
function hostError(text) {
  const i = text.indexOf(": ");
  const name = i > 0 ? text.slice(0, i) : "Error";
  const message = i > 0 ? text.slice(i + 2) : text;
  switch (name) {
    case "TypeError": return new TypeError(message);
    case "RangeError": return new RangeError(message);
    case "SyntaxError": return new SyntaxError(message);
    case "Error": return new Error(message);
  }
  if (typeof DOMException === "function") return new DOMException(message, name);
  const e = new Error(message);
  e.name = name;
  return e;
}

// ---- global scope ----
// workerd refuses I/O, timers and randomness while a worker's top level runs
// (there is no request to attribute them to); so does Isola, with its words.
let inGlobalScope = true;

function leaveGlobalScope() { inGlobalScope = false; }
function checkGlobalScope() {
  if (inGlobalScope) {
    throw new Error("Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or connect()), setting a timeout, and generating random values are not allowed within global scope. To fix this error, perform this operation within a handler. https://developers.cloudflare.com/workers/runtime-apis/handlers/");
  }
}

// ---- timers: one heap per isolate lives in Go; JS keeps the callbacks ----

let nextTimerId = 1;
const timers = new Map();

// Timeout is what setTimeout returns under workerd: a Node-style handle that
// converts to its numeric id.
const kTimerId = Symbol("timerId");
class Timeout {
  constructor(id, ms) {
    this[kTimerId] = id;
    this[kTimerMs] = ms;
  }
  [Symbol.toPrimitive]() { return this[kTimerId]; }
  ref() { return this; }
  unref() { return this; }
  hasRef() { return true; }
  refresh() {
    const t = timers.get(this[kTimerId]);
    if (t) { host.timerStop(this[kTimerId]); host.timerStart(this[kTimerId], this[kTimerMs], t.repeat); }
    return this;
  }
  close() { stopTimer(this); return this; }
}
const kTimerMs = Symbol("timerMs");

function startTimer(callback, delay, args, repeat) {
  checkGlobalScope();
  if (typeof callback !== "function") {
    throw new TypeError("The \"callback\" argument must be of type function.");
  }
  const id = nextTimerId++;
  let ms = Number(delay);
  if (!(ms >= 0) || !Number.isFinite(ms)) ms = 0;
  timers.set(id, { callback, args, repeat });
  host.timerStart(id, ms, repeat);
  return new Timeout(id, ms);
}

function stopTimer(id) {
  if (id === null || id === undefined) return;
  id = Number(id);
  if (timers.delete(id)) host.timerStop(id);
}

onHostEvent("timer", (id) => {
  const t = timers.get(id);
  if (!t) return;
  if (!t.repeat) timers.delete(id);
  t.callback.apply(globalThis, t.args);
});

defineGlobal("setTimeout", function setTimeout(callback, delay, ...args) { return startTimer(callback, delay, args, false); });
defineGlobal("setInterval", function setInterval(callback, delay, ...args) { return startTimer(callback, delay, args, true); });
defineGlobal("clearTimeout", function clearTimeout(id) { stopTimer(id); });
defineGlobal("clearInterval", function clearInterval(id) { stopTimer(id); });
defineGlobal("queueMicrotask", function queueMicrotask(callback) {
  if (typeof callback !== "function") {
    throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
  }
  Promise.resolve().then(() => callback());
});

// ---- small shared helpers for later prelude files ----

// toBytes returns a Uint8Array view of any BufferSource.
function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("This API requires an ArrayBuffer or ArrayBufferView.");
}

// exactBuffer returns an ArrayBuffer holding exactly the view's bytes, which
// is what host functions accept.
function exactBuffer(data) {
  const u8 = toBytes(data);
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength) return u8.buffer;
  return u8.slice().buffer;
}
