// 69_workflow.js: Workflows: the binding (env.WF) and its instances, and
// run(event, step) with the step API. The engine is in Go
// (internal/workflows): it keeps the journal and decides what runs when.
// Here a run replays: each step it reaches is answered from the journal
// when the journal has it (host.wfStep), else its callback runs and the
// outcome is recorded (host.wfStepDone) before the step resolves.
//
// When everything a run awaits is a sleep or a wait for an event, the run
// is dropped (host.wfSuspend): its promises are simply never settled. The
// engine runs it again from the top when one of them is due. A short sleep
// is waited out here instead, the run live (wfHold), when the engine says
// so.

const kWfHandle = Symbol("workflowHandle");
const kWfId = Symbol("instanceId");

// ---- values kept in the journal ----

const wfNoBufs = [];

function wfEncode(v, what) {
  // Most step results are plain JSON scalars: no encoder needed.
  if (rpcJSONScalar(v)) return { json: rpcScalarJSON(v), bufs: wfNoBufs };
  const enc = new RpcEncoder(false, false);
  let json;
  try {
    json = rpcEncodeJSON(enc, v);
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

// wfMs reads a duration exactly as the reference does (itty-time's ms()):
// a number, a numeric string, or "<value> <unit>" where one trailing "s" of
// the unit is dropped. An unknown unit multiplies by 1 ("5 min" is 5 ms),
// which is surprising enough that wfDurationWarn reports it.
const wfUnits = {
  __proto__: null,
  year: 31557600000, month: 2592000000, week: 604800000, day: 86400000, hour: 3600000, minute: 60000, second: 1000, m: 1,
};
const wfDurationPattern = /^([^ ]+) +(\w\w*?)s?$/;

function wfMs(d) {
  if (!isNaN(+d)) return +d;
  let ms = wfMsCache.get(d);
  if (ms === undefined) {
    const m = d.match(wfDurationPattern);
    ms = m ? +m[1] * (wfUnits[m[2]] || 1) : NaN;
    if (wfMsCache.size < 256) wfMsCache.set(d, ms);
  }
  return ms;
}
// Programs use a handful of duration strings, parsed again at every step.
const wfMsCache = new Map();
const wfDurationsFine = new Set();

// wfDurationWarn warns of a duration that is not one, naming the step
// (what(name)). A string found fine once is not matched again.
function wfDurationWarn(what, name, d) {
  if (typeof d !== "string" || wfDurationsFine.has(d) || !isNaN(+d)) return;
  const m = d.match(wfDurationPattern);
  if (m && m[2] in wfUnits) {
    if (wfDurationsFine.size < 256) wfDurationsFine.add(d);
    return;
  }
  const step = what(name);
  if (!m) {
    consoleEmit("warn", [`${step}: ${JSON.stringify(d)} is not a duration ("<number> <unit>", e.g. "30 seconds"); it counts as 0 ms, as on Cloudflare.`]);
  } else {
    consoleEmit("warn", [`${step}: ${JSON.stringify(d)}: "${m[2]}" is not a unit (second, minute, hour, day, week, month, year); it counts as ${+m[1]} ms, as on Cloudflare.`]);
  }
}

function wfSleepWhat(name) { return `step.sleep("${name}")`; }
function wfWaitWhat(name) { return `step.waitForEvent("${name}") timeout`; }

// ---- errors as the reference names them ----

function wfNamedError(name, message) {
  const e = name === "NonRetryableError" ? new NonRetryableError(message) : new Error(message);
  if (e.name !== name) Object.defineProperty(e, "name", { value: name, writable: true, configurable: true, enumerable: false });
  return e;
}

// wfCrossed is an error as the reference's user code receives it. There the
// engine runs apart from the worker and errors cross an RPC boundary, which
// keeps the standard error classes and turns any other name into a prefix
// of the message: a WorkflowTimeoutError arrives as an Error whose message
// is "WorkflowTimeoutError: Execution timed out after 200ms".
const wfStandardErrors = { __proto__: null, Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function wfCrossed(name, message) {
  const C = wfStandardErrors[name];
  return C ? new C(message) : new Error(`${name}: ${message}`);
}

// wfCrossedInfo is wfCrossed for an error's status() record.
function wfCrossedInfo(info) {
  return wfStandardErrors[info.name] ? info : { name: "Error", message: `${info.name}: ${info.message}` };
}

const wfConfigDocs = "See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/";

function wfIsNonRetryable(e) {
  return e instanceof Error && (e.name === "NonRetryableError" || String(e.message).startsWith("NonRetryableError"));
}

// ---- validation ----

function wfValidStepName(name) {
  return !(name.length > 256) && !/[\x00-\x1F]/.test(name);
}

const wfConfigKeys = new Set(["retries", "timeout", "sensitive"]);
const wfRetryKeys = new Set(["limit", "delay", "backoff"]);
const wfBackoffs = new Set(["constant", "linear", "exponential"]);

function wfIsNonNegative(n) {
  return typeof n === "number" && !Number.isNaN(n) && n >= 0;
}

// wfValidStepConfig is the reference's schema: strict at both levels,
// retries needs both limit and delay, and a timeout may not be 0.
function wfValidStepConfig(cfg) {
  if (cfg === null || typeof cfg !== "object") return false;
  for (const k of Object.keys(cfg)) if (!wfConfigKeys.has(k)) return false;
  const r = cfg.retries;
  if (r !== undefined) {
    if (r === null || typeof r !== "object") return false;
    for (const k of Object.keys(r)) if (!wfRetryKeys.has(k)) return false;
    if (!wfIsNonNegative(r.limit)) return false;
    if (typeof r.delay !== "function" && typeof r.delay !== "string" && !wfIsNonNegative(r.delay)) return false;
    if (r.backoff !== undefined && !wfBackoffs.has(r.backoff)) return false;
    if (typeof r.delay !== "function" && Number.isNaN(wfMs(r.delay))) return false;
  }
  const t = cfg.timeout;
  if (t !== undefined) {
    if (typeof t !== "string" && !wfIsNonNegative(t)) return false;
    if (t == 0 || Number.isNaN(wfMs(t))) return false;
  }
  if (cfg.sensitive !== undefined && cfg.sensitive !== "output") return false;
  return true;
}

// wfNoConfig stands for a step.do without a config: its config is the
// defaults, made without validating or merging anything.
const wfNoConfig = Object.freeze({});

// wfDefaultConfig is the defaults as wfCallbackConfig(wfResolveConfig({}))
// gives them: a new object each time, in the same key order.
function wfDefaultConfig() {
  return { retries: { limit: 5, backoff: "exponential", delay: 1000 }, timeout: "10 minutes" };
}

// wfResolveConfig merges the step's config over the defaults (the local
// engine's: a delay of 1000 ms).
function wfResolveConfig(cfg) {
  const retries = { limit: 5, delay: 1000, backoff: "exponential", ...cfg.retries };
  const config = { retries, timeout: "10 minutes", ...cfg, retries };
  return config;
}

// wfCallbackConfig is the config as the callback sees it: retries with
// delay last, and no delay when it is a function.
function wfCallbackConfig(config) {
  const { delay, ...rest } = config.retries;
  const retries = typeof delay === "function" ? rest : { ...rest, delay };
  return { ...config, retries };
}

async function wfRetryDelay(step, retries, attempt, error, ctx) {
  let d = retries.delay;
  if (typeof d === "function") {
    let timer;
    try {
      d = await Promise.race([
        Promise.resolve().then(() => d({ ctx, error })),
        new Promise((_, reject) => { timer = setTimeout(() => reject(wfDelayTimeout), 5000); }),
      ]);
    } catch (e) {
      if (e === wfDelayTimeout) throw wfNamedError("NonRetryableDelayError", `The delay function for step "${step}" did not return within 5 seconds`);
      throw wfNamedError("NonRetryableDelayError", `The delay function for step "${step}" threw an error: ${e && e.message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  const base = wfMs(d);
  if (!Number.isFinite(base) || base < 0) {
    throw wfNamedError("NonRetryableDelayError", `The delay function for step "${step}" returned an invalid delay value (expected a number of ms or a duration string like "30 seconds")`);
  }
  switch (retries.backoff) {
    case "exponential": return base * 2 ** (attempt - 1);
    case "linear": return base * attempt;
    default: return base;
  }
}
const wfDelayTimeout = Symbol("delayTimeout");

// wfErrorInfo is an error as status() reports it.
function wfErrorInfo(e) {
  if (e instanceof Error) return { name: String(e.name), message: String(e.message) };
  return { name: "Error", message: typeof e === "string" ? e : wfJSONText(e) };
}

function wfJSONText(v) {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}

function wfSleepTimer(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- a run ----

// wfNever is what a dropped run awaits. A new promise each time: one
// shared promise would hold every dropped run's continuation forever.
function wfNever() {
  return new Promise(wfNoop);
}
function wfNoop() {}

// A run's step is a capability to the run (a handle): it can be sent to
// other isolates (a dispatcher hands it to a tenant's dynamic worker), and
// each isolate holding it runs its steps' callbacks itself and asks the
// engine directly. Go keeps what must agree between them (occurrence
// counts, the step limit, steps in flight); a view keeps this isolate's.
function wfView(h) {
  hostNeed("workflow");
  return { h, dead: false, checkPending: false };
}

// WorkflowStep is an RpcTarget, as the step the reference's engine hands
// to run() is an RPC stub; it crosses RPC as its handle (65_rpc.js).
class WorkflowStep extends RpcTarget {
  #view;
  constructor(view) {
    super();
    this.#view = view;
    Object.defineProperty(this, kWorkflowRun, { value: view });
  }

  do(name, ...rest) {
    return wfDo(this.#view, name, rest);
  }
  sleep(name, duration) {
    const view = this.#view;
    return Promise.resolve().then(() => {
      wfDurationWarn(wfSleepWhat, name, duration);
      let ms = typeof duration === "string" ? wfMs(duration) : +duration;
      if (!(ms >= 0)) ms = 0;
      return wfAnswerBlocking(view, host.wfStep(view.h, "sleep", String(name), true, 0, ms, ""), String(name));
    });
  }
  sleepUntil(name, timestamp) {
    const view = this.#view;
    return Promise.resolve().then(() => {
      const ms = timestamp instanceof Date ? timestamp.valueOf() : +timestamp;
      // A recorded sleep is answered from the journal even once its time
      // has passed; only a new one may not lie in the past.
      const ans = host.wfStep(view.h, "sleep", String(name), true, ms > 0 ? ms : 1, 0, "until");
      if (ans[0] === "past") throw new Error("You can't sleep until a time in the past, time-traveler");
      return wfAnswerBlocking(view, ans, String(name));
    });
  }
  waitForEvent(name, options) {
    const view = this.#view;
    return Promise.resolve().then(() => {
      const timeout = options.timeout || "24 hours";
      wfDurationWarn(wfWaitWhat, name, timeout);
      let ms = wfMs(timeout);
      if (!(ms >= 0)) ms = 0;
      return wfAnswerBlocking(view, host.wfStep(view.h, "waitForEvent", String(name), true, 0, ms, String(options.type)));
    });
  }
}

// wfAnswerBlocking turns the engine's answer to a sleep or a wait into its
// outcome. Answers are [action, count, ...] (workflow.go).
function wfAnswerBlocking(view, ans, name) {
  switch (ans[0]) {
    case "hold": return wfHold(view, name, ans[1], ans[2]);
    case "done":
      if (ans[3] === "") return undefined; // a sleep
      return { payload: wfDecode(ans[2], ans.slice(5)), type: ans[3], timestamp: new Date(ans[4]) };
    case "failed": throw wfCrossed(ans[2], ans[3]);
    case "abandon": view.dead = true; return wfNever();
    case "block":
      wfCheckSuspend(view);
      return wfNever();
  }
  throw new Error("isola: unexpected workflow answer " + ans[0]);
}

// wfHold waits out a short sleep here, with the run live (the engine
// answered "hold"), and then asks the engine to end it. A millisecond more
// than the delay: the engine's clock is not the timers' clock, and a sleep
// found not yet due is dropped and replayed, which costs far more.
function wfHold(view, name, count, delayMs) {
  return wfSleepTimer(delayMs + 1).then(() => {
    if (view.dead) return wfNever();
    return wfAnswerBlocking(view, host.wfSleepDue(view.h, name, count), name);
  });
}

async function wfDo(view, name, rest) {
  let cfg, cb;
  if (typeof rest[0] === "function") { cfg = wfNoConfig; cb = rest[0]; }
  else { cfg = rest[0] ?? {}; cb = rest[1]; }
  if (typeof cb !== "function") throw wfCrossed("WorkflowFatalError", `Step "${name}" requires a callback function`);
  // The limit is checked before the name and the config: an invalid step
  // still counts against it.
  let invalid = null;
  if (!wfValidStepName(name)) {
    invalid = `Step name "${name}" exceeds max length (256 chars) or invalid characters found`;
  } else if (cfg !== wfNoConfig && !wfValidStepConfig(cfg)) {
    invalid = `Step config for "${name}" is in a invalid format. ${wfConfigDocs}`;
  }
  const ans = host.wfStep(view.h, "do", String(name), invalid === null, 0, 0, "");
  switch (ans[0]) {
    case "limit": throw wfCrossed("WorkflowFatalError", `The limit of ${ans[2]} steps has been reached. This limit can be changed in your worker configuration.`);
    case "invalid": throw wfCrossed("WorkflowFatalError", invalid);
    case "done": return wfDecode(ans[2], ans.slice(5));
    case "failed": throw wfCrossed(ans[2], ans[3]);
    case "abandon": view.dead = true; return wfNever();
  }
  const count = ans[1];
  const config = cfg === wfNoConfig ? wfDefaultConfig() : wfResolveConfig(cfg);
  const timeoutMs = cfg === wfNoConfig ? 600000 : wfMs(config.timeout);
  const stepName = `${name}-${count}`;
  const start = Date.now();
  let attempt = 1;
  let value, failure, encoded;
  for (;; attempt++) {
    const ctx = { step: { name, count }, attempt, config: cfg === wfNoConfig ? wfDefaultConfig() : wfCallbackConfig(config) };
    try {
      value = await wfAttempt(cb, ctx, timeoutMs);
      try {
        encoded = wfEncode(value, `The value returned from step "${name}"`);
      } catch {
        // The reference ends the instance at once, whatever run() would
        // do with the error.
        view.dead = true;
        host.wfFinish(view.h, false, "", "WorkflowFatalError", `The execution of the Workflow instance was terminated, as the step "${name}" returned a value which is not serialisable`);
        return wfNever();
      }
      if (wfSize(encoded) > 1 << 20) {
        throw wfNamedError("WorkflowInternalError", `Step ${stepName} output is too large. Maximum allowed size is 1MiB.`);
      }
      failure = undefined;
      break;
    } catch (e) {
      failure = e;
      if (view.dead) return wfNever();
      if (wfIsNonRetryable(e) || attempt > config.retries.limit) break;
      try {
        const delay = await wfRetryDelay(stepName, config.retries, attempt, e, ctx);
        const info = wfErrorInfo(e);
        host.wfAttemptFailed(view.h, name, count, attempt, info.name, info.message, delay);
        await wfSleepTimer(delay);
      } catch (delayError) {
        failure = delayError;
        break;
      }
      if (view.dead) return wfNever();
    }
  }
  if (view.dead) return wfNever();
  let r;
  if (failure === undefined) {
    r = await host.wfStepDone(view.h, name, count, true, encoded.json, "", "", attempt, start, ...encoded.bufs);
  } else {
    const info = wfErrorInfo(failure);
    r = await host.wfStepDone(view.h, name, count, false, "", info.name, info.message, attempt, start);
  }
  if (r === "abandon") { view.dead = true; return wfNever(); }
  if (r === "check") wfCheckSuspend(view);
  if (failure !== undefined) {
    const info = wfErrorInfo(failure);
    throw wfCrossed(info.name, info.message);
  }
  return value;
}

// Step timeouts share one timer: each attempt registers its deadline, and
// the timer runs for the earliest. With the usual equal timeouts deadlines
// only grow, so an attempt costs no timer call of its own.
const wfDeadlines = new Set();
let wfDeadlineTimer = null;
let wfDeadlineAt = Infinity;

function wfAddDeadline(at, expire) {
  const d = { at, expire };
  wfDeadlines.add(d);
  if (at < wfDeadlineAt) wfArmDeadlines(at);
  return d;
}

function wfArmDeadlines(at) {
  if (wfDeadlineTimer !== null) clearTimeout(wfDeadlineTimer);
  wfDeadlineAt = at;
  wfDeadlineTimer = setTimeout(wfFireDeadlines, Math.max(0, at - Date.now()));
}

function wfFireDeadlines() {
  wfDeadlineTimer = null;
  wfDeadlineAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const d of wfDeadlines) {
    if (d.at <= now) {
      wfDeadlines.delete(d);
      d.expire();
    } else if (d.at < next) {
      next = d.at;
    }
  }
  if (next !== Infinity) wfArmDeadlines(next);
}

function wfAttempt(cb, ctx, timeoutMs) {
  return new Promise((resolve, reject) => {
    const d = wfAddDeadline(Date.now() + timeoutMs, () => {
      reject(wfNamedError("WorkflowTimeoutError", `Execution timed out after ${timeoutMs}ms`));
    });
    const ok = (v) => { wfDeadlines.delete(d); resolve(v); };
    const fail = (e) => { wfDeadlines.delete(d); reject(e); };
    let p;
    try {
      p = cb(ctx);
    } catch (e) {
      fail(e);
      return;
    }
    if (p !== null && typeof p === "object" && typeof p.then === "function") p.then(ok, fail);
    else ok(p);
  });
}

// wfCheckSuspend drops the run once nothing it awaits can settle without
// the engine: no step.do runs, in any isolate, and a sleep or a wait is
// pending (Go decides, as it sees every isolate's steps). The check runs
// after the current turn's microtasks, so code that continues after a step
// in the same turn gets to start its next step first.
function wfCheckSuspend(view) {
  if (view.checkPending || view.dead) return;
  view.checkPending = true;
  setTimeout(() => {
    view.checkPending = false;
    if (!view.dead && host.wfSuspend(view.h)) view.dead = true;
  }, 0);
}

function workflowRunEvent(h, className, workflowName, instanceId, createdMs, paramsJSON, ...bufs) {
  const view = wfView(h);
  const finishErr = (e) => {
    if (view.dead) return;
    view.dead = true;
    let info = wfCrossedInfo(wfErrorInfo(e));
    if (wfIsNonRetryable(e)) {
      info = { name: "WorkflowFatalError", message: "The execution of the Workflow instance was terminated, as a step threw an NonRetryableError and it was not handled" };
    }
    host.wfFinish(h, false, "", info.name, info.message);
  };
  const finishOk = (v) => {
    if (view.dead) return;
    let enc;
    try {
      enc = wfEncode(v, "The workflow's output");
    } catch (e) {
      finishErr(e);
      return;
    }
    view.dead = true;
    host.wfFinish(h, true, enc.json, "", "", ...enc.bufs);
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
    Promise.resolve(instance.run(event, new WorkflowStep(view))).then(finishOk, finishErr);
  } catch (e) {
    finishErr(e);
  }
}

// wfStepFromHandle is a step that arrived from another isolate: a view of
// its own, and the handle released when the view is collected. The view,
// not the step: a dropped run's step is garbage at once, but a suspend
// check still pending holds the view, and needs the handle.
function wfStepFromHandle(h) {
  const view = wfView(h);
  stubRegistry.register(view, h);
  return new WorkflowStep(view);
}

// ---- the binding ----

class Workflow {
  constructor(handle) {
    this[kWfHandle] = handle;
  }
  async create(options = undefined) {
    const [id] = await wfCreate(this[kWfHandle], [options ?? {}], "");
    return new WorkflowInstance(this[kWfHandle], id);
  }
  async createBatch(batch) {
    if (!Array.isArray(batch)) throw new TypeError("createBatch needs an array of instance options");
    if (batch.length === 0) throw new Error("WorkflowError: batchCreate should have at least 1 instance");
    if (batch.length > 100) throw new Error("WorkflowError: batchCreate only supports 100 instances at a time");
    const ids = await wfCreate(this[kWfHandle], batch.map((o) => o ?? {}), "batch");
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
  const ms = wfMs(v);
  if (!(ms > 0)) throw new TypeError(`Invalid retention: ${JSON.stringify(v)}`);
  return ms;
}

async function wfCreate(handle, list, mode) {
  const items = [];
  const bufs = [];
  for (const o of list) {
    if (typeof o !== "object") throw new TypeError("Workflow instance options must be an object");
    const enc = wfEncode(o.params === undefined ? {} : o.params, "The instance's params");
    const r = o.retention || {};
    if (o.id !== undefined && typeof o.id !== "string") throw wfCrossed("WorkflowError", "Workflow instance has invalid id");
    items.push({
      id: o.id === undefined ? null : o.id, params: enc.json, bufs: enc.bufs.length,
      successRetention: wfRetention(r.successRetention), errorRetention: wfRetention(r.errorRetention),
    });
    for (const b of enc.bufs) bufs.push(b);
  }
  return wfCall(handle, "create", mode, JSON.stringify(items), ...bufs);
}

async function wfCall(handle, op, id, arg, ...bufs) {
  hostNeed("workflow");
  try {
    return await host.wfCall(handle, op, id, arg, ...bufs);
  } catch (e) {
    if (typeof e !== "string") throw e;
    // "Name: message": an Error of that name, as the reference's errors
    // (WorkflowError, ...) arrive in the caller.
    const i = e.indexOf(": ");
    throw i > 0 ? wfCrossed(e.slice(0, i), e.slice(i + 2)) : new Error(e);
  }
}

class WorkflowInstance {
  constructor(handle, id) {
    this[kWfHandle] = handle;
    this.id = id;
  }
  async status() {
    const r = await wfCall(this[kWfHandle], "status", this.id, "");
    // As the reference: output is null until there is one, and values are
    // JSON (the reference keeps them in a JSON log).
    const v = r[3] === null ? undefined : wfDecode(r[3], r.slice(4));
    return {
      status: r[0],
      output: v === undefined ? null : JSON.parse(wfJSONText(v)),
      error: r[1] === null ? undefined : { name: r[1], message: r[2] },
    };
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
