// 66_loader.js: Worker Loader bindings (Dynamic Workers) and ctx.exports
// loopbacks, on top of the RPC unit. A lazy unit. Error messages are
// workerd's, word for word: platform code matches on them.

// ---------------------------------------------------------------- Worker Loader

const kLoader = Symbol("loader");

class WorkerLoader {
  constructor(handle) {
    // per id: the promise of its worker handle while getCode runs, or the
    // error it failed with (kept: workerd does not call getCode again).
    this[kLoader] = { handle, pending: new Map(), memo: new Map() };
  }
  get(id, getCode) {
    if (id !== null && id !== undefined && typeof id !== "string") {
      throw new TypeError("Failed to execute 'get' on 'WorkerLoader': parameter 1 is not of type 'string'.");
    }
    if (id === undefined && getCode === undefined) {
      throw new TypeError("Failed to execute 'get' on 'WorkerLoader': parameter 1 is not of type 'string'.");
    }
    if (typeof getCode !== "function") {
      throw new TypeError("Failed to execute 'get' on 'WorkerLoader': parameter 2 is not of type 'function'.");
    }
    return new WorkerStub(this[kLoader], id === null || id === undefined ? "" : id, getCode);
  }
  load(code) {
    if (code === null) {
      throw new TypeError("Cannot initialize N7workerd3api12WorkerLoader10WorkerCodeE with required members from an undefined or null value.");
    }
    if (typeof code !== "object") {
      throw new TypeError("Failed to execute 'load' on 'WorkerLoader': parameter 1 is not of type 'WorkerCode'.");
    }
    return new WorkerStub(this[kLoader], "", () => code);
  }
  get [Symbol.toStringTag]() { return "WorkerLoader"; }
}

const kWorkerStub = Symbol("workerStub");
const dynamicTransferError = "Entrypoints to dynamically-loaded workers cannot be transferred to other Workers, because the system does not know how to reload this Worker from scratch. Instead, have the parent Worker expose an entrypoint which constructs the dynamic worker and forwards to it.";

class WorkerStub {
  constructor(loader, id, getCode) {
    const s = { loader, id, getCode, worker: null, wh: 0, memo: null };
    this[kWorkerStub] = s;
    // workerd runs getCode on a later turn whether or not the stub is used.
    if (!takeCachedWorker(s)) workerHandleOf(s).then((wh) => holdWorkerHandle(s, wh), () => {});
  }
  getEntrypoint(name = undefined, opts = undefined) {
    const s = this[kWorkerStub];
    const ep = name === null || name === undefined || name === "default" ? "" : String(name);
    const props = opts && opts.props !== undefined ? rpcEncodeProps(opts.props) : null;
    if (s.memo !== null && props === null) {
      // The memo's handle for the entrypoint, shared by its stubs, which
      // keep the memo (and so the handle) alive.
      const m = s.memo;
      let h = m.entries.get(ep);
      if (h === undefined) m.entries.set(ep, h = entryHandle(m.wh, ep, null));
      return makeStub({ handle: h, kind: "fetcher", noTransfer: dynamicTransferError, owner: m });
    }
    // A cached worker's stub gets its handle at once, so that calling it
    // waits on nothing: the hot path of a platform worker.
    const handle = s.wh ? entryHandle(s.wh, ep, props) : workerHandleOf(s).then((wh) => {
      keepAlive(s);
      return entryHandle(wh, ep, props);
    });
    return makeStub({ handle, kind: "fetcher", noTransfer: dynamicTransferError });
  }
  getDurableObjectClass(name, opts = undefined) {
    const s = this[kWorkerStub];
    const props = opts && opts.props !== undefined ? rpcEncodeProps(opts.props) : null;
    return new DurableObjectClass(workerHandleOf(s).then((wh) => {
      keepAlive(s);
      return props === null
        ? host.actorClass(wh, String(name), "", "[]")
        : host.actorClass(wh, String(name), props.json, props.caps);
    }));
  }
}

// A worker handle that getCode led to is held by the WorkerStubs that
// resolved to it (several, when concurrent get()s of one id share a
// getCode) and released when the last of them is collected: one kept for
// ever would pin its worker, evicted or not, in this isolate's table. (A
// cached id's handle is the memo's, below.)
const workerHandleHolders = new Map();
const workerHandleRegistry = new FinalizationRegistry((wh) => {
  const n = workerHandleHolders.get(wh) - 1;
  if (n > 0) {
    workerHandleHolders.set(wh, n);
    return;
  }
  workerHandleHolders.delete(wh);
  host.rpcRelease(wh);
});

function holdWorkerHandle(s, wh) {
  workerHandleHolders.set(wh, (workerHandleHolders.get(wh) || 0) + 1);
  workerHandleRegistry.register(s, wh);
}

// keepAlive keeps a stub's state (and so its worker handle) reachable until
// the code that calls it has used the handle.
function keepAlive(s) {
  return s;
}

