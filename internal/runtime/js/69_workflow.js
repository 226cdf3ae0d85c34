// 69_workflow.js: Workflows: the binding (env.WF) and its instances, and
// run(event, step) with the step API. The engine is in Go
// (internal/workflows): it keeps the journal and decides what runs when.
// Here a run replays: each step it reaches is answered from the journal
// when the journal has it (host.wfStep), else its callback runs and the
// outcome is recorded (host.wfStepDone) before the step resolves.
//
// When everything a run awaits is a sleep or a wait for an event, the run
// is dropped (host.wfSuspend): its promises are simply never settled. The
// engine runs it again from the top when one of them is due.

const kWfHandle = Symbol("workflowHandle");
const kWfId = Symbol("instanceId");

// ---- values kept in the journal ----

function wfEncode(v, what) {
  const enc = new RpcEncoder(false, false);
  let json;
  try {
    json = JSON.stringify(enc.encode(v));
  } catch (e) {
    throw new TypeError(`${what} could not be serialized: ${e && e.message}`);
  }
  if (enc.caps.length > 0) throw new TypeError(`${what} could not be serialized: it holds an RPC stub, which cannot be stored.`);
  return { json, bufs: enc.bufs };
}

function wfDecode(json, bufs) {
  if (json === null || json === undefined) return undefined;
  return rpcDecodeParts(json, "[]", bufs, null);
}

function wfSize(enc) {
  let n = enc.json.length;
  for (const b of enc.bufs) n += b.byteLength;
  return n;
}

// ---- durations ----

const wfUnits = {
  __proto__: null,
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60000, min: 60000, mins: 60000, minute: 60000, minutes: 60000,
  h: 3600000, hr: 3600000, hrs: 3600000, hour: 3600000, hours: 3600000,
  d: 86400000, day: 86400000, days: 86400000,
  w: 604800000, wk: 604800000, wks: 604800000, week: 604800000, weeks: 604800000,
  month: 2592000000, months: 2592000000,
  y: 31557600000, yr: 31557600000, yrs: 31557600000, year: 31557600000, years: 31557600000,
};

// wfDuration turns a duration (a number of milliseconds, or "<n> <unit>")
// into milliseconds; NaN when it cannot.
function wfDuration(d) {
  if (typeof d === "number") return d;
  if (typeof d !== "string") return NaN;
  const m = /^\s*(-?\d*\.?\d+)\s*([a-z]+)\s*$/i.exec(d);
  if (!m) return NaN;
  const unit = wfUnits[m[2].toLowerCase()];
  if (unit === undefined) return NaN;
  return Number(m[1]) * unit;
}

// ---- validation ----

function wfCheckStepName(name) {
  if (typeof name !== "string") throw new TypeError("Step name must be a string");
  if (name.length > 256) throw new Error("Step name cannot be longer than 256 characters");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1F]/.test(name)) throw new Error("Step name cannot contain control characters");
}

const wfDefaultConfig = { retries: { limit: 5, delay: 1000, backoff: "exponential" }, timeout: "10 minutes" };
const wfConfigKeys = new Set(["retries", "timeout", "sensitive"]);
const wfRetryKeys = new Set(["limit", "delay", "backoff"]);

function wfStepConfig(cfg) {
  if (cfg === undefined || cfg === null) cfg = {};
  if (typeof cfg !== "object") throw new TypeError("Step config must be an object");
  for (const k of Object.keys(cfg)) {
    if (!wfConfigKeys.has(k)) throw new TypeError(`Invalid step config: unknown key "${k}"`);
  }
  const retries = { ...wfDefaultConfig.retries };
  if (cfg.retries !== undefined) {
    if (cfg.retries === null || typeof cfg.retries !== "object") throw new TypeError("Invalid step config: retries must be an object");
    for (const k of Object.keys(cfg.retries)) {
      if (!wfRetryKeys.has(k)) throw new TypeError(`Invalid step config: unknown key "retries.${k}"`);
    }
    Object.assign(retries, cfg.retries);
  }
  if (typeof retries.limit !== "number" || !(retries.limit >= 0) || !Number.isInteger(retries.limit)) {
    throw new TypeError("Invalid step config: retries.limit must be a whole number of retries");
  }
  if (typeof retries.delay !== "function" && !(wfDuration(retries.delay) >= 0)) {
    throw new TypeError(`Invalid step config: retries.delay ${JSON.stringify(retries.delay)} is not a duration`);
  }
  if (!["constant", "linear", "exponential"].includes(retries.backoff)) {
    throw new TypeError(`Invalid step config: retries.backoff must be "constant", "linear" or "exponential"`);
  }
  const timeout = cfg.timeout === undefined ? wfDefaultConfig.timeout : cfg.timeout;
  const timeoutMs = wfDuration(timeout);
  if (!(timeoutMs > 0)) throw new TypeError(`Invalid step config: timeout ${JSON.stringify(timeout)} is not a positive duration`);
  const out = { retries, timeout };
  if (cfg.sensitive !== undefined) out.sensitive = cfg.sensitive;
  return { config: out, timeoutMs };
}

