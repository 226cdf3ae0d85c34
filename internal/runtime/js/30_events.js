// 30_events.js: DOMException, Event, CustomEvent, EventTarget,
// AbortController and AbortSignal, as workerd has them.
//
// Where workerd departs from the DOM Standard this file follows workerd
// (checked against workerd itself): there is no event path (the target is
// the whole path, and stays the event's currentTarget), timeStamp is 0,
// listeners cannot capture (asking is a TypeError), a function the script
// stores in an own on<type> property of a target runs before the listeners
// (AbortSignal's onabort instead is a proper event handler attribute, with
// the place of a listener), a listener returning true cancels
// the event, an object listener's handleEvent is looked up when it is
// added, dispatching clears an earlier preventDefault() but not an earlier
// stopImmediatePropagation(), and an aborted signal drops its listeners.
// A listener that throws is reported (through reportError when some
// prelude file defines it) and the others still run.
//
// For other prelude files: webIllegalInvocation() (workerd's TypeError for
// a method called on the wrong object), webEnumerable(Class),
// evtIsPlatform(v), evtSetTrusted(event), evtSetHandler(target, type, value)
// (an on<type> event handler attribute: a listener whose function can be
// swapped, dropped when set to null),
// abortSignalCreate(), abortSignalAbort(signal, reason),
// abortSignalAdd(signal, fn) -> remove, abortSignalIsAborted(signal),
// isAbortSignal(v).

function webIllegalInvocation() {
  return new TypeError("Illegal invocation: function called with incorrect `this` reference. " +
    "See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.");
}

// webEnumerable makes a class's members (static ones too) enumerable, as
// Web IDL and workerd have them.
function webEnumerable(cls) {
  for (const key of Object.getOwnPropertyNames(cls.prototype)) {
    if (key !== "constructor") Object.defineProperty(cls.prototype, key, { enumerable: true });
  }
  for (const key of Object.getOwnPropertyNames(cls)) {
    if (key !== "length" && key !== "name" && key !== "prototype") Object.defineProperty(cls, key, { enumerable: true });
  }
}

// ---- DOMException ----

const DOM_EXCEPTION_CODES = [
  ["IndexSizeError", "INDEX_SIZE_ERR", 1],
  [null, "DOMSTRING_SIZE_ERR", 2],
  ["HierarchyRequestError", "HIERARCHY_REQUEST_ERR", 3],
  ["WrongDocumentError", "WRONG_DOCUMENT_ERR", 4],
  ["InvalidCharacterError", "INVALID_CHARACTER_ERR", 5],
  [null, "NO_DATA_ALLOWED_ERR", 6],
  ["NoModificationAllowedError", "NO_MODIFICATION_ALLOWED_ERR", 7],
  ["NotFoundError", "NOT_FOUND_ERR", 8],
  ["NotSupportedError", "NOT_SUPPORTED_ERR", 9],
  ["InUseAttributeError", "INUSE_ATTRIBUTE_ERR", 10],
  ["InvalidStateError", "INVALID_STATE_ERR", 11],
  ["SyntaxError", "SYNTAX_ERR", 12],
  ["InvalidModificationError", "INVALID_MODIFICATION_ERR", 13],
  ["NamespaceError", "NAMESPACE_ERR", 14],
  ["InvalidAccessError", "INVALID_ACCESS_ERR", 15],
  [null, "VALIDATION_ERR", 16],
  ["TypeMismatchError", "TYPE_MISMATCH_ERR", 17],
  ["SecurityError", "SECURITY_ERR", 18],
  ["NetworkError", "NETWORK_ERR", 19],
  ["AbortError", "ABORT_ERR", 20],
  ["URLMismatchError", "URL_MISMATCH_ERR", 21],
  ["QuotaExceededError", "QUOTA_EXCEEDED_ERR", 22],
  ["TimeoutError", "TIMEOUT_ERR", 23],
  ["InvalidNodeTypeError", "INVALID_NODE_TYPE_ERR", 24],
  ["DataCloneError", "DATA_CLONE_ERR", 25],
];
const DOM_EXCEPTION_CODE_BY_NAME = { __proto__: null };
for (const [name, , code] of DOM_EXCEPTION_CODES) if (name) DOM_EXCEPTION_CODE_BY_NAME[name] = code;