// entryHandle makes a handle for entrypoint ep of the worker behind wh;
// props is an encoded message or null.
function entryHandle(wh, ep, props) {
  if (props === null) return host.entry(wh, ep, "", "[]");
  return host.entry(wh, ep, props.json, props.caps);
}

// The memo: a platform calls get(id).getEntrypoint() for every request it
// forwards, and making a worker handle, an entrypoint handle and two stubs
// each time, each released again through the finalization registry, cost
// the platform's loop ~45 µs a request. A loader keeps, per id it found
// cached, one worker handle and one handle per entrypoint (without props),
// which every later WorkerStub and stub of the id share. Each get() still
// asks Go (loaderTouch) whether the cache holds that same worker, which also
// keeps the id's place in the cache's LRU order; if not, the memo entry is
// dropped and get() goes the long way. An entry's handles go when nothing
// holds the entry: not the memo, and no stub made from it.
const workerMemoRegistry = new FinalizationRegistry((held) => {
  host.rpcRelease(held.wh);
  for (const h of held.entries.values()) host.rpcRelease(h);
});
const workerMemoLimit = 64;

// takeCachedWorker gives a new WorkerStub its worker handle at once when
// the loader has the id cached and no getCode for it is pending: looking in
// the cache runs no user code, so it need not wait for the later turn
// getCode runs on.
function takeCachedWorker(s) {
  const loader = s.loader;
  if (s.id === "" || loader.pending.has(s.id)) return false;
  let m = loader.memo.get(s.id);
  if (m !== undefined && !host.loaderTouch(loader.handle, s.id, m.wh)) {
    loader.memo.delete(s.id);
    m = undefined;
  }
  if (m === undefined) {
    const wh = host.loaderGet(loader.handle, s.id);
    if (wh === 0) return false;
    // The registry holds the handles, not the entry, which it watches.
    const held = { wh, entries: new Map() };
    m = { wh, entries: held.entries };
    workerMemoRegistry.register(m, held);
    if (loader.memo.size >= workerMemoLimit) loader.memo.clear();
    loader.memo.set(s.id, m);
  }
  s.wh = m.wh;
  s.memo = m;
  return true;
}

// workerHandleOf resolves a WorkerStub to a worker handle: the one it took
// from the cache, else by running getCode (once, on a later turn, shared by
// concurrent users) and compiling.
function workerHandleOf(s) {
  if (s.worker) return s.worker;
  if (s.wh) return s.worker = Promise.resolve(s.wh);
  const loader = s.loader;
  if (s.id !== "") {
    const known = loader.pending.get(s.id);
    if (known) return s.worker = known;
  }
  const p = (async () => {
    await null;
    if (s.id !== "") {
      const h = host.loaderGet(loader.handle, s.id);
      if (h) return h;
    }
    const code = await s.getCode();
    return putWorkerCode(loader.handle, s.id, code);
  })();
  s.worker = p;
  if (s.id !== "") {
    loader.pending.set(s.id, p);
    // Success lives in the Go cache from now on; a failure stays here, so
    // every later get() of the id fails the same way.
    p.then(() => { if (loader.pending.get(s.id) === p) loader.pending.delete(s.id); }, () => {});
  }
  return p;
}

const moduleKeys = ["js", "cjs", "text", "data", "json", "py", "wasm"];

