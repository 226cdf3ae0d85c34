// 90_worker.js: the worker itself: its env, the cloudflare:* modules, and the
// handlers the host invokes (fetch for now; RPC, Durable Objects and
// Workflows build on the same entry points).

let workerEnv = {};
let workerModule = null;
// `exports` from cloudflare:workers, and ctx.exports: two objects with the
// same loopbacks (workerd makes them distinct too).
const workerExports = {};
const ctxExports = {};
// What the compatibility date and flags turn on (compat.Features in Go).
let workerFeatures = { process: true, requestCache: true, ctxExports: true };

class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}
class DurableObject {
  constructor(ctx, env) {
    if (!(ctx instanceof DurableObjectState)) {
      throw new TypeError("Failed to construct 'DurableObjectBase': constructor parameter 1 is not of type 'DurableObjectState'.");
    }
    this.ctx = ctx;
    this.env = env;
  }
}
class WorkflowEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}
class RpcTarget {}
// kWorkflowRun marks a workflow's step object with its view of the run
// (69_workflow.js), by which it crosses RPC.
const kWorkflowRun = Symbol("workflowRun");
class NonRetryableError extends Error {
  constructor(message, name = "NonRetryableError") {
    super(message);
    this.name = name;
  }
}

function notSupportedYet(what) {
  return function () { throw new Error(`${what} is not supported yet by Isola.`); };
}

const kCtx = Symbol("ctx");
// An ExecutionContext is made for every request and every RPC call: it
// holds nothing but the props.
class ExecutionContext {
  constructor(props) {
    this[kCtx] = props;
  }
  waitUntil(promise) {
    Promise.resolve(promise).catch((e) => consoleEmit("error", ["Uncaught (in waitUntil)", e]));
  }
  // There is no origin behind a worker here to pass the request on to.
  passThroughOnException() {}
  get props() { return this[kCtx]; }
  get exports() { return workerFeatures.ctxExports ? ctxExports : undefined; }
}

const workersModule = {
  WorkerEntrypoint, DurableObject, WorkflowEntrypoint, RpcTarget,
  RpcStub: notSupportedYet("RpcStub"), RpcPromise: undefined, RpcProperty: undefined, ServiceStub: undefined,
  get env() { return workerEnv; },
  exports: workerExports,
  waitUntil(promise) {
    Promise.resolve(promise).catch((e) => consoleEmit("error", ["Uncaught (in waitUntil)", e]));
  },
  withEnv: notSupportedYet("withEnv"),
  withExports: notSupportedYet("withExports"),
  withEnvAndExports: notSupportedYet("withEnvAndExports"),
  platform: undefined,
};

const internalModule = {
  base64ToBuffer(b64) {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  },
};

Object.defineProperty(globalThis, Symbol.for("isola.modules"), {
  value: Object.freeze({
    "cloudflare:workers": workersModule,
    "cloudflare:workflows": { NonRetryableError },
    "cloudflare:sockets": { connect(address, options) { return socketsConnect(address, options); } },
    "isola:internal": internalModule,
  }),
  enumerable: false, writable: false, configurable: false,
});

Object.defineProperty(globalThis, "__isola_register", {
  configurable: true, enumerable: false, writable: false,
  value: function register(m) {
    delete globalThis.__isola_register;
    workerModule = m;
    fillExports(m);
    leaveGlobalScope();
  },
});

// The worker handle for this worker itself, behind ctx.exports loopbacks.
let selfHandle = 0;
// The namespaces of the worker's Durable Object classes that have storage.
const classNamespaces = {};

// init receives the worker's features, outbound policy and env; see
// Isolate.init in Go. vars, env, bindings and classes are JSON ("" for
// none), capsJSON the capabilities the last three refer to by index.
onHostEvent("init", (features, blocked, self, outbound, vars, env, bindings, classes, capsJSON, ...bufs) => {
  isolateStart = $isola.isolateStart = host.now();
  workerFeatures = {
    process: (features & 1) !== 0, requestCache: (features & 2) !== 0,
    ctxExports: (features & 4) !== 0, deleteAllDeletesAlarm: (features & 8) !== 0,
  };
  if (!workerFeatures.process) delete globalThis.process;
  // The optional globals the worker's code names (runtime.optionalGlobals).
  if (features >= 256) installOptional(features);
  workerEnv = vars !== "" ? JSON.parse(vars) : {};
  selfHandle = self;
  if (blocked) {
    outboundFetch = () => {
      throw new Error("This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.");
    };
  }
  // Only a worker with bindings, a handed-over env or an outbound Fetcher
  // needs the RPC unit at start.
  if (capsJSON === "[]" && env === "") return;
  const caps = capValues(capsJSON);
  if (env !== "") workerEnv = new RpcDecoder(caps, bufs).decode(JSON.parse(env));
  if (bindings !== "") {
    const b = JSON.parse(bindings);
    for (const k of Object.keys(b)) workerEnv[k] = caps[b[k]];
  }
  if (classes !== "") {
    const c = JSON.parse(classes);
    for (const k of Object.keys(c)) classNamespaces[k] = caps[c[k]];
  }
  if (outbound >= 0) {
    const out = caps[outbound];
    outboundFetch = (input, init) => out.fetch(input, init);
  }
});

