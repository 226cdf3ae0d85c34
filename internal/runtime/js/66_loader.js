// 66_loader.js: Worker Loader bindings (Dynamic Workers) and ctx.exports
// loopbacks, on top of the RPC unit. A lazy unit.

// ---------------------------------------------------------------- Worker Loader

const kLoader = Symbol("loader");

class WorkerLoader {
  constructor(handle) {
    this[kLoader] = handle;
  }
  get(id, getCode) {
    if (typeof getCode !== "function") throw new TypeError("Worker Loader get(): the second argument must be a function returning the worker's code.");
    return new WorkerStub(this[kLoader], id === null || id === undefined ? "" : String(id), getCode);
  }
  load(code) {
    return new WorkerStub(this[kLoader], "", () => code);
  }
  get [Symbol.toStringTag]() { return "WorkerLoader"; }
}

const kWorkerStub = Symbol("workerStub");

class WorkerStub {
  constructor(loader, id, getCode) {
    this[kWorkerStub] = { loader, id, getCode, worker: null };
  }
  getEntrypoint(name = undefined, opts = undefined) {
    const s = this[kWorkerStub];
    const ep = name === null || name === undefined || name === "default" ? "" : String(name);
    const props = opts && opts.props !== undefined ? rpcEncodeProps(opts.props) : "";
    const handle = workerHandleOf(s).then((wh) => host.entry(wh, ep, props));
    return makeStub({ handle, kind: "fetcher" });
  }
  getDurableObjectClass() {
    throw new Error("getDurableObjectClass() is not supported yet by Isola (it comes with Durable Objects).");
  }
}

// workerHandleOf resolves a WorkerStub to a worker handle: from the cache
// when the loader has it, else by running getCode and compiling.
function workerHandleOf(s) {
  if (s.worker) return s.worker;
  s.worker = (async () => {
    if (s.id !== "") {
      const h = host.loaderGet(s.loader, s.id);
      if (h) return h;
    }
    const code = await s.getCode();
    return putWorkerCode(s.loader, s.id, code);
  })();
  s.worker.catch(() => { s.worker = null; });
  return s.worker;
}

const moduleKeys = ["js", "cjs", "text", "data", "json", "py", "wasm"];

function putWorkerCode(loader, id, code) {
  if (code === null || typeof code !== "object") throw new TypeError("Worker Loader: getCode() must return a WorkerCode object.");
  if (typeof code.compatibilityDate !== "string") throw new TypeError("Worker Loader: WorkerCode.compatibilityDate is required.");
  if (typeof code.mainModule !== "string") throw new TypeError("Worker Loader: WorkerCode.mainModule is required.");
  const modules = code.modules;
  if (modules === null || typeof modules !== "object" || Object.keys(modules).length === 0) {
    throw new TypeError("Worker Loader: WorkerCode.modules must contain at least one module.");
  }
  if (!Object.prototype.hasOwnProperty.call(modules, code.mainModule)) {
    throw new TypeError(`Worker Loader: mainModule "${code.mainModule}" is not among the modules.`);
  }
  const enc = new RpcEncoder(false);
  let env = null;
  if (code.env !== undefined) env = JSON.stringify(enc.encode(code.env));
  const out = {};
  for (const name of Object.keys(modules)) {
    const m = modules[name];
    if (typeof m === "string") {
      if (/\.m?js$/.test(name)) out[name] = { type: "js", source: m };
      else if (/\.(ts|mts|tsx|jsx)$/.test(name)) out[name] = { type: name.endsWith("x") ? name.slice(-3) : "ts", source: m };
      else throw new TypeError(`Worker Loader: module "${name}" is a string, which is only allowed for names ending in .js; use a module object such as { js: ... } or { text: ... }.`);
      continue;
    }
    if (m === null || typeof m !== "object") throw new TypeError(`Worker Loader: module "${name}" must be a string or a module object.`);
    const keys = Object.keys(m);
    if (keys.length !== 1 || !moduleKeys.includes(keys[0])) {
      throw new TypeError(`Worker Loader: module "${name}" must have exactly one of the keys ${moduleKeys.join(", ")}.`);
    }
    const type = keys[0];
    const v = m[type];
    switch (type) {
      case "js": case "cjs": case "text":
        out[name] = { type: /\.(ts|mts)$/.test(name) && type === "js" ? "ts" : type, source: String(v) };
        break;
      case "json":
        out[name] = { type, source: JSON.stringify(v) };
        break;
      case "data":
        out[name] = { type, buf: enc.buf(exactBuffer(v)) };
        break;
      case "py":
        throw new TypeError(`Worker Loader: module "${name}": Python modules are not supported by Isola.`);
      case "wasm":
        throw new TypeError(`Worker Loader: module "${name}": WebAssembly modules are not supported yet by Isola.`);
    }
  }
  const wc = {
    compatibilityDate: code.compatibilityDate,
    compatibilityFlags: code.compatibilityFlags || [],
    mainModule: code.mainModule,
    modules: out,
    env,
    outbound: null,
    outboundNull: code.globalOutbound === null,
    limits: code.limits || {},
  };
  if (code.globalOutbound !== undefined && code.globalOutbound !== null) {
    const st = code.globalOutbound[kStub];
    if (!st) throw new TypeError("Worker Loader: globalOutbound must be a Fetcher (a service binding or ctx.exports entrypoint) or null.");
    wc.outbound = enc.cap({ h: stubHandleNow(st) });
  }
  return hostResult(host.loaderPut(loader, id, JSON.stringify(wc), JSON.stringify(enc.caps), ...enc.bufs));
}

function rpcEncodeProps(props) {
  const enc = rpcEncodeSync(props);
  if (enc.caps !== "[]" || enc.bufs.length) {
    throw new DOMException("props may hold only plain data (no stubs, functions or binary data) in Isola.", "DataCloneError");
  }
  return enc.json;
}

// ---------------------------------------------------------------- loopbacks

// loopback is ctx.exports.<name>: a stub on this worker's own entrypoint
// that can also be called with {props} for one with props.
function loopback(selfHandle, name) {
  const ep = name === "default" ? "" : name;
  let base;
  const plain = () => base ??= makeStub({ handle: host.entry(selfHandle, ep, ""), kind: "fetcher" });
  return new Proxy(function Loopback() {}, {
    apply(t, thisArg, [opts]) {
      const props = opts && opts.props !== undefined ? rpcEncodeProps(opts.props) : "";
      return makeStub({ handle: host.entry(selfHandle, ep, props), kind: "fetcher" });
    },
    get(t, prop) {
      if (prop === kStub) return plain()[kStub];
      return plain()[prop];
    },
  });
}