function putWorkerCode(loader, id, code) {
  if (code === null || code === undefined) {
    throw new TypeError("Cannot initialize N7workerd3api12WorkerLoader10WorkerCodeE with required members from an undefined or null value.");
  }
  if (typeof code !== "object") {
    throw new TypeError("Failed to execute 'load' on 'WorkerLoader': parameter 1 is not of type 'WorkerCode'.");
  }
  if (typeof code.compatibilityDate !== "string") throw new Error(`Invalid compatibility date: ${code.compatibilityDate}`);
  const flags = code.compatibilityFlags === undefined ? [] : code.compatibilityFlags;
  if (!Array.isArray(flags)) {
    throw new TypeError("Incorrect type for the 'compatibilityFlags' field on 'WorkerCode': the provided value is not of type 'Array'.");
  }
  const modules = code.modules;
  if (modules === null || typeof modules !== "object" || Array.isArray(modules)) {
    throw new TypeError("Incorrect type for the 'modules' field on 'WorkerCode': the provided value is not of type 'object'.");
  }
  if (Object.keys(modules).length === 0) throw new TypeError("Dynamic Worker code must contain at least one module.");
  if (code.env !== undefined && (code.env === null || typeof code.env !== "object")) {
    throw new TypeError("Incorrect type for the 'env' field on 'WorkerCode': the provided value is not of type 'Object'.");
  }
  const enc = new RpcEncoder(false);
  enc.forEnv = true;
  const env = code.env !== undefined ? JSON.stringify(enc.encode(code.env)) : "";
  // Each module goes to Go as three strings (name, type, source; a data
  // module's source is the index of its buffer), not inside one JSON text:
  // a module's source would be escaped here and unescaped in Go.
  const types = {};
  const mods = [];
  for (const name of Object.keys(modules)) {
    const m = modules[name];
    if (typeof m === "string") {
      let type;
      if (name.endsWith(".js")) type = "js";
      // Beyond workerd: TypeScript and JSX are compiled rather than refused.
      else if (/\.(ts|mts|tsx|jsx)$/.test(name)) type = /\.(tsx|jsx)$/.test(name) ? name.slice(-3) : "ts";
      else throw new TypeError(`Module name must end with '.js' or '.py' (or the content must be an object indicating the type explicitly). Got: ${name}`);
      types[name] = type;
      mods.push(name, type, m);
      continue;
    }
    if (m === null || typeof m !== "object") {
      throw new TypeError(`Each module must contain exactly one of 'js', 'cjs', 'text', 'data', 'json', 'py', or 'wasm'. Module '${name}' contained 0 properties.`);
    }
    const keys = Object.keys(m).filter((k) => moduleKeys.includes(k));
    if (keys.length !== 1) {
      throw new TypeError(`Each module must contain exactly one of 'js', 'cjs', 'text', 'data', 'json', 'py', or 'wasm'. Module '${name}' contained ${keys.length} properties.`);
    }
    let type = keys[0];
    const v = m[type];
    let source;
    switch (type) {
      case "js": case "cjs": case "text":
        if (/\.(ts|mts)$/.test(name) && type === "js") type = "ts";
        source = String(v);
        break;
      case "json":
        source = JSON.stringify(v);
        break;
      case "data":
        if (!(v instanceof ArrayBuffer || ArrayBuffer.isView(v))) {
          throw new TypeError("Incorrect type for the 'data' field on 'Module': the provided value is not of type 'Array'.");
        }
        source = String(enc.buf(exactBuffer(v)));
        break;
      case "py":
        throw new TypeError(`Module '${name}': Python modules are not supported by Isola.`);
      case "wasm":
        source = String(enc.buf(wasmModuleBytes(v)));
        break;
    }
    types[name] = type;
    mods.push(name, type, source);
  }
  const main = code.mainModule;
  if (typeof main !== "string" || !Object.prototype.hasOwnProperty.call(types, main)) {
    throw new Error(`Failed to start Worker:\nUncaught Error: No such module: ${main}`);
  }
  const mainType = types[main];
  if (mainType !== "js" && mainType !== "ts" && mainType !== "tsx" && mainType !== "jsx") {
    throw new Error("Failed to start Worker:\nUncaught TypeError: Main module must be an ES module.");
  }
  let outbound = -1;
  if (code.globalOutbound !== undefined && code.globalOutbound !== null) {
    const st = code.globalOutbound[kStub];
    if (!st) throw new TypeError("Worker Loader: globalOutbound must be a Fetcher (a service binding or ctx.exports entrypoint) or null.");
    outbound = enc.cap({ h: stubHandleNow(st) });
  }
  return hostAsync(host.loaderPut(loader, id, code.compatibilityDate,
    flags.length ? JSON.stringify(flags.map(String)) : "", main, env, outbound, code.globalOutbound === null,
    code.limits ? JSON.stringify(code.limits) : "", JSON.stringify(enc.caps), enc.bufs.length, ...enc.bufs, ...mods));
}

// rpcEncodeProps encodes an entrypoint's props: plain data and stubs (an
// invoked loopback, say), but nothing that needs an async read.
function rpcEncodeProps(props) {
  const enc = new RpcEncoder(false);
  enc.forEnv = true;
  const json = JSON.stringify(enc.encode(props));
  if (enc.bufs.length) {
    throw new DOMException("Isola cannot send binary data in props yet.", "DataCloneError");
  }
  return { json, caps: JSON.stringify(enc.caps) };
}

// ---------------------------------------------------------------- loopbacks

const loopbackError = 'Could not serialize object of type "LoopbackServiceStub". This type does not support serialization.';

// loopback is ctx.exports.<name>: a stub on this worker's own entrypoint
// that can also be called with {props} for one with props. Uninvoked, it
// cannot be serialized (workerd's rule).
function loopback(selfHandle, name) {
  const ep = name === "default" ? "" : name;
  let base;
  const plain = () => base ??= makeStub({ handle: host.entry(selfHandle, ep, "", "[]"), kind: "fetcher", noTransfer: loopbackError });
  return new Proxy(function LoopbackServiceStub() {}, {
    apply(t, thisArg, [opts]) {
      const props = opts && opts.props !== undefined ? rpcEncodeProps(opts.props) : null;
      return makeStub({ handle: entryHandle(selfHandle, ep, props), kind: "fetcher" });
    },
    get(t, prop) {
      if (prop === kStub) return plain()[kStub];
      return plain()[prop];
    },
  });
}