// Extending Error gives instanceof Error and a `stack` from QuickJS. As in
// workerd, code, name and message are read-only own properties. The stack
// has no "Name: message" first line, like every QuickJS stack; the console
// adds it.
class DOMException extends Error {
  constructor(message = "", name = "Error") {
    super();
    const stack = Object.getOwnPropertyDescriptor(this, "stack");
    delete this.stack;
    name = `${name}`;
    Object.defineProperty(this, "code", { value: DOM_EXCEPTION_CODE_BY_NAME[name] || 0, enumerable: true, configurable: true });
    Object.defineProperty(this, "name", { value: name, enumerable: true, configurable: true });
    Object.defineProperty(this, "message", { value: `${message}`, enumerable: true, configurable: true });
    if (stack !== undefined) Object.defineProperty(this, "stack", stack);
  }
}
for (const [, constant, code] of DOM_EXCEPTION_CODES) {
  Object.defineProperty(DOMException, constant, { value: code, enumerable: true });
  Object.defineProperty(DOMException.prototype, constant, { value: code, enumerable: true });
}
Object.defineProperty(DOMException.prototype, Symbol.toStringTag, { value: "DOMException", configurable: true });
defineGlobal("DOMException", DOMException);

// ---- Event ----

const EVT_NONE = 0, EVT_AT_TARGET = 2;

// evtReport hands an exception thrown by a listener to whoever reports
// uncaught errors, so one bad listener does not stop the others.
function evtReport(error) {
  try {
    if (typeof globalThis.reportError === "function") return void globalThis.reportError(error);
    if (typeof console === "object" && console && typeof console.error === "function") return void console.error(error);
    if (typeof host.log === "function") {
      host.log("error", "Uncaught " + (error && error.stack ? `${error}\n${error.stack}` : String(error)));
    }
  } catch {
    // Reporting must never throw into the dispatching code.
  }
}

let evtSetTrusted;
let evtBeginDispatch;
let evtEndDispatch;
let evtStoppedImmediately;
let evtCancel;
let evtIsEvent;
let evtIsTarget;
let evtIsController;

class Event {
  #type;
  #bubbles;
  #cancelable;
  #composed;
  #trusted = false;
  #target = null;
  #dispatching = false;
  #canceled = false;
  #stopPropagation = false;
  #stopImmediate = false;