function wfRetryDelay(retries, attempt, error, ctx) {
  const base = typeof retries.delay === "function" ? wfDuration(retries.delay({ ctx, error })) : wfDuration(retries.delay);
  switch (retries.backoff) {
    case "constant": return base;
    case "linear": return base * attempt;
    default: return base * 2 ** (attempt - 1);
  }
}

function wfErrorInfo(e) {
  if (e instanceof Error || (e !== null && typeof e === "object" && typeof e.message === "string")) {
    return { name: String(e.name || "Error"), message: String(e.message) };
  }
  return { name: "Error", message: String(e) };
}

function wfError(name, message) {
  const e = name === "NonRetryableError" ? new NonRetryableError(message) : new Error(message);
  if (e.name !== name) Object.defineProperty(e, "name", { value: name, writable: true, configurable: true, enumerable: false });
  return e;
}

function wfSleepTimer(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- a run ----

const wfNever = new Promise(() => {});

class WorkflowStep {
  #run;
  constructor(run) { this.#run = run; }

  do(name, a, b) {
    const run = this.#run;
    let cfg, cb;
    if (typeof a === "function") cb = a;
    else { cfg = a; cb = b; }
    return wfDo(run, name, cfg, cb);
  }
  sleep(name, duration) {
    const run = this.#run;
    return Promise.resolve().then(() => {
      wfCheckStepName(name);
      const ms = wfDuration(duration);
      if (!(ms >= 0)) throw new TypeError(`Invalid duration: ${JSON.stringify(duration)}`);
      if (ms > wfUnits.year) throw new RangeError("Sleep duration cannot exceed 365 days");
      return wfBlocking(run, "sleep", name, 0, ms, "");
    });
  }
  sleepUntil(name, timestamp) {
    const run = this.#run;
    return Promise.resolve().then(() => {
      wfCheckStepName(name);
      const ms = timestamp instanceof Date ? timestamp.getTime() : Number(timestamp);
      if (!Number.isFinite(ms)) throw new TypeError("Invalid timestamp");
      const count = wfCount(run, name);
      const ans = host.wfStep(run.id, "sleep", name, count, ms, 0, "");
      if (ans[0] === "run" || ans[0] === "block") {
        if (ms < Date.now() && ans[0] !== "block") throw new Error("Cannot sleep until a time in the past");
      }
      return wfAnswerBlocking(run, ans);
    });
  }
  waitForEvent(name, opts) {
    const run = this.#run;
    return Promise.resolve().then(() => {
      wfCheckStepName(name);
      if (opts === null || typeof opts !== "object") throw new TypeError("waitForEvent options must be an object with a type");
      const type = opts.type;
      if (typeof type !== "string") throw new TypeError("Event type must be a string");
      const timeout = opts.timeout === undefined ? "24 hours" : opts.timeout;
      const ms = wfDuration(timeout);
      if (!(ms > 0)) throw new TypeError(`Invalid timeout: ${JSON.stringify(timeout)}`);
      return wfBlocking(run, "waitForEvent", name, 0, ms, type);
    });
  }
}

function wfCount(run, name) {
  const n = (run.counts.get(name) || 0) + 1;
  run.counts.set(name, n);
  return n;
}

function wfBlocking(run, kind, name, until, ms, type) {
  const count = wfCount(run, name);
  return wfAnswerBlocking(run, host.wfStep(run.id, kind, name, count, until, ms, type));
}

function wfAnswerBlocking(run, ans) {
  switch (ans[0]) {
    case "done":
      if (ans[2] === "" ) return undefined; // a sleep
      return { payload: wfDecode(ans[1], ans.slice(4)), timestamp: new Date(ans[3]), type: ans[2] };
    case "failed": throw wfError(ans[1], ans[2]);
    case "abandon": wfAbandon(run); return wfNever;
    case "block":
      run.blocked++;
      wfCheckSuspend(run);
      return wfNever;
  }
  throw new Error("isola: unexpected workflow answer " + ans[0]);
}

async function wfDo(run, name, cfg, cb) {
  wfCheckStepName(name);
  if (typeof cb !== "function") throw new TypeError("step.do needs a callback function");
  const { config, timeoutMs } = wfStepConfig(cfg);
  const count = wfCount(run, name);
  if (++run.steps > run.stepLimit) {
    throw new Error(`The limit of ${run.stepLimit} steps has been reached.`);
  }
  const ans = host.wfStep(run.id, "do", name, count, 0, 0, "");
  switch (ans[0]) {
    case "done": return wfDecode(ans[1], ans.slice(4));
    case "failed": throw wfError(ans[1], ans[2]);
    case "abandon": wfAbandon(run); return wfNever;
  }
  run.inflight++;
  const start = Date.now();
  let attempt = 1;
  let value, failure, encoded;
  try {
    for (;; attempt++) {
      const ctx = { step: { name, count }, attempt, config };
      try {
        value = await wfAttempt(cb, ctx, timeoutMs, name);
        encoded = wfEncode(value, `The result of step "${name}"`);
        if (wfSize(encoded) > 1 << 20) throw new Error(`The result of step "${name}" is larger than 1 MiB.`);
        failure = undefined;
        break;
      } catch (e) {
        failure = e;
        if (run.dead) return wfNever;
        const nonRetryable = e instanceof NonRetryableError || (e !== null && typeof e === "object" && e.name === "NonRetryableError");
        if (nonRetryable || attempt > config.retries.limit) break;
        await wfSleepTimer(wfRetryDelay(config.retries, attempt, e, ctx));
        if (run.dead) return wfNever;
      }
    }
    if (run.dead) return wfNever;
    let r;
    if (failure === undefined) {
      r = await host.wfStepDone(run.id, name, count, true, encoded.json, "", "", attempt, start, ...encoded.bufs);
    } else {
      const info = wfErrorInfo(failure);
      r = await host.wfStepDone(run.id, name, count, false, "", info.name, info.message, attempt, start);
    }
    if (r === "abandon") { wfAbandon(run); return wfNever; }
  } finally {
    run.inflight--;
    wfCheckSuspend(run);
  }
  if (failure !== undefined) throw failure;
  return wfDecode(encoded.json, encoded.bufs);
}

function wfAttempt(cb, ctx, timeoutMs, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Step "${name}" timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([Promise.resolve().then(() => cb(ctx)), timeout]).finally(() => clearTimeout(timer));
}

function wfAbandon(run) {
  run.dead = true;
}

// wfCheckSuspend drops the run once nothing it awaits can settle without
// the engine: every pending step is a sleep or a wait. The check runs after
// the current turn's microtasks, so code that continues after a step in
// the same turn gets to start its next step first.
function wfCheckSuspend(run) {
  if (run.checkPending || run.dead) return;
  run.checkPending = true;
  setTimeout(() => {
    run.checkPending = false;
    if (!run.dead && run.inflight === 0 && run.blocked > 0) {
      run.dead = true;
      host.wfSuspend(run.id);
    }
  }, 0);
}

function workflowRunEvent(runId, className, workflowName, instanceId, createdMs, stepLimit, paramsJSON, ...bufs) {
  hostNeed("workflow");
  const run = { id: runId, counts: new Map(), steps: 0, stepLimit, inflight: 0, blocked: 0, dead: false, checkPending: false };
  const finishErr = (e) => {
    if (run.dead) return;
    run.dead = true;
    const info = wfErrorInfo(e);
    host.wfFinish(runId, false, "", info.name, info.message);
  };
  const finishOk = (v) => {
    if (run.dead) return;
    let enc;
    try {
      enc = wfEncode(v, "The workflow's output");
    } catch (e) {
      finishErr(e);
      return;
    }
    run.dead = true;
    host.wfFinish(runId, true, enc.json, "", "", ...enc.bufs);
  };
  try {
    const cls = workerModule ? workerModule[className] : undefined;
    if (typeof cls !== "function") {
      throw new Error(`The worker has no exported class "${className}" for workflow "${workflowName}".`);
    }
    const payload = wfDecode(paramsJSON, bufs);
    const event = { payload, timestamp: new Date(createdMs), instanceId, workflowName };
    const instance = new cls(new ExecutionContext({}), workerEnv);
    if (typeof instance.run !== "function") throw new Error(`Workflow class "${className}" has no run() method.`);
    Promise.resolve(instance.run(event, new WorkflowStep(run))).then(finishOk, finishErr);
  } catch (e) {
    finishErr(e);
  }
}

// ---- the binding ----

class Workflow {
  constructor(handle) {
    this[kWfHandle] = handle;
  }
  async create(options = undefined) {
    const [id] = await wfCreate(this[kWfHandle], [options ?? {}]);
    return new WorkflowInstance(this[kWfHandle], id);
  }
  async createBatch(batch) {
    if (!Array.isArray(batch)) throw new TypeError("createBatch needs an array of instance options");
    if (batch.length === 0) throw new Error("createBatch needs at least one instance");
    if (batch.length > 100) throw new Error("createBatch accepts at most 100 instances");
    const ids = await wfCreate(this[kWfHandle], batch.map((o) => o ?? {}));
    return ids.map((id) => new WorkflowInstance(this[kWfHandle], id));
  }
  async get(id) {
    id = String(id);
    await wfCall(this[kWfHandle], "get", id, "");
    return new WorkflowInstance(this[kWfHandle], id);
  }
}

function wfRetention(v) {
  if (v === undefined) return 0;
  const ms = wfDuration(v);
  if (!(ms > 0)) throw new TypeError(`Invalid retention: ${JSON.stringify(v)}`);
  return ms;
}

async function wfCreate(handle, list) {
  const items = [];
  const bufs = [];
  for (const o of list) {
    if (typeof o !== "object") throw new TypeError("Workflow instance options must be an object");
    const enc = wfEncode(o.params === undefined ? {} : o.params, "The instance's params");
    const r = o.retention || {};
    items.push({
      id: o.id === undefined ? "" : String(o.id), params: enc.json, bufs: enc.bufs.length,
      successRetention: wfRetention(r.successRetention), errorRetention: wfRetention(r.errorRetention),
    });
    for (const b of enc.bufs) bufs.push(b);
  }
  return wfCall(handle, "create", "", JSON.stringify(items), ...bufs);
}

async function wfCall(handle, op, id, arg, ...bufs) {
  hostNeed("workflow");
  return host.wfCall(handle, op, id, arg, ...bufs);
}

class WorkflowInstance {
  constructor(handle, id) {
    this[kWfHandle] = handle;
    this.id = id;
  }
  async status() {
    const r = await wfCall(this[kWfHandle], "status", this.id, "");
    const out = { status: r[0] };
    out.error = r[1] === null ? undefined : { name: r[1], message: r[2] };
    out.output = r[3] === null ? undefined : wfDecode(r[3], r.slice(4));
    return out;
  }
  async pause() { await wfCall(this[kWfHandle], "pause", this.id, ""); }
  async resume() { await wfCall(this[kWfHandle], "resume", this.id, ""); }
  async terminate() { await wfCall(this[kWfHandle], "terminate", this.id, ""); }
  async restart() { await wfCall(this[kWfHandle], "restart", this.id, ""); }
  async delete() { await wfCall(this[kWfHandle], "delete", this.id, ""); }
  async sendEvent(ev) {
    if (ev === null || typeof ev !== "object") throw new TypeError("sendEvent needs {type, payload}");
    const enc = wfEncode(ev.payload, "The event's payload");
    await wfCall(this[kWfHandle], "sendEvent", this.id, JSON.stringify({ type: String(ev.type), payload: enc.json }), ...enc.bufs);
  }
}