onHostEvent("rpcInvoke", (...args) => Reflect.apply(rpcHandleInvoke, undefined, args));
onHostEvent("rpcPack", (...args) => args);
onHostEvent("rpcFetchInvoke", (id, targetJSON, method, url, headers, kind, body) => {
  // A fetch() to the default export without props, the common case, is
  // served here: a dynamic worker that only answers fetch() then never
  // loads the RPC unit. Anything else is served as any call is.
  // A stub is usually called again and again: its target is parsed once.
  let target = fetchTargets.get(targetJSON);
  if (target === undefined) {
    target = JSON.parse(targetJSON);
    if (fetchTargets.size >= 64) fetchTargets.clear();
    fetchTargets.set(targetJSON, target);
  }
  const def = workerModule ? workerModule.default : undefined;
  if (target.kind !== "entry" || target.name !== "" || target.props !== "" || def === null ||
      (typeof def !== "object" && typeof def !== "function")) {
    rpcHandleFetch(id, target, method, url, headers, kind, body);
    return;
  }
  const req = receivedRequest(method, url, headers, kind, body);
  // At once, as rpcServe runs calls (a limit hit there ends the isolate in
  // deliverFetch).
  serveFetchCall(id, req);
});
const fetchTargets = new Map();

function serveFetchCall(id, req) {
  let result;
  try {
    result = callFetchHandler(new ExecutionContext({}), req);
    if (result instanceof Response) {
      answerFetchCall(id, result);
      return;
    }
  } catch (e) {
    rpcAnswer(id, false, e, []);
    return;
  }
  Promise.resolve(result).then((v) => answerFetchCall(id, v), (e) => rpcAnswer(id, false, e, []));
}

function answerFetchCall(id, v) {
  if (v instanceof Response && sendFetchAnswer(id, v)) return;
  rpcAnswerFetch(id, v); // not a Response, or one whose body must be encoded
}

// sendFetchAnswer answers fetch call id with resp in HTTP's terms, if its
// body allows (stubfetch.go).
function sendFetchAnswer(id, resp) {
  const parts = responseParts(resp);
  if (parts === null) return false;
  host.rpcFetchReturn(id, parts[0], parts[1], parts[2], parts[3]);
  return true;
}
onHostEvent("fetchPack", (status, statusText, headers, kind, body) => ["F", status, statusText, headers, kind, body]);
onHostEvent("rpcDrop", (id) => rpcDropExport(id));
onHostEvent("actorStart", (...args) => Reflect.apply(actorStartEvent, undefined, args));
onHostEvent("actorStop", (key, force) => actorStopEvent(key, force));
onHostEvent("workflowRun", (...args) => Reflect.apply(workflowRunEvent, undefined, args));

// fillExports makes ctx.exports (and `exports` from cloudflare:workers): a
// loopback for every entrypoint the module exports, made on first use.
function fillExports(m) {
  if (!selfHandle) return;
  for (const name of Object.keys(m)) {
    const v = m[name];
    if (typeof v === "function" && v.prototype instanceof DurableObject) {
      for (const target of [workerExports, ctxExports]) {
        let made;
        Object.defineProperty(target, name, {
          enumerable: true, configurable: true,
          get() { return made ??= actorExport(name, classNamespaces[name] || null); },
        });
      }
      continue;
    }
    // Entrypoints: WorkerEntrypoint classes and handler objects.
    const isEntry = (typeof v === "function" && v.prototype instanceof WorkerEntrypoint) ||
      (v !== null && typeof v === "object" && !Array.isArray(v)) ||
      (name === "default" && typeof v === "function");
    if (!isEntry) continue;
    for (const target of [workerExports, ctxExports]) {
      let made;
      Object.defineProperty(target, name, {
        enumerable: true, configurable: true,
        get() { return made ??= loopback(selfHandle, name); },
      });
    }
  }
}

function isClass(fn) {
  return typeof fn === "function" && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

// callFetchHandler serves request with the default export: an object with
// fetch(request, env, ctx), or a WorkerEntrypoint class with a fetch method.
// No closure per request: each costs QuickJS a function object and two
// property definitions, and this runs for every request a worker serves.
let defaultIsClass;
function callFetchHandler(ctx, request) {
  const def = workerModule && workerModule.default;
  defaultIsClass ??= isClass(def) || (typeof def === "function" && def.prototype instanceof WorkerEntrypoint);
  if (defaultIsClass) {
    const instance = new def(ctx, workerEnv);
    if (typeof instance.fetch !== "function") throw noFetchHandler();
    return instance.fetch(request);
  }
  if (def && typeof def.fetch === "function") return def.fetch(request, workerEnv, ctx);
  throw noFetchHandler();
}

function noFetchHandler() {
  return new Error("Handler does not export a fetch() function.");
}

function fetchFail(id, e) {
  host.fail(id, errorString(e));
}

function fetchSend(id, resp) {
  if (!(resp instanceof Response)) {
    throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
  }
  const streaming = sendResponse(id, resp);
  if (streaming) streaming.catch((e) => fetchFail(id, e));
}

onHostEvent("fetch", (id, method, url, headerBlob, bodyId) => {
  const request = incomingRequest(method, url, headerBlob, bodyId);
  // A handler that returns a Response synchronously is answered without a
  // single promise; that is the hot path of most workers.
  let result;
  try {
    result = callFetchHandler(new ExecutionContext({}), request);
    if (result instanceof Response) {
      fetchSend(id, result);
      return;
    }
  } catch (e) {
    fetchFail(id, e);
    return;
  }
  // One reaction, not .then(send).catch(fail): a promise and a job less on
  // every request a handler answers asynchronously.
  Promise.resolve(result).then((resp) => {
    try {
      fetchSend(id, resp);
    } catch (e) {
      fetchFail(id, e);
    }
  }, (e) => fetchFail(id, e));
});
