// 67_actor.js: Durable Objects: namespaces, ids, stubs, the state (ctx) of
// an instance, facets, and the delivery of events to instances with the
// input gate. A lazy unit. Go (actor.go) decides where an object lives and
// when it starts and stops; this file runs it. Storage is 68_storage.js.

hostNeed("actor");
hostNeed("storage"); // actorAlarm reads the alarm directly

const kActorId = Symbol("actorId");
const kActorNs = Symbol("actorNamespace");
const kActorClass = Symbol("actorClass");

class DurableObjectId {
  constructor(hex, name) {
    this[kActorId] = hex;
    this.jurisdiction = undefined;
    this.name = name;
  }
  toString() { return this[kActorId]; }
  equals(other) {
    if (!(other instanceof DurableObjectId)) {
      throw new TypeError("Failed to execute 'equals' on 'DurableObjectId': parameter 1 is not of type 'DurableObjectId'.");
    }
    return other[kActorId] === this[kActorId];
  }
  get [Symbol.toStringTag]() { return "DurableObjectId"; }
}

const kActorIds = Symbol("actorIds");

class DurableObjectNamespace {
  constructor(handle) {
    this[kActorNs] = handle;
  }
  idFromName(name) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'idFromName' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
    }
    name = String(name);
    // Code asks for the same few names over and over (getByName per
    // request): each namespace remembers the ids it derived.
    const cache = this[kActorIds] ??= new Map();
    let hex = cache.get(name);
    if (hex === undefined) {
      hex = hostResult(host.actorId(this[kActorNs], "name", name));
      if (cache.size >= 1024) cache.clear();
      cache.set(name, hex);
    }
    return new DurableObjectId(hex, name);
  }
  newUniqueId(opts = undefined) {
    return new DurableObjectId(hostResult(host.actorId(this[kActorNs], "unique", "")));
  }
  idFromString(s) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'idFromString' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
    }
    return new DurableObjectId(hostResult(host.actorId(this[kActorNs], "string", String(s))));
  }
  get(id, opts = undefined) {
    if (!(id instanceof DurableObjectId)) {
      throw new TypeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'.");
    }
    const h = host.actorStub(this[kActorNs], id[kActorId], id.name === undefined ? "" : id.name);
    const target = Object.create(ActorStubClass.prototype);
    target.id = id;
    target.name = id.name;
    return makeStub({ handle: h, kind: "fetcher", members: { id, name: id.name }, target, tag: "DurableObject" });
  }
  getByName(name, opts = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'getByName' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
    }
    return this.get(this.idFromName(name), opts);
  }
  jurisdiction(j) { return this; }
  get [Symbol.toStringTag]() { return "DurableObjectNamespace"; }
}

// A stub of a Durable Object is, in workerd, a DurableObject (a kind of
// ServiceStub) with own properties id and name.
const ServiceStubClass = { ServiceStub: class {} }.ServiceStub;
const ActorStubClass = { DurableObject: class extends ServiceStubClass {} }.DurableObject;

// DurableObjectClass is a class to start facets from: a handle (or the
// promise of one, while a dynamic worker loads).
class DurableObjectClass {
  constructor(handle) {
    this[kActorClass] = handle;
  }
  get [Symbol.toStringTag]() { return "DurableObjectClass"; }
}

// actorExport is ctx.exports.<Class> for a Durable Object class: a function
// X({props}) giving the class with props, usable as a class as it is, and,
// when the class has storage, a namespace too (workerd's
// LoopbackDurableObjectNamespace).
class LoopbackDurableObjectNamespace extends DurableObjectNamespace {
  get [Symbol.toStringTag]() { return "LoopbackDurableObjectNamespace"; }
}
class LoopbackDurableObjectClass extends DurableObjectClass {
  get [Symbol.toStringTag]() { return "LoopbackDurableObjectClass"; }
}

function actorExport(name, ns) {
  const fn = function (opts) {
    const props = opts && opts.props !== undefined ? rpcEncodeProps(opts.props) : null;
    return new DurableObjectClass(props === null
      ? host.actorClass(selfHandle, name, "", "[]")
      : host.actorClass(selfHandle, name, props.json, props.caps));
  };
  let plain;
  Object.defineProperty(fn, kActorClass, { get() { return plain ??= host.actorClass(selfHandle, name, "", "[]"); } });
  if (ns) {
    Object.setPrototypeOf(fn, LoopbackDurableObjectNamespace.prototype);
    fn[kActorNs] = ns[kActorNs];
  } else {
    Object.setPrototypeOf(fn, LoopbackDurableObjectClass.prototype);
  }
  return fn;
}

// ---------------------------------------------------------------- instances