  constructor(type, init = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'Event': constructor parameter 1 is not of type 'string'.");
    }
    if (init !== undefined && init !== null && typeof init !== "object" && typeof init !== "function") {
      throw new TypeError(`Failed to construct '${new.target.name}': constructor parameter 2 is not of type '${new.target === CustomEvent ? "CustomEventInit" : "Init"}'.`);
    }
    this.#type = `${type}`;
    this.#bubbles = !!(init && init.bubbles);
    this.#cancelable = !!(init && init.cancelable);
    this.#composed = !!(init && init.composed);
  }

  static #check(e) {
    if (typeof e !== "object" || e === null || !(#type in e)) throw webIllegalInvocation();
    return e;
  }

  get type() { return Event.#check(this).#type; }
  get eventPhase() { return Event.#check(this).#dispatching ? EVT_AT_TARGET : EVT_NONE; }
  get composed() { return Event.#check(this).#composed; }
  get bubbles() { return Event.#check(this).#bubbles; }
  get cancelable() { return Event.#check(this).#cancelable; }
  get defaultPrevented() { return Event.#check(this).#cancelable && this.#canceled; }
  get returnValue() { return !this.defaultPrevented; }
  get currentTarget() { return Event.#check(this).#target; }
  get target() { return Event.#check(this).#target; }
  get srcElement() { return Event.#check(this).#target; }
  // workerd hides when events happen, as it hides timers' precision.
  get timeStamp() { Event.#check(this); return 0; }
  get isTrusted() { return Event.#check(this).#trusted; }

  get cancelBubble() { return Event.#check(this).#stopPropagation; }
  set cancelBubble(value) { Event.#check(this).#stopPropagation = !!value; }

  // In workerd this leaves cancelBubble alone.
  stopImmediatePropagation() {
    Event.#check(this).#stopImmediate = true;
  }

  // workerd marks the event whether or not it is cancelable: dispatchEvent()
  // then returns false, though defaultPrevented stays false.
  preventDefault() {
    Event.#check(this).#canceled = true;
  }

  stopPropagation() {
    Event.#check(this).#stopPropagation = true;
  }

  composedPath() {
    Event.#check(this);
    return this.#dispatching ? [this.#target] : [];
  }

  static {
    evtSetTrusted = (e) => { e.#trusted = true; return e; };
    evtBeginDispatch = (e, target) => {
      if (typeof e !== "object" || e === null || !(#type in e)) {
        throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
      }
      if (e.#dispatching) throw new DOMException("The event is already being dispatched.", "InvalidStateError");
      e.#dispatching = true;
      e.#target = target;
      e.#canceled = false;
    };
    evtEndDispatch = (e) => {
      e.#dispatching = false;
      return !e.#canceled;
    };
    evtStoppedImmediately = (e) => e.#stopImmediate;
    evtCancel = (e) => { e.#canceled = true; };
    evtIsEvent = (v) => typeof v === "object" && v !== null && #type in v;
  }
}
for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
  Object.defineProperty(Event, name, { value, enumerable: true });
  Object.defineProperty(Event.prototype, name, { value, enumerable: true });
}
webEnumerable(Event);
Object.defineProperty(Event.prototype, Symbol.toStringTag, { value: "Event", configurable: true });

class CustomEvent extends Event {
  #detail;

  constructor(type, init = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'CustomEvent': constructor parameter 1 is not of type 'string'.");
    }
    super(type, init);
    const detail = init ? init.detail : undefined;
    this.#detail = detail === undefined ? null : detail;
  }

  get detail() {
    if (typeof this !== "object" || this === null || !(#detail in this)) throw webIllegalInvocation();
    return this.#detail;
  }
}
webEnumerable(CustomEvent);
Object.defineProperty(CustomEvent.prototype, Symbol.toStringTag, { value: "CustomEvent", configurable: true });

defineGlobal("Event", Event);
defineGlobal("CustomEvent", CustomEvent);

// ---- EventTarget ----

// evtListenerOptions reads the third argument of addEventListener (full) or
// removeEventListener, refusing capture as workerd does: there is no
// capture phase. passive is accepted and means nothing.
function evtListenerOptions(method, options, full) {
  const out = { once: false, signal: null };
  if (options === undefined || options === null) return out;
  if (typeof options !== "object" && typeof options !== "function") {
    if (options) throw new TypeError(`${method}(): useCapture must be false.`);
    return out;
  }
  if (options.capture) throw new TypeError(`${method}(): options.capture must be false.`);
  if (!full) return out;
  out.once = !!options.once;
  const signal = options.signal;
  if (signal !== undefined) {
    if (!isAbortSignal(signal)) {
      throw new TypeError("Incorrect type for the 'signal' field on 'AddEventListenerOptions': the provided value is not of type 'AbortSignal'.");
    }
    out.signal = signal;
  }
  return out;
}

let evtClearListeners;
let evtSetHandler;

class EventTarget {
  // type -> array of { callback, fn, receiver, once, removed, unsubscribe }
  #listeners = new Map();

  static #check(t) {
    if (typeof t !== "object" || t === null || !(#listeners in t)) throw webIllegalInvocation();
    return t;
  }

  addEventListener(type, callback, options = undefined) {
    EventTarget.#check(this);
    if (callback === undefined || (callback !== null && typeof callback !== "object" && typeof callback !== "function")) {
      throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'function or HandlerObject'.");
    }
    type = `${type}`;
    // workerd takes an object listener's handleEvent once, here.
    let fn = callback, receiver = this;
    if (callback !== null && typeof callback !== "function") {
      fn = callback.handleEvent;
      receiver = callback;
      if (typeof fn !== "function") {
        throw new TypeError("Incorrect type for the 'handleEvent' field on 'HandlerObject': the provided value is not of type 'function'.");
      }
    }
    const opts = evtListenerOptions("addEventListener", options, true);
    if (callback === null) return;
    if (opts.signal !== null && abortSignalIsAborted(opts.signal)) return;
    let list = this.#listeners.get(type);
    if (list === undefined) this.#listeners.set(type, list = []);
    for (const l of list) if (l.callback === callback) return;
    const listener = { callback, fn, receiver, once: opts.once, removed: false, unsubscribe: null };
    list.push(listener);
    if (opts.signal !== null) {
      listener.unsubscribe = abortSignalAdd(opts.signal, () => this.#remove(type, listener));
    }
  }

  removeEventListener(type, callback, options = undefined) {
    EventTarget.#check(this);
    if (callback === undefined || (callback !== null && typeof callback !== "object" && typeof callback !== "function")) {
      throw new TypeError("Failed to execute 'removeEventListener' on 'EventTarget': parameter 2 is not of type 'Object'.");
    }
    type = `${type}`;
    evtListenerOptions("removeEventListener", options, false);
    const list = this.#listeners.get(type);
    if (list === undefined) return;
    for (const l of list) {
      if (l.callback === callback) return void this.#remove(type, l);
    }
  }

  #remove(type, listener) {
    listener.removed = true;
    if (listener.unsubscribe !== null) listener.unsubscribe();
    const list = this.#listeners.get(type);
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(type);
  }

  dispatchEvent(event) {
    EventTarget.#check(this);
    evtBeginDispatch(event, this);
    let result;
    try {
      const type = event.type;
      // Listeners added while dispatching wait for the next event; removed
      // ones are skipped through their `removed` mark.
      const list = this.#listeners.get(type);
      const snapshot = list === undefined ? [] : list.slice();
      // workerd calls a function stored in an own on<type> property of the
      // target ahead of the listeners (and not as a method).
      const own = Object.getOwnPropertyDescriptor(this, "on" + type);
      if (own !== undefined && typeof own.value === "function") this.#invoke(event, own.value, globalThis);
      for (const l of snapshot) {
        if (evtStoppedImmediately(event)) break;
        if (l.removed) continue;
        if (l.once) this.#remove(type, l);
        this.#invoke(event, l.fn, l.receiver);
      }
    } finally {
      result = evtEndDispatch(event);
    }
    return result;
  }

  #invoke(event, fn, receiver) {
    if (evtStoppedImmediately(event)) return;
    try {
      // As in workerd, a listener returning true cancels the event.
      if (fn.call(receiver, event) === true) evtCancel(event);
    } catch (e) {
      evtReport(e);
    }
  }

  static {
    evtSetHandler = (t, type, value) => {
      const fn = typeof value === "function" ? value : null;
      const list = t.#listeners.get(type);
      const current = list === undefined ? undefined : list.find((l) => l.handler !== undefined);
      if (current !== undefined) {
        if (fn === null) t.#remove(type, current);
        else current.handler = fn;
        return;
      }
      if (fn === null) return;
      // The record is its own callback, which no script can pass to
      // removeEventListener. Like workerd, the handler is not called as a
      // method of the target.
      const listener = { callback: null, fn: null, receiver: undefined, once: false, removed: false, unsubscribe: null, handler: fn };
      listener.callback = listener;
      listener.fn = (e) => listener.handler.call(globalThis, e);
      if (list === undefined) t.#listeners.set(type, [listener]);
      else list.push(listener);
    };
    evtIsTarget = (v) => typeof v === "object" && v !== null && #listeners in v;
    evtClearListeners = (t) => {
      for (const list of t.#listeners.values()) {
        for (const l of list) {
          l.removed = true;
          if (l.unsubscribe !== null) l.unsubscribe();
        }
      }
      t.#listeners.clear();
    };
  }
}
webEnumerable(EventTarget);
Object.defineProperty(EventTarget.prototype, Symbol.toStringTag, { value: "EventTarget", configurable: true });
defineGlobal("EventTarget", EventTarget);

// ---- AbortSignal and AbortController ----

const ABORT_TOKEN = Symbol("AbortSignal");

let isAbortSignal;
let abortSignalCreate;
let abortSignalAbort;
let abortSignalAdd;
let abortSignalIsAborted;

function abortDefaultReason() {
  return new DOMException("The operation was aborted", "AbortError");
}

class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #onabort = null;
  // Internal reactions to abort, run before the "abort" event.
  #algorithms = new Set();
  // For a signal made by any(): the signals it follows, and the reverse.
  #sources = null;
  #dependents = null;

  constructor(token = undefined) {
    if (token !== ABORT_TOKEN) throw new TypeError("Illegal constructor");
    super();
  }

  static #check(s) {
    if (typeof s !== "object" || s === null || !(#aborted in s)) throw webIllegalInvocation();
    return s;
  }

  get aborted() { return AbortSignal.#check(this).#aborted; }
  get reason() { return AbortSignal.#check(this).#reason; }

  get onabort() { return AbortSignal.#check(this).#onabort; }
  set onabort(value) {
    AbortSignal.#check(this).#onabort = typeof value === "function" || (typeof value === "object" && value !== null) ? value : null;
    evtSetHandler(this, "abort", value);
  }

  throwIfAborted() {
    AbortSignal.#check(this);
    if (this.#aborted) throw this.#reason;
  }

  static abort(reason = undefined) {
    const signal = new AbortSignal(ABORT_TOKEN);
    signal.#aborted = true;
    signal.#reason = reason === undefined ? abortDefaultReason() : reason;
    return signal;
  }

  static timeout(milliseconds) {
    if (milliseconds === undefined) {
      throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': parameter 1 is not of type 'number'.");
    }
    const ms = Number(milliseconds);
    const signal = new AbortSignal(ABORT_TOKEN);
    // An infinite timeout never fires; the core's timer (not the global one,
    // which the worker may replace) takes any other delay, bad ones as 0.
    if (ms !== Infinity) {
      startTimer(() => {
        AbortSignal.#signalAbort(signal, new DOMException("The operation was aborted due to timeout", "TimeoutError"));
      }, ms, [], false);
    }
    return signal;
  }

  static any(signals) {
    if (!Array.isArray(signals)) {
      throw new TypeError("Failed to execute 'any' on 'AbortSignal': parameter 1 is not of type 'Array'.");
    }
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i];
      if (typeof s !== "object" || s === null || !(#aborted in s)) {
        throw new TypeError(`Incorrect type for array element ${i}: the provided value is not of type 'AbortSignal'.`);
      }
    }
    for (const s of signals) if (s.#aborted) return AbortSignal.abort(s.#reason);
    const result = new AbortSignal(ABORT_TOKEN);
    result.#sources = new Set();
    for (const s of signals) {
      // Follow the sources of a signal that itself only follows others, so
      // chains of any() stay one level deep.
      for (const source of s.#sources !== null ? s.#sources : [s]) {
        if (result.#sources.has(source)) continue;
        result.#sources.add(source);
        if (source.#dependents === null) source.#dependents = new Set();
        source.#dependents.add(result);
      }
    }
    return result;
  }

  // The DOM's "signal abort": dependents learn the reason first, then every
  // signal runs its algorithms and fires "abort".
  static #signalAbort(signal, reason) {
    if (signal.#aborted) return;
    signal.#aborted = true;
    signal.#reason = reason === undefined ? abortDefaultReason() : reason;
    const dependents = [];
    if (signal.#dependents !== null) {
      for (const d of signal.#dependents) {
        if (d.#aborted) continue;
        d.#aborted = true;
        d.#reason = signal.#reason;
        dependents.push(d);
      }
    }
    AbortSignal.#runAbortSteps(signal);
    for (const d of dependents) AbortSignal.#runAbortSteps(d);
  }

  static #runAbortSteps(signal) {
    // An aborted signal is done: unlink it so nothing keeps it alive.
    if (signal.#sources !== null) {
      for (const source of signal.#sources) {
        if (source.#dependents !== null) source.#dependents.delete(signal);
      }
      signal.#sources = null;
    }
    signal.#dependents = null;
    const algorithms = signal.#algorithms;
    signal.#algorithms = new Set();
    for (const fn of algorithms) {
      try {
        fn(signal.#reason);
      } catch (e) {
        evtReport(e);
      }
    }
    signal.dispatchEvent(evtSetTrusted(new Event("abort")));
    // workerd drops an aborted signal's listeners: no further event can come.
    evtClearListeners(signal);
  }

  static {
    isAbortSignal = (v) => typeof v === "object" && v !== null && #aborted in v;
    abortSignalCreate = () => new AbortSignal(ABORT_TOKEN);
    abortSignalAbort = (signal, reason) => AbortSignal.#signalAbort(signal, reason);
    abortSignalIsAborted = (signal) => signal.#aborted;
    abortSignalAdd = (signal, fn) => {
      if (signal.#aborted) return () => {};
      const set = signal.#algorithms;
      set.add(fn);
      return () => { set.delete(fn); };
    };
  }
}
webEnumerable(AbortSignal);
Object.defineProperty(AbortSignal.prototype, Symbol.toStringTag, { value: "AbortSignal", configurable: true });

class AbortController {
  #signal = abortSignalCreate();

  static {
    evtIsController = (v) => typeof v === "object" && v !== null && #signal in v;
  }

  get signal() {
    if (typeof this !== "object" || this === null || !(#signal in this)) throw webIllegalInvocation();
    return this.#signal;
  }

  abort(reason = undefined) {
    if (typeof this !== "object" || this === null || !(#signal in this)) throw webIllegalInvocation();
    abortSignalAbort(this.#signal, reason);
  }
}
webEnumerable(AbortController);
Object.defineProperty(AbortController.prototype, Symbol.toStringTag, { value: "AbortController", configurable: true });

// evtIsPlatform tells structuredClone what it must refuse: events, event
// targets (signals aside) and controllers, subclasses included.
function evtIsPlatform(v) {
  return evtIsEvent(v) || evtIsTarget(v) || evtIsController(v);
}

defineGlobal("AbortSignal", AbortSignal);
defineGlobal("AbortController", AbortController);