const actorRecords = new Map(); // key -> record
const actorReserved = new Set(["constructor", "dup", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"]);

function actorStartEvent(key, infoJSON, propsCaps) {
  const info = JSON.parse(infoJSON);
  actorRecords.set(key, {
    key, info, instance: null, ctx: null, storage: null, runningAlarm: null,
    blocked: 0, queue: [], running: 0, waiting: 0, facetPending: new Map(),
    props: info.props ? rpcDecodeParts(info.props, propsCaps, rpcNoBufs, null) : {},
  });
}

function actorStopEvent(key, force) {
  const rec = actorRecords.get(key);
  if (!rec) return true;
  if (!force && (rec.blocked > 0 || rec.running > 0 || rec.waiting > 0 || rec.queue.length > 0)) return false;
  actorRecords.delete(key);
  return true;
}

// actorServe delivers one event to an instance, behind the input gate.
function actorServe(id, target, path, op, args, stubs) {
  const rec = actorRecords.get(target.key);
  if (!rec) {
    rpcAnswer(id, false, new Error("Durable Object's isolate was reset; try again."), stubs);
    return;
  }
  const run = () => actorRun(rec, id, target, path, op, args, stubs);
  if (rec.blocked > 0) rec.queue.push(run);
  else run();
}

function actorInstance(rec) {
  if (rec.instance) return rec.instance;
  const cls = workerModule ? workerModule[rec.info.class] : undefined;
  if (typeof cls !== "function") {
    throw new Error(`Worker has no such actor class: ${rec.info.class}`);
  }
  const ctx = new DurableObjectState(rec);
  rec.ctx = ctx;
  rec.instance = new cls(ctx, workerEnv);
  return rec.instance;
}

function actorRun(rec, id, target, path, op, args, stubs) {
  let result;
  rec.running++;
  const answer = (ok, v) => {
    rec.running--;
    rpcAnswer(id, ok, v, stubs);
  };
  try {
    const fresh = !rec.instance;
    const inst = actorInstance(rec);
    if (fresh && rec.blocked > 0) {
      // The constructor called blockConcurrencyWhile: this event waits too.
      rec.running--;
      rec.queue.unshift(() => actorRun(rec, id, target, path, op, args, stubs));
      return;
    }
    if (target.event === "alarm") {
      result = actorAlarm(rec, inst, args[0]);
    } else if (target.event === "websocket") {
      result = wsCtx(rec, "event", inst, path[0], args);
    } else if (op === "call" && path.length === 1 && path[0] === "fetch") {
      if (typeof inst.fetch !== "function") throw noFetchHandler();
      result = inst.fetch(args[0]);
    } else {
      result = rpcApplyPath(inst, false, path, op, args, null, actorReserved);
    }
  } catch (e) {
    answer(false, e);
    return;
  }
  if (result !== null && (typeof result === "object" || typeof result === "function") && typeof result.then === "function") {
    Promise.resolve(result).then((v) => answer(true, v), (e) => answer(false, e));
    return;
  }
  answer(true, result);
}

// actorAlarm runs the alarm handler if the alarm is still the one the
// scheduler fired (its index may be stale). While the handler runs the
// alarm reads as unset, as in workerd; it is deleted for good only when the
// handler succeeds and set no other, so a failure (or a crash) retries it.
async function actorAlarm(rec, inst, info) {
  // The store is read and written directly (synchronously): an await
  // between reading the alarm and deleting it would let other code set a
  // new alarm in between, which the delete would then lose.
  const h = rec.info.store;
  if (host.stGetAlarm(h) !== info.scheduledTime) return;
  rec.runningAlarm = info.scheduledTime;
  try {
    if (typeof inst.alarm === "function") {
      await inst.alarm({ retryCount: info.retryCount, isRetry: info.isRetry, scheduledTime: info.scheduledTime });
    }
  } finally {
    rec.runningAlarm = null;
  }
  if (host.stGetAlarm(h) === info.scheduledTime) host.stDeleteAlarm(h);
}

function actorUnblock(rec) {
  if (--rec.blocked > 0) return;
  while (rec.queue.length > 0 && rec.blocked === 0) rec.queue.shift()();
}

// ---------------------------------------------------------------- ctx

const kActorRec = Symbol("actorRecord");

class DurableObjectState {
  constructor(rec) {
    this[kActorRec] = rec;
    const info = rec.info;
    this.id = new DurableObjectId(info.id, info.name === undefined || info.name === "" ? undefined : info.name);
  }
  get storage() {
    const rec = this[kActorRec];
    return rec.storage ??= storageMake(rec.info.store, {
      facet: rec.info.facet, legacy: rec.info.legacy,
      blockConcurrencyWhile: (fn) => this.blockConcurrencyWhile(fn),
      hasAlarmHandler: () => rec.instance === null || typeof rec.instance.alarm === "function",
      runningAlarm: () => rec.runningAlarm,
    });
  }
  get props() { return this[kActorRec].props; }
  get exports() { return workerFeatures.ctxExports ? ctxExports : undefined; }
  get facets() {
    const rec = this[kActorRec];
    return rec.facets ??= new DurableObjectFacets(rec);
  }
  waitUntil(promise) {
    const rec = this[kActorRec];
    rec.waiting++;
    Promise.resolve(promise).catch((e) => consoleEmit("error", ["Uncaught (in waitUntil)", e]))
      .finally(() => { rec.waiting--; });
  }
  blockConcurrencyWhile(fn) {
    if (typeof fn !== "function") {
      throw new TypeError("Failed to execute 'blockConcurrencyWhile' on 'DurableObjectState': parameter 1 is not of type 'function'.");
    }
    const rec = this[kActorRec];
    rec.blocked++;
    let p;
    try {
      p = Promise.resolve(fn());
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then((v) => {
      actorUnblock(rec);
      return v;
    }, (e) => {
      // workerd resets an object whose blockConcurrencyWhile callback throws.
      actorReset(rec, e);
      actorUnblock(rec);
      throw e;
    });
  }
  abort(reason = undefined) {
    const rec = this[kActorRec];
    const err = new Error(reason === undefined ? "Application called abort() to reset Durable Object." : String(reason));
    actorReset(rec, err);
    throw err;
  }
  acceptWebSocket(ws, tags = undefined) { return wsCtx(this[kActorRec], "accept", ws, tags); }
  getWebSockets(tag = undefined) { return wsCtx(this[kActorRec], "list", tag); }
  getTags(ws) { return wsCtx(this[kActorRec], "tags", ws); }
  setWebSocketAutoResponse(pair = undefined) { return wsCtx(this[kActorRec], "auto", pair); }
  getWebSocketAutoResponse() { return wsCtx(this[kActorRec], "getAuto"); }
  getWebSocketAutoResponseTimestamp(ws) { return wsCtx(this[kActorRec], "autoTimestamp", ws); }
  setHibernatableWebSocketEventTimeout(ms = undefined) { this[kActorRec].wsEventTimeout = ms === undefined ? null : Number(ms); }
  getHibernatableWebSocketEventTimeout() { return this[kActorRec].wsEventTimeout ?? null; }
  get container() { return undefined; }
  get [Symbol.toStringTag]() { return "DurableObjectState"; }
}

// actorReset drops the instance; the next event builds a new one.
function actorReset(rec, reason) {
  let json = "null";
  try {
    json = JSON.stringify(new RpcEncoder(false, false).encode(reason));
  } catch {}
  host.actorAbort(rec.key, json);
}

// ---------------------------------------------------------------- facets

class DurableObjectFacets {
  constructor(rec) {
    this[kActorRec] = rec;
  }
  get(name, getStartupOptions) {
    if (typeof name !== "string") {
      throw new TypeError("Failed to execute 'get' on 'DurableObjectFacets': parameter 1 is not of type 'string'.");
    }
    if (typeof getStartupOptions !== "function") {
      throw new TypeError("Failed to execute 'get' on 'DurableObjectFacets': parameter 2 is not of type 'function'.");
    }
    if (name.length > 256) throw new TypeError("Facet name is too long (max 256 characters).");
    const rec = this[kActorRec];
    const target = () => Object.create(ServiceStubClass.prototype);
    const running = host.facetRunning(rec.key, name);
    if (running) return makeStub({ handle: running, kind: "fetcher", target: target() });
    let p = rec.facetPending.get(name);
    if (!p) {
      p = (async () => {
        await null; // workerd calls back on a later turn
        const opts = await getStartupOptions();
        const cls = opts !== null && typeof opts === "object" ? opts.class : undefined;
        const ch = cls !== null && (typeof cls === "object" || typeof cls === "function") ? cls[kActorClass] : undefined;
        if (ch === undefined) {
          throw new TypeError("Incorrect type for the 'class' field on 'StartupOptions': the provided value is not of type 'DurableObjectClass or LoopbackDurableObjectNamespace or LoopbackColoLocalActorNamespace'.");
        }
        let id = "", idName = "", hasID = false;
        if (opts.id instanceof DurableObjectId) {
          [id, idName, hasID] = [opts.id[kActorId], opts.id.name === undefined ? "" : opts.id.name, true];
        } else if (opts.id !== undefined) {
          [id, hasID] = [String(opts.id), true];
        }
        return hostResult(host.facetStart(rec.key, name, await ch, id, idName, hasID));
      })();
      rec.facetPending.set(name, p);
      p.then(() => rec.facetPending.delete(name), () => rec.facetPending.delete(name));
    }
    return makeStub({ handle: p, kind: "fetcher", target: target() });
  }
  clone() { throw new Error("ctx.facets.clone() is not supported yet by Isola."); }
  abort(name, reason) {
    if (arguments.length < 2) {
      throw new TypeError("Failed to execute 'abort' on 'DurableObjectFacets': parameter 2 is not of type 'Value'.");
    }
    if (typeof reason === "string") reason = new Error(reason);
    let json = "null";
    try {
      json = JSON.stringify(new RpcEncoder(false, false).encode(reason));
    } catch {}
    host.facetAbort(this[kActorRec].key, String(name), json);
  }
  delete(name) {
    host.facetDelete(this[kActorRec].key, String(name));
  }
  get [Symbol.toStringTag]() { return "DurableObjectFacets"; }
}
