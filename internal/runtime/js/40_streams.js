// 40_streams.js: WHATWG Streams as workerd exposes them: ReadableStream
// (default and byte sources, default and BYOB readers), WritableStream,
// TransformStream, the queuing strategies, TextEncoderStream,
// TextDecoderStream, and workerd's IdentityTransformStream and
// FixedLengthStream.
//
// The abstract operations follow the Streams Standard step by step: the order
// in which promises settle is observable, and worker code compares it with
// workerd. Error messages are workerd's where workerd has its own.
//
// Every public object keeps its state in a plain record held in a private
// field, so worker code can neither see nor corrupt it; records point back at
// their public object through `pub`. Later prelude files use readAllBytes,
// isReadableStream, rsFromBytes, streamDisturbed and rsKnownLength.

const rsToken = Symbol("isola.streams");
const RS_LOCKED = "This ReadableStream is currently locked to a reader.";
const RS_RELEASED = "This ReadableStream reader has been released.";
const WS_LOCKED = "This WritableStream is currently locked to a writer.";
const WS_RELEASED = "This WritableStream writer has been released.";
const WS_CLOSED = "This WritableStream has been closed.";

function rsNoop() {}
// "Upon settlement" reactions never leave an unhandled derived promise.
function rsUpon(p, onFulfilled, onRejected) { p.then(onFulfilled, onRejected || rsNoop); }
function rsHandle(p) { p.then(undefined, rsNoop); return p; }
function rsResolved() { return Promise.resolve(); }
function rsCall1(fn, self, a) {
  try { return Promise.resolve(fn.call(self, a)); } catch (e) { return Promise.reject(e); }
}
function rsCall2(fn, self, a, b) {
  try { return Promise.resolve(fn.call(self, a, b)); } catch (e) { return Promise.reject(e); }
}

// A promise whose state the algorithms need to inspect ("if pending").
class RsDeferred {
  constructor() {
    const r = Promise.withResolvers();
    this.promise = r.promise;
    this.res = r.resolve;
    this.rej = r.reject;
    this.pending = true;
  }
  resolve(v) { if (this.pending) { this.pending = false; this.res(v); } }
  reject(e) { if (this.pending) { this.pending = false; this.rej(e); } }
}
function rsDeferredResolved() { const d = new RsDeferred(); d.resolve(); return d; }
function rsDeferredRejected(e) { const d = new RsDeferred(); d.reject(e); rsHandle(d.promise); return d; }

// Array-backed FIFO: shift() on a plain array is O(n) in QuickJS.
class RsQueue {
  constructor() { this.items = []; this.head = 0; }
  get length() { return this.items.length - this.head; }
  push(x) { this.items.push(x); }
  peek() { return this.items[this.head]; }
  shift() {
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) { this.items = []; this.head = 0; }
    else if (this.head >= 64 && this.head * 2 >= this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return x;
  }
  clear() { this.items = []; this.head = 0; }
}

function rsBrand(cls, tag) {
  Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: tag, configurable: true });
}

// ---- Web IDL conversions shared by the constructors ----

function rsDict(v, what) {
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" && typeof v !== "function") throw new TypeError(`The ${what} must be an object.`);
  return v;
}
function rsCallback(v, name) {
  if (v === undefined) return undefined;
  if (typeof v !== "function") throw new TypeError(`The "${name}" member must be a function.`);
  return v;
}
function rsCountSize() { return 1; }
// Reads a QueuingStrategy dictionary in Web IDL member order.
function rsStrategy(v) {
  const d = rsDict(v, "queuing strategy");
  if (d === null) return { hwm: undefined, size: undefined };
  const hwm = d.highWaterMark;
  return { hwm, size: rsCallback(d.size, "size") };
}
function rsHighWaterMark(st, dflt) {
  if (st.hwm === undefined) return dflt;
  const h = Number(st.hwm);
  if (Number.isNaN(h) || h < 0) throw new RangeError("Invalid highWaterMark");
  return h;
}
function rsSizeAlgorithm(st) {
  const size = st.size;
  if (size === undefined) return rsCountSize;
  return (chunk) => Number(size(chunk));
}
function rsEnforceRange(v, what) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new TypeError(`${what} must be a non-negative finite number.`);
  return Math.trunc(n);
}
function rsBadSize(size) { return !(size >= 0) || size === Infinity; }
function rsSizeError() {
  return new RangeError("The return value of a queuing strategy's size function must be a finite, non-NaN, non-negative number.");
}

const rsTypedArrayName = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
const rsTypedArrays = { Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array };
if (typeof Float16Array === "function") rsTypedArrays.Float16Array = Float16Array;

function rsTransfer(buffer) { return buffer.transfer(); }

// =====================================================================
// ReadableStream
// =====================================================================

let rsStreamOf; // (x) => stream record or undefined

function rsNewStream() {
  const s = { state: "readable", reader: undefined, storedError: undefined, disturbed: false,
    controller: undefined, pub: undefined, fastBytes: undefined, knownLength: undefined };
  s.pub = new ReadableStream(rsToken, s);
  return s;
}

function rsClose(s) {
  s.state = "closed";
  const r = s.reader;
  if (r === undefined) return;
  r.closed.resolve();
  if (!r.byob) {
    const reqs = r.requests;
    r.requests = [];
    for (const q of reqs) q.close();
  }
}

function rsError(s, e) {
  s.state = "errored";
  s.storedError = e;
  const r = s.reader;
  if (r === undefined) return;
  r.closed.reject(e);
  rsHandle(r.closed.promise);
  const reqs = r.requests;
  r.requests = [];
  for (const q of reqs) q.error(e);
}

function rsCancel(s, reason) {
  s.disturbed = true;
  if (s.state === "closed") return Promise.resolve();
  if (s.state === "errored") return Promise.reject(s.storedError);
  rsClose(s);
  const r = s.reader;
  if (r !== undefined && r.byob) {
    const reqs = r.requests;
    r.requests = [];
    for (const q of reqs) q.close(undefined);
  }
  const c = s.controller;
  const p = c.byte ? rsByteCancelSteps(c, reason) : rsDefaultCancelSteps(c, reason);
  return p.then(rsNoop);
}

function rsFulfillReadRequest(s, chunk, done) {
  const q = s.reader.requests.shift();
  if (done) q.close(); else q.chunk(chunk);
}
function rsFulfillReadIntoRequest(s, chunk, done) {
  const q = s.reader.requests.shift();
  if (done) q.close(chunk); else q.chunk(chunk);
}

// ---- readers ----

function rsAcquireReader(s, byob, pub) {
  if (s.reader !== undefined) throw new TypeError(RS_LOCKED);
  if (byob && !s.controller.byte) throw new TypeError("This ReadableStream does not support BYOB reads.");
  const r = { stream: s, byob, requests: [], closed: undefined, pub };
  s.reader = r;
  if (s.state === "readable") r.closed = new RsDeferred();
  else if (s.state === "closed") r.closed = rsDeferredResolved();
  else r.closed = rsDeferredRejected(s.storedError);
  return r;
}

function rsReaderRelease(r) {
  const s = r.stream;
  const e = new TypeError(RS_RELEASED);
  if (s.state === "readable") r.closed.reject(e);
  else r.closed = rsDeferredRejected(e);
  rsHandle(r.closed.promise);
  if (s.controller.byte) rsByteReleaseSteps(s.controller);
  s.reader = undefined;
  r.stream = undefined;
  const reqs = r.requests;
  r.requests = [];
  for (const q of reqs) q.error(e);
}

function rsReaderRead(r, req) {
  const s = r.stream;
  s.disturbed = true;
  if (s.state === "closed") req.close();
  else if (s.state === "errored") req.error(s.storedError);
  else if (s.controller.byte) rsBytePullSteps(s.controller, req);
  else rsDefaultPullSteps(s.controller, req);
}

function rsByobReaderRead(r, view, min, req) {
  const s = r.stream;
  s.disturbed = true;
  if (s.state === "errored") req.error(s.storedError);
  else rsBytePullInto(s.controller, view, min, req);
}

class RsReadRequest {
  constructor(resolve, reject) { this.res = resolve; this.rej = reject; }
  chunk(value) { this.res({ value, done: false }); }
  close(value) { this.res({ value, done: true }); }
  error(e) { this.rej(e); }
}

// ---- default controller ----

function rsNewDefaultController(s, hwm, size) {
  const c = { byte: false, stream: s, queue: new RsQueue(), queueTotalSize: 0, started: false,
    closeRequested: false, pullAgain: false, pulling: false, size, hwm,
    pullAlg: undefined, cancelAlg: undefined, pub: undefined };
  c.pub = new ReadableStreamDefaultController(rsToken, c);
  return c;
}

function rsSetupDefaultController(s, c, startFn) {
  s.controller = c;
  const startResult = startFn === undefined ? undefined : startFn();
  rsUpon(Promise.resolve(startResult),
    () => { c.started = true; rsDefaultCallPullIfNeeded(c); },
    (e) => rsDefaultError(c, e));
}

// CreateReadableStream: a default stream driven by internal algorithms.
function rsCreateStream(pullAlg, cancelAlg, hwm = 1, size = rsCountSize, startFn = undefined) {
  const s = rsNewStream();
  const c = rsNewDefaultController(s, hwm, size);
  c.pullAlg = pullAlg;
  c.cancelAlg = cancelAlg;
  rsSetupDefaultController(s, c, startFn);
  return s;
}

function rsDefaultCanCloseOrEnqueue(c) { return !c.closeRequested && c.stream.state === "readable"; }

function rsDefaultShouldCallPull(c) {
  if (!c.started || !rsDefaultCanCloseOrEnqueue(c)) return false;
  const r = c.stream.reader;
  if (r !== undefined && r.requests.length > 0) return true;
  return c.hwm - c.queueTotalSize > 0;
}

function rsDefaultCallPullIfNeeded(c) {
  if (!rsDefaultShouldCallPull(c)) return;
  if (c.pulling) { c.pullAgain = true; return; }
  c.pulling = true;
  rsUpon(c.pullAlg(), () => {
    c.pulling = false;
    if (c.pullAgain) { c.pullAgain = false; rsDefaultCallPullIfNeeded(c); }
  }, (e) => rsDefaultError(c, e));
}

function rsDefaultClearAlgorithms(c) { c.pullAlg = c.cancelAlg = c.size = undefined; }

function rsDefaultClose(c) {
  if (!rsDefaultCanCloseOrEnqueue(c)) return;
  c.closeRequested = true;
  if (c.queue.length === 0) { rsDefaultClearAlgorithms(c); rsClose(c.stream); }
}

function rsDefaultEnqueue(c, chunk) {
  if (!rsDefaultCanCloseOrEnqueue(c)) return;
  const s = c.stream;
  if (s.reader !== undefined && s.reader.requests.length > 0) {
    rsFulfillReadRequest(s, chunk, false);
  } else {
    let size = 1;
    if (c.size !== rsCountSize) {
      try { size = c.size(chunk); } catch (e) { rsDefaultError(c, e); throw e; }
      if (rsBadSize(size)) { const e = rsSizeError(); rsDefaultError(c, e); throw e; }
    }
    c.queue.push({ value: chunk, size });
    c.queueTotalSize += size;
  }
  rsDefaultCallPullIfNeeded(c);
}

function rsDefaultError(c, e) {
  if (c.stream.state !== "readable") return;
  c.queue.clear();
  c.queueTotalSize = 0;
  rsDefaultClearAlgorithms(c);
  rsError(c.stream, e);
}

function rsDefaultDesiredSize(c) {
  const st = c.stream.state;
  if (st === "errored") return null;
  if (st === "closed") return 0;
  return c.hwm - c.queueTotalSize;
}

function rsDefaultCancelSteps(c, reason) {
  c.queue.clear();
  c.queueTotalSize = 0;
  const p = c.cancelAlg(reason);
  rsDefaultClearAlgorithms(c);
  return p;
}

function rsDefaultPullSteps(c, req) {
  const s = c.stream;
  if (c.queue.length > 0) {
    const e = c.queue.shift();
    c.queueTotalSize -= e.size;
    if (c.queueTotalSize < 0) c.queueTotalSize = 0;
    if (c.closeRequested && c.queue.length === 0) { rsDefaultClearAlgorithms(c); rsClose(s); }
    else rsDefaultCallPullIfNeeded(c);
    req.chunk(e.value);
  } else {
    s.reader.requests.push(req);
    rsDefaultCallPullIfNeeded(c);
  }
}

// ---- byte controller ----

function rsNewByteController(s, hwm, autoAllocateChunkSize) {
  const c = { byte: true, stream: s, queue: new RsQueue(), queueTotalSize: 0, started: false,
    closeRequested: false, pullAgain: false, pulling: false, hwm, autoAllocateChunkSize,
    pendingPullIntos: [], byobRequest: null, pullAlg: undefined, cancelAlg: undefined, pub: undefined };
  c.pub = new ReadableByteStreamController(rsToken, c);
  return c;
}

function rsSetupByteController(s, c, startFn) {
  s.controller = c;
  const startResult = startFn === undefined ? undefined : startFn();
  rsUpon(Promise.resolve(startResult),
    () => { c.started = true; rsByteCallPullIfNeeded(c); },
    (e) => rsByteError(c, e));
}

// CreateReadableByteStream; autoAllocateChunkSize stays undefined for
// internal sources so default reads receive whole chunks.
function rsCreateByteStream(pullAlg, cancelAlg) {
  const s = rsNewStream();
  const c = rsNewByteController(s, 0, undefined);
  c.pullAlg = pullAlg;
  c.cancelAlg = cancelAlg;
  rsSetupByteController(s, c, undefined);
  return s;
}

function rsByteShouldCallPull(c) {
  const s = c.stream;
  if (s.state !== "readable" || c.closeRequested || !c.started) return false;
  const r = s.reader;
  if (r !== undefined && r.requests.length > 0) return true;
  return c.hwm - c.queueTotalSize > 0;
}

function rsByteCallPullIfNeeded(c) {
  if (!rsByteShouldCallPull(c)) return;
  if (c.pulling) { c.pullAgain = true; return; }
  c.pulling = true;
  rsUpon(c.pullAlg(), () => {
    c.pulling = false;
    if (c.pullAgain) { c.pullAgain = false; rsByteCallPullIfNeeded(c); }
  }, (e) => rsByteError(c, e));
}

function rsByteClearAlgorithms(c) { c.pullAlg = c.cancelAlg = undefined; }

function rsByteInvalidateBYOBRequest(c) {
  const q = c.byobRequest;
  if (q === null) return;
  q.controller = undefined;
  q.view = null;
  c.byobRequest = null;
}

function rsByteClearPendingPullIntos(c) {
  rsByteInvalidateBYOBRequest(c);
  c.pendingPullIntos = [];
}

function rsByteClose(c) {
  const s = c.stream;
  if (c.closeRequested || s.state !== "readable") return;
  if (c.queueTotalSize > 0) { c.closeRequested = true; return; }
  if (c.pendingPullIntos.length > 0) {
    const first = c.pendingPullIntos[0];
    if (first.bytesFilled % first.elementSize !== 0) {
      const e = new TypeError("This ReadableStream was closed with a partial read pending.");
      rsByteError(c, e);
      throw e;
    }
  }
  rsByteClearAlgorithms(c);
  rsClose(s);
}

// Closes and completes pending BYOB reads with done, as a source does with
// close() followed by byobRequest.respond(0).
function rsByteCloseAndFlush(c) {
  rsByteClose(c);
  if (c.stream.state === "closed" && c.pendingPullIntos.length > 0) rsByteRespond(c, 0);
}

function rsByteConvertPullInto(d) {
  return new d.ctor(rsTransfer(d.buffer), d.byteOffset, d.bytesFilled / d.elementSize);
}

function rsByteCommitPullInto(s, d) {
  const done = s.state === "closed";
  const view = rsByteConvertPullInto(d);
  if (d.readerType === "default") rsFulfillReadRequest(s, view, done);
  else rsFulfillReadIntoRequest(s, view, done);
}

function rsByteEnqueueChunkToQueue(c, buffer, byteOffset, byteLength) {
  c.queue.push({ buffer, byteOffset, byteLength });
  c.queueTotalSize += byteLength;
}

function rsByteEnqueueClonedChunkToQueue(c, buffer, byteOffset, byteLength) {
  let clone;
  try { clone = buffer.slice(byteOffset, byteOffset + byteLength); } catch (e) { rsByteError(c, e); throw e; }
  rsByteEnqueueChunkToQueue(c, clone, 0, byteLength);
}

function rsByteEnqueueDetachedPullIntoToQueue(c, d) {
  if (d.bytesFilled > 0) rsByteEnqueueClonedChunkToQueue(c, d.buffer, d.byteOffset, d.bytesFilled);
  c.pendingPullIntos.shift();
}

function rsByteEnqueue(c, chunk) {
  const s = c.stream;
  if (c.closeRequested || s.state !== "readable") return;
  const buffer = chunk.buffer, byteOffset = chunk.byteOffset, byteLength = chunk.byteLength;
  if (buffer.detached) throw new TypeError("The provided ArrayBuffer must be detachable.");
  const transferred = rsTransfer(buffer);
  if (c.pendingPullIntos.length > 0) {
    const first = c.pendingPullIntos[0];
    if (first.buffer.detached) throw new TypeError("The byobRequest.view is zero-length or was detached");
    rsByteInvalidateBYOBRequest(c);
    first.buffer = rsTransfer(first.buffer);
    if (first.readerType === "none") rsByteEnqueueDetachedPullIntoToQueue(c, first);
  }
  const r = s.reader;
  if (r !== undefined && !r.byob) {
    rsByteProcessReadRequestsUsingQueue(c);
    if (r.requests.length === 0) {
      rsByteEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
    } else {
      if (c.pendingPullIntos.length > 0) c.pendingPullIntos.shift();
      rsFulfillReadRequest(s, new Uint8Array(transferred, byteOffset, byteLength), false);
    }
  } else if (r !== undefined) {
    rsByteEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
    for (const d of rsByteProcessPullIntosUsingQueue(c)) rsByteCommitPullInto(s, d);
  } else {
    rsByteEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
  }
  rsByteCallPullIfNeeded(c);
}

function rsByteError(c, e) {
  if (c.stream.state !== "readable") return;
  rsByteClearPendingPullIntos(c);
  c.queue.clear();
  c.queueTotalSize = 0;
  rsByteClearAlgorithms(c);
  rsError(c.stream, e);
}

function rsByteFillPullIntoFromQueue(c, d) {
  const maxBytesToCopy = Math.min(c.queueTotalSize, d.byteLength - d.bytesFilled);
  const maxBytesFilled = d.bytesFilled + maxBytesToCopy;
  const maxAligned = maxBytesFilled - (maxBytesFilled % d.elementSize);
  let remaining = maxBytesToCopy;
  let ready = false;
  if (maxAligned >= d.minimumFill) { remaining = maxAligned - d.bytesFilled; ready = true; }
  const q = c.queue;
  while (remaining > 0) {
    const head = q.peek();
    const n = Math.min(remaining, head.byteLength);
    new Uint8Array(d.buffer, d.byteOffset + d.bytesFilled, n).set(new Uint8Array(head.buffer, head.byteOffset, n));
    if (head.byteLength === n) q.shift();
    else { head.byteOffset += n; head.byteLength -= n; }
    c.queueTotalSize -= n;
    d.bytesFilled += n;
    remaining -= n;
  }
  return ready;
}

function rsByteFillReadRequestFromQueue(c, req) {
  const e = c.queue.shift();
  c.queueTotalSize -= e.byteLength;
  rsByteHandleQueueDrain(c);
  req.chunk(new Uint8Array(e.buffer, e.byteOffset, e.byteLength));
}

function rsByteGetBYOBRequest(c) {
  if (c.byobRequest === null && c.pendingPullIntos.length > 0) {
    const d = c.pendingPullIntos[0];
    const q = { controller: c, view: new Uint8Array(d.buffer, d.byteOffset + d.bytesFilled, d.byteLength - d.bytesFilled), pub: undefined };
    q.pub = new ReadableStreamBYOBRequest(rsToken, q);
    c.byobRequest = q;
  }
  return c.byobRequest === null ? null : c.byobRequest.pub;
}

function rsByteHandleQueueDrain(c) {
  if (c.queueTotalSize === 0 && c.closeRequested) { rsByteClearAlgorithms(c); rsClose(c.stream); }
  else rsByteCallPullIfNeeded(c);
}

function rsByteProcessPullIntosUsingQueue(c) {
  const filled = [];
  while (c.pendingPullIntos.length > 0 && c.queueTotalSize > 0) {
    const d = c.pendingPullIntos[0];
    if (rsByteFillPullIntoFromQueue(c, d)) { c.pendingPullIntos.shift(); filled.push(d); }
  }
  return filled;
}

function rsByteProcessReadRequestsUsingQueue(c) {
  const r = c.stream.reader;
  while (r.requests.length > 0 && c.queueTotalSize > 0) {
    rsByteFillReadRequestFromQueue(c, r.requests.shift());
  }
}

function rsBytePullInto(c, view, min, req) {
  const s = c.stream;
  let elementSize = 1, ctor = DataView;
  const name = rsTypedArrayName.call(view);
  if (name !== undefined) { ctor = rsTypedArrays[name]; elementSize = ctor.BYTES_PER_ELEMENT; }
  const byteOffset = view.byteOffset, byteLength = view.byteLength;
  let buffer;
  try { buffer = rsTransfer(view.buffer); } catch (e) { req.error(e); return; }
  const d = { buffer, bufferByteLength: buffer.byteLength, byteOffset, byteLength, bytesFilled: 0,
    minimumFill: min * elementSize, elementSize, ctor, readerType: "byob" };
  if (c.pendingPullIntos.length > 0) {
    c.pendingPullIntos.push(d);
    s.reader.requests.push(req);
    return;
  }
  if (s.state === "closed") { req.close(new ctor(d.buffer, d.byteOffset, 0)); return; }
  if (c.queueTotalSize > 0) {
    if (rsByteFillPullIntoFromQueue(c, d)) {
      const filled = rsByteConvertPullInto(d);
      rsByteHandleQueueDrain(c);
      req.chunk(filled);
      return;
    }
    if (c.closeRequested) {
      const e = new TypeError("This ReadableStream was closed with a partial read pending.");
      rsByteError(c, e);
      req.error(e);
      return;
    }
  }
  c.pendingPullIntos.push(d);
  s.reader.requests.push(req);
  rsByteCallPullIfNeeded(c);
}

function rsByteRespond(c, bytesWritten) {
  const first = c.pendingPullIntos[0];
  if (c.stream.state === "closed") {
    if (bytesWritten !== 0) throw new TypeError("The bytesWritten must be zero after the stream is closed.");
  } else {
    if (bytesWritten === 0) throw new TypeError("The bytesWritten must be more than zero while the stream is open.");
    if (first.bytesFilled + bytesWritten > first.byteLength) throw new RangeError("The bytesWritten is larger than the view.");
  }
  first.buffer = rsTransfer(first.buffer);
  rsByteRespondInternal(c, bytesWritten);
}

function rsByteRespondInternal(c, bytesWritten) {
  const first = c.pendingPullIntos[0];
  rsByteInvalidateBYOBRequest(c);
  const s = c.stream;
  if (s.state === "closed") {
    if (first.readerType === "none") c.pendingPullIntos.shift();
    const r = s.reader;
    if (r !== undefined && r.byob) {
      const filled = [];
      while (filled.length < r.requests.length) filled.push(c.pendingPullIntos.shift());
      for (const d of filled) rsByteCommitPullInto(s, d);
    }
  } else {
    first.bytesFilled += bytesWritten;
    if (first.readerType === "none") {
      rsByteEnqueueDetachedPullIntoToQueue(c, first);
      for (const d of rsByteProcessPullIntosUsingQueue(c)) rsByteCommitPullInto(s, d);
    } else if (first.bytesFilled >= first.minimumFill) {
      c.pendingPullIntos.shift();
      const rem = first.bytesFilled % first.elementSize;
      if (rem > 0) {
        const end = first.byteOffset + first.bytesFilled;
        rsByteEnqueueClonedChunkToQueue(c, first.buffer, end - rem, rem);
      }
      first.bytesFilled -= rem;
      const filled = rsByteProcessPullIntosUsingQueue(c);
      rsByteCommitPullInto(s, first);
      for (const d of filled) rsByteCommitPullInto(s, d);
    }
  }
  rsByteCallPullIfNeeded(c);
}

function rsByteRespondWithNewView(c, view) {
  const first = c.pendingPullIntos[0];
  if (c.stream.state === "closed") {
    if (view.byteLength !== 0) throw new TypeError("The view byte length must be zero after the stream is closed.");
  } else if (view.byteLength === 0) {
    throw new TypeError("The view byte length must be more than zero while the stream is open.");
  }
  if (first.byteOffset + first.bytesFilled !== view.byteOffset) throw new RangeError("The region specified by view does not match byobRequest");
  if (first.bufferByteLength !== view.buffer.byteLength) throw new RangeError("The buffer of view has different capacity than byobRequest");
  if (first.bytesFilled + view.byteLength > first.byteLength) throw new RangeError("The region specified by view is larger than byobRequest");
  const n = view.byteLength;
  first.buffer = rsTransfer(view.buffer);
  rsByteRespondInternal(c, n);
}

function rsBytePullSteps(c, req) {
  if (c.queueTotalSize > 0) { rsByteFillReadRequestFromQueue(c, req); return; }
  const size = c.autoAllocateChunkSize;
  if (size !== undefined) {
    let buffer;
    try { buffer = new ArrayBuffer(size); } catch (e) { req.error(e); return; }
    c.pendingPullIntos.push({ buffer, bufferByteLength: size, byteOffset: 0, byteLength: size, bytesFilled: 0,
      minimumFill: 1, elementSize: 1, ctor: Uint8Array, readerType: "default" });
  }
  c.stream.reader.requests.push(req);
  rsByteCallPullIfNeeded(c);
}

function rsByteReleaseSteps(c) {
  if (c.pendingPullIntos.length > 0) {
    const first = c.pendingPullIntos[0];
    first.readerType = "none";
    c.pendingPullIntos = [first];
  }
}

function rsByteCancelSteps(c, reason) {
  rsByteClearPendingPullIntos(c);
  c.queue.clear();
  c.queueTotalSize = 0;
  const p = c.cancelAlg(reason);
  rsByteClearAlgorithms(c);
  return p;
}

// ---- tee ----

function rsTee(s) {
  return s.controller.byte ? rsByteTee(s) : rsDefaultTee(s);
}

function rsDefaultTee(s) {
  const r = rsAcquireReader(s, false, undefined);
  let reading = false, readAgain = false, canceled1 = false, canceled2 = false, reason1, reason2;
  let b1, b2;
  const cancelDone = new RsDeferred();
  const readRequest = {
    // Deferred a microtask so an error already on its way through
    // r.closed reaches both branches before this chunk does.
    chunk(chunk) {
      Promise.resolve().then(() => {
        readAgain = false;
        if (!canceled1) rsDefaultEnqueue(b1.controller, chunk);
        if (!canceled2) rsDefaultEnqueue(b2.controller, chunk);
        reading = false;
        if (readAgain) pull();
      });
    },
    close() {
      reading = false;
      if (!canceled1) rsDefaultClose(b1.controller);
      if (!canceled2) rsDefaultClose(b2.controller);
      if (!canceled1 || !canceled2) cancelDone.resolve();
    },
    error() { reading = false; },
  };
  function pull() {
    if (reading) { readAgain = true; return Promise.resolve(); }
    reading = true;
    rsReaderRead(r, readRequest);
    return Promise.resolve();
  }
  function cancel1(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) cancelDone.resolve(rsCancel(s, [reason1, reason2]));
    return cancelDone.promise;
  }
  function cancel2(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) cancelDone.resolve(rsCancel(s, [reason1, reason2]));
    return cancelDone.promise;
  }
  b1 = rsCreateStream(pull, cancel1);
  b2 = rsCreateStream(pull, cancel2);
  rsUpon(r.closed.promise, rsNoop, (e) => {
    rsDefaultError(b1.controller, e);
    rsDefaultError(b2.controller, e);
    if (!canceled1 || !canceled2) cancelDone.resolve();
  });
  return [b1, b2];
}

function rsCloneAsUint8Array(chunk) {
  return new Uint8Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength));
}

function rsByteTee(s) {
  let r = rsAcquireReader(s, false, undefined);
  let readAgain1 = false, readAgain2 = false, reading = false;
  let canceled1 = false, canceled2 = false, reason1, reason2;
  let b1, b2;
  const cancelDone = new RsDeferred();

  function forwardReaderError(thisReader) {
    rsUpon(thisReader.closed.promise, rsNoop, (e) => {
      if (thisReader !== r) return;
      rsByteError(b1.controller, e);
      rsByteError(b2.controller, e);
      if (!canceled1 || !canceled2) cancelDone.resolve();
    });
  }
  function failClone(e) {
    rsByteError(b1.controller, e);
    rsByteError(b2.controller, e);
    cancelDone.resolve(rsCancel(s, e));
  }
  function pullWithDefaultReader() {
    if (r.byob) {
      rsReaderRelease(r);
      r = rsAcquireReader(s, false, undefined);
      forwardReaderError(r);
    }
    rsReaderRead(r, {
      chunk(chunk) {
        Promise.resolve().then(() => {
          readAgain1 = readAgain2 = false;
          let chunk2 = chunk;
          if (!canceled1 && !canceled2) {
            try { chunk2 = rsCloneAsUint8Array(chunk); } catch (e) { failClone(e); return; }
          }
          if (!canceled1) rsByteEnqueue(b1.controller, chunk);
          if (!canceled2) rsByteEnqueue(b2.controller, chunk2);
          reading = false;
          if (readAgain1) pull1(); else if (readAgain2) pull2();
        });
      },
      close() {
        reading = false;
        if (!canceled1) rsByteClose(b1.controller);
        if (!canceled2) rsByteClose(b2.controller);
        if (b1.controller.pendingPullIntos.length > 0) rsByteRespond(b1.controller, 0);
        if (b2.controller.pendingPullIntos.length > 0) rsByteRespond(b2.controller, 0);
        if (!canceled1 || !canceled2) cancelDone.resolve();
      },
      error() { reading = false; },
    });
  }
  function pullWithBYOBReader(view, forBranch2) {
    if (!r.byob) {
      rsReaderRelease(r);
      r = rsAcquireReader(s, true, undefined);
      forwardReaderError(r);
    }
    const byobBranch = forBranch2 ? b2 : b1;
    const otherBranch = forBranch2 ? b1 : b2;
    rsByobReaderRead(r, view, 1, {
      chunk(chunk) {
        Promise.resolve().then(() => {
          readAgain1 = readAgain2 = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!otherCanceled) {
            let cloned;
            try { cloned = rsCloneAsUint8Array(chunk); } catch (e) { failClone(e); return; }
            if (!byobCanceled) rsByteRespondWithNewView(byobBranch.controller, chunk);
            rsByteEnqueue(otherBranch.controller, cloned);
          } else if (!byobCanceled) {
            rsByteRespondWithNewView(byobBranch.controller, chunk);
          }
          reading = false;
          if (readAgain1) pull1(); else if (readAgain2) pull2();
        });
      },
      close(chunk) {
        reading = false;
        const byobCanceled = forBranch2 ? canceled2 : canceled1;
        const otherCanceled = forBranch2 ? canceled1 : canceled2;
        if (!byobCanceled) rsByteClose(byobBranch.controller);
        if (!otherCanceled) rsByteClose(otherBranch.controller);
        if (chunk !== undefined) {
          if (!byobCanceled) rsByteRespondWithNewView(byobBranch.controller, chunk);
          if (!otherCanceled && otherBranch.controller.pendingPullIntos.length > 0) rsByteRespond(otherBranch.controller, 0);
        }
        if (!byobCanceled || !otherCanceled) cancelDone.resolve();
      },
      error() { reading = false; },
    });
  }
  function pull1() {
    if (reading) { readAgain1 = true; return Promise.resolve(); }
    reading = true;
    const req = rsByteGetBYOBRequest(b1.controller);
    if (req === null) pullWithDefaultReader();
    else pullWithBYOBReader(b1.controller.byobRequest.view, false);
    return Promise.resolve();
  }
  function pull2() {
    if (reading) { readAgain2 = true; return Promise.resolve(); }
    reading = true;
    const req = rsByteGetBYOBRequest(b2.controller);
    if (req === null) pullWithDefaultReader();
    else pullWithBYOBReader(b2.controller.byobRequest.view, true);
    return Promise.resolve();
  }
  function cancel1(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) cancelDone.resolve(rsCancel(s, [reason1, reason2]));
    return cancelDone.promise;
  }
  function cancel2(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) cancelDone.resolve(rsCancel(s, [reason1, reason2]));
    return cancelDone.promise;
  }
  b1 = rsCreateByteStream(pull1, cancel1);
  b2 = rsCreateByteStream(pull2, cancel2);
  forwardReaderError(r);
  return [b1, b2];
}

// ---- pipeTo ----

function rsPipeOptions(options) {
  const d = rsDict(options, "options");
  if (d === null) return { preventAbort: false, preventCancel: false, preventClose: false, signal: undefined };
  const preventAbort = !!d.preventAbort, preventCancel = !!d.preventCancel, preventClose = !!d.preventClose;
  const signal = d.signal;
  if (signal !== undefined && !(typeof AbortSignal === "function" && signal instanceof AbortSignal)) {
    throw new TypeError("The signal option must be an AbortSignal.");
  }
  return { preventAbort, preventCancel, preventClose, signal };
}

function rsPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
  let reader = rsAcquireReader(source, false, undefined);
  const writer = wsAcquireWriter(dest, undefined);
  source.disturbed = true;
  let shuttingDown = false;
  let currentWrite = Promise.resolve();
  const done = Promise.withResolvers();
  let abortAlgorithm;

  const readRequest = {
    chunk(chunk) {
      currentWrite = wsWriterWrite(writer, chunk).then(undefined, rsNoop);
      stepDone.resolve(false);
    },
    close() { stepDone.resolve(true); },
    error(e) { stepDone.reject(e); },
  };
  let stepDone;
  function pipeStep() {
    if (shuttingDown) return Promise.resolve(true);
    return writer.ready.promise.then(() => {
      if (shuttingDown) return true;
      if (dest.state !== "writable" || wsCloseQueuedOrInFlight(dest)) return true;
      stepDone = Promise.withResolvers();
      rsReaderRead(reader, readRequest);
      return stepDone.promise;
    });
  }
  function pipeLoop() {
    return new Promise((resolveLoop, rejectLoop) => {
      function next(finished) {
        if (finished) resolveLoop();
        else pipeStep().then(next, rejectLoop);
      }
      next(false);
    });
  }
  function waitForWritesToFinish() {
    const old = currentWrite;
    return currentWrite.then(() => (old !== currentWrite ? waitForWritesToFinish() : undefined));
  }
  function finalize(isError, error) {
    wsWriterRelease(writer);
    rsReaderRelease(reader);
    if (signal !== undefined) signal.removeEventListener("abort", abortAlgorithm);
    if (isError) done.reject(error); else done.resolve();
  }
  function shutdownWithAction(action, originalIsError, originalError) {
    if (shuttingDown) return;
    shuttingDown = true;
    rsReaderRelease(reader);
    reader = rsAcquireReader(source, false, undefined);
    const doTheRest = () => {
      let p;
      try { p = action(); } catch (e) { p = Promise.reject(e); }
      rsUpon(p, () => finalize(originalIsError, originalError), (e) => finalize(true, e));
    };
    if (dest.state === "writable" && !wsCloseQueuedOrInFlight(dest)) rsUpon(waitForWritesToFinish(), doTheRest);
    else doTheRest();
  }
  function shutdown(isError, error) {
    if (shuttingDown) return;
    shuttingDown = true;
    rsReaderRelease(reader);
    reader = rsAcquireReader(source, false, undefined);
    if (dest.state === "writable" && !wsCloseQueuedOrInFlight(dest)) {
      rsUpon(waitForWritesToFinish(), () => finalize(isError, error));
    } else {
      finalize(isError, error);
    }
  }

  if (signal !== undefined) {
    abortAlgorithm = () => {
      const error = signal.reason;
      const actions = [];
      if (!preventAbort) actions.push(() => (dest.state === "writable" ? wsAbort(dest, error) : Promise.resolve()));
      if (!preventCancel) actions.push(() => (source.state === "readable" ? rsCancel(source, error) : Promise.resolve()));
      shutdownWithAction(() => Promise.all(actions.map((a) => a())), true, error);
    };
    if (signal.aborted) {
      abortAlgorithm();
      return done.promise;
    }
    signal.addEventListener("abort", abortAlgorithm);
  }

  // Errors must be propagated forward.
  const sourceErrored = (e) => {
    if (!preventAbort) shutdownWithAction(() => wsAbort(dest, e), true, e);
    else shutdown(true, e);
  };
  if (source.state === "errored") sourceErrored(source.storedError);
  else rsUpon(reader.closed.promise, rsNoop, sourceErrored);

  // Errors must be propagated backward.
  const destErrored = (e) => {
    if (!preventCancel) shutdownWithAction(() => rsCancel(source, e), true, e);
    else shutdown(true, e);
  };
  if (dest.state === "errored") destErrored(dest.storedError);
  else rsUpon(writer.closed.promise, rsNoop, destErrored);

  // Closing must be propagated forward.
  const sourceClosed = () => {
    if (!preventClose) shutdownWithAction(() => wsWriterCloseWithErrorPropagation(writer));
    else shutdown();
  };
  if (source.state === "closed") sourceClosed();
  else rsUpon(reader.closed.promise, sourceClosed);

  // Closing must be propagated backward.
  if (wsCloseQueuedOrInFlight(dest) || dest.state === "closed") {
    const destClosed = new TypeError("The destination writable stream closed before all data could be piped to it.");
    if (!preventCancel) shutdownWithAction(() => rsCancel(source, destClosed), true, destClosed);
    else shutdown(true, destClosed);
  }

  rsHandle(pipeLoop());
  return done.promise;
}

// ---- ReadableStream.from ----

function rsFromIterable(iterable) {
  let iterator, nextMethod;
  const asyncMethod = iterable === undefined || iterable === null ? undefined : iterable[Symbol.asyncIterator];
  if (asyncMethod !== undefined && asyncMethod !== null) {
    if (typeof asyncMethod !== "function") throw new TypeError("Symbol.asyncIterator is not a function.");
    iterator = asyncMethod.call(iterable);
    if (typeof iterator !== "object" || iterator === null) throw new TypeError("The async iterator is not an object.");
    nextMethod = iterator.next;
  } else {
    const syncMethod = iterable === undefined || iterable === null ? undefined : iterable[Symbol.iterator];
    if (typeof syncMethod !== "function") throw new TypeError("ReadableStream.from() requires an iterable or async iterable.");
    const sync = syncMethod.call(iterable);
    if (typeof sync !== "object" || sync === null) throw new TypeError("The iterator is not an object.");
    const syncNext = sync.next;
    // CreateAsyncFromSyncIterator, reduced to what the pull and cancel
    // algorithms below observe.
    iterator = {
      next() {
        const res = syncNext.call(sync);
        if (typeof res !== "object" || res === null) throw new TypeError("The iterator result is not an object.");
        const isDone = !!res.done;
        return Promise.resolve(res.value).then((value) => ({ value, done: isDone }));
      },
      return(reason) {
        const ret = sync.return;
        if (ret === undefined || ret === null) return Promise.resolve({ value: reason, done: true });
        const res = ret.call(sync, reason);
        if (typeof res !== "object" || res === null) throw new TypeError("The iterator result is not an object.");
        return Promise.resolve(res.value).then((value) => ({ value, done: true }));
      },
    };
    nextMethod = iterator.next;
  }
  let s;
  const pull = () => {
    let result;
    try { result = nextMethod.call(iterator); } catch (e) { return Promise.reject(e); }
    return Promise.resolve(result).then((res) => {
      if (typeof res !== "object" || res === null) throw new TypeError("The iterator result is not an object.");
      if (res.done) rsDefaultClose(s.controller);
      else rsDefaultEnqueue(s.controller, res.value);
    });
  };
  const cancel = (reason) => {
    let result;
    try {
      const ret = iterator.return;
      if (ret === undefined || ret === null) return Promise.resolve();
      if (typeof ret !== "function") throw new TypeError("The iterator's return is not a function.");
      result = ret.call(iterator, reason);
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve(result).then((res) => {
      if (typeof res !== "object" || res === null) throw new TypeError("The iterator result is not an object.");
    });
  };
  s = rsCreateStream(pull, cancel, 0);
  return s.pub;
}

// ---- async iteration ----

const rsAsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
const rsEndOfIteration = Symbol("end");

class RsAsyncIterator {
  #r;
  #preventCancel;
  #ongoing = null;
  #finished = false;
  constructor(token, r, preventCancel) {
    if (token !== rsToken) throw new TypeError("Illegal constructor");
    this.#r = r;
    this.#preventCancel = preventCancel;
  }
  next() {
    const steps = () => {
      if (this.#finished) return Promise.resolve({ value: undefined, done: true });
      return this.#nextResult().then((v) => {
        this.#ongoing = null;
        if (v === rsEndOfIteration) { this.#finished = true; return { value: undefined, done: true }; }
        return { value: v, done: false };
      }, (e) => {
        this.#ongoing = null;
        this.#finished = true;
        throw e;
      });
    };
    const p = this.#ongoing === null ? steps() : this.#ongoing.then(steps, steps);
    this.#ongoing = p;
    return p;
  }
  return(value) {
    const steps = () => {
      if (this.#finished) return Promise.resolve({ value, done: true });
      this.#finished = true;
      return this.#returnSteps(value);
    };
    const p = this.#ongoing === null ? steps() : this.#ongoing.then(steps, steps);
    this.#ongoing = p;
    return p.then(() => ({ value, done: true }));
  }
  #nextResult() {
    const r = this.#r;
    if (r.stream === undefined) return Promise.reject(new TypeError(RS_RELEASED));
    const d = Promise.withResolvers();
    rsReaderRead(r, {
      chunk: d.resolve,
      close() { rsReaderRelease(r); d.resolve(rsEndOfIteration); },
      error(e) { rsReaderRelease(r); d.reject(e); },
    });
    return d.promise;
  }
  #returnSteps(value) {
    const r = this.#r;
    if (r.stream === undefined) return Promise.resolve();
    if (!this.#preventCancel) {
      const result = rsCancel(r.stream, value);
      rsReaderRelease(r);
      return result;
    }
    rsReaderRelease(r);
    return Promise.resolve();
  }
}
Object.setPrototypeOf(RsAsyncIterator.prototype, rsAsyncIteratorPrototype);
rsBrand(RsAsyncIterator, "ReadableStream Async Iterator");

// ---- public classes ----

class ReadableStream {
  #s;
  constructor(underlyingSource = undefined, strategy = undefined) {
    if (underlyingSource === rsToken) { this.#s = strategy; return; }
    // Web IDL converts the strategy dictionary before the steps read the source.
    const st = rsStrategy(strategy);
    const src = rsDict(underlyingSource, "underlying source");
    const s = { state: "readable", reader: undefined, storedError: undefined, disturbed: false,
      controller: undefined, pub: this, fastBytes: undefined, knownLength: undefined };
    this.#s = s;
    let autoAllocateChunkSize, cancel, pull, start, type;
    if (src !== null) {
      autoAllocateChunkSize = src.autoAllocateChunkSize;
      cancel = rsCallback(src.cancel, "cancel");
      pull = rsCallback(src.pull, "pull");
      start = rsCallback(src.start, "start");
      type = src.type === undefined ? undefined : String(src.type);
    }
    if (type === "bytes") {
      if (st.size !== undefined) throw new RangeError("The strategy for a byte stream cannot have a size function");
      const hwm = rsHighWaterMark(st, 0);
      // workerd always auto-allocates, so default reads see a byobRequest.
      let size = 4096;
      if (autoAllocateChunkSize !== undefined) {
        size = rsEnforceRange(autoAllocateChunkSize, "autoAllocateChunkSize");
        if (size === 0) throw new TypeError("The autoAllocateChunkSize option cannot be zero.");
      }
      const c = rsNewByteController(s, hwm, size);
      c.pullAlg = pull ? () => rsCall1(pull, src, c.pub) : rsResolved;
      c.cancelAlg = cancel ? (r) => rsCall1(cancel, src, r) : rsResolved;
      rsSetupByteController(s, c, start ? () => start.call(src, c.pub) : undefined);
    } else {
      if (type !== undefined && type !== "") throw new TypeError(`"${type}" is not a valid type of ReadableStream.`);
      const size = rsSizeAlgorithm(st);
      const hwm = rsHighWaterMark(st, 1);
      const c = rsNewDefaultController(s, hwm, size);
      c.pullAlg = pull ? () => rsCall1(pull, src, c.pub) : rsResolved;
      c.cancelAlg = cancel ? (r) => rsCall1(cancel, src, r) : rsResolved;
      rsSetupDefaultController(s, c, start ? () => start.call(src, c.pub) : undefined);
    }
  }

  static {
    rsStreamOf = (x) => (typeof x === "object" && x !== null && #s in x ? x.#s : undefined);
  }

  get locked() { return this.#s.reader !== undefined; }

  cancel(reason = undefined) {
    const s = this.#s;
    if (s.reader !== undefined) return Promise.reject(new TypeError(RS_LOCKED));
    return rsCancel(s, reason);
  }

  getReader(options = undefined) {
    const s = this.#s;
    if (s.reader !== undefined) throw new TypeError(RS_LOCKED);
    const d = rsDict(options, "options");
    const mode = d === null ? undefined : d.mode;
    if (mode === undefined) return new ReadableStreamDefaultReader(this);
    if (String(mode) !== "byob") throw new RangeError("mode must be undefined or 'byob' in call to getReader().");
    return new ReadableStreamBYOBReader(this);
  }

  pipeThrough(transform, options = undefined) {
    const s = this.#s;
    const t = rsDict(transform, "transform");
    const readable = t === null ? undefined : t.readable;
    const writable = t === null ? undefined : t.writable;
    if (rsStreamOf(readable) === undefined) throw new TypeError("The transform's readable side must be a ReadableStream.");
    const w = wsStreamOf(writable);
    if (w === undefined) throw new TypeError("The transform's writable side must be a WritableStream.");
    const o = rsPipeOptions(options);
    if (s.reader !== undefined) throw new TypeError(RS_LOCKED);
    if (w.writer !== undefined) throw new TypeError(WS_LOCKED);
    rsHandle(rsPipeTo(s, w, o.preventClose, o.preventAbort, o.preventCancel, o.signal));
    return readable;
  }

  pipeTo(destination, options = undefined) {
    const s = this.#s;
    const w = wsStreamOf(destination);
    if (w === undefined) return Promise.reject(new TypeError("The destination must be a WritableStream."));
    let o;
    try { o = rsPipeOptions(options); } catch (e) { return Promise.reject(e); }
    if (s.reader !== undefined) return Promise.reject(new TypeError(RS_LOCKED));
    if (w.writer !== undefined) return Promise.reject(new TypeError("This WritableStream is currently locked to a writer"));
    return rsPipeTo(s, w, o.preventClose, o.preventAbort, o.preventCancel, o.signal);
  }

  tee() {
    const s = this.#s;
    if (s.reader !== undefined) throw new TypeError(RS_LOCKED);
    const [b1, b2] = rsTee(s);
    return [b1.pub, b2.pub];
  }

  values(options = undefined) {
    const s = this.#s;
    const d = rsDict(options, "options");
    const preventCancel = d === null ? false : !!d.preventCancel;
    return new RsAsyncIterator(rsToken, rsAcquireReader(s, false, undefined), preventCancel);
  }

  static from(asyncIterable) { return rsFromIterable(asyncIterable); }
}
Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, {
  value: ReadableStream.prototype.values, writable: true, configurable: true,
});
rsBrand(ReadableStream, "ReadableStream");

function rsStreamArg(stream) {
  const s = rsStreamOf(stream);
  if (s === undefined) throw new TypeError("The argument must be a ReadableStream.");
  return s;
}

class ReadableStreamDefaultReader {
  #r;
  constructor(stream) {
    this.#r = rsAcquireReader(rsStreamArg(stream), false, this);
  }
  get closed() { return this.#r.closed.promise; }
  read() {
    const r = this.#r;
    if (r.stream === undefined) return Promise.reject(new TypeError(RS_RELEASED));
    const d = Promise.withResolvers();
    rsReaderRead(r, new RsReadRequest(d.resolve, d.reject));
    return d.promise;
  }
  releaseLock() {
    const r = this.#r;
    if (r.stream !== undefined) rsReaderRelease(r);
  }
  cancel(reason = undefined) {
    const r = this.#r;
    if (r.stream === undefined) return Promise.reject(new TypeError(RS_RELEASED));
    return rsCancel(r.stream, reason);
  }
}
rsBrand(ReadableStreamDefaultReader, "ReadableStreamDefaultReader");

class ReadableStreamBYOBReader {
  #r;
  constructor(stream) {
    this.#r = rsAcquireReader(rsStreamArg(stream), true, this);
  }
  get closed() { return this.#r.closed.promise; }
  read(view, options = undefined) {
    const r = this.#r;
    if (!ArrayBuffer.isView(view)) return Promise.reject(new TypeError("The view must be an ArrayBufferView."));
    let min = 1;
    try {
      const d = rsDict(options, "options");
      if (d !== null && d.min !== undefined) min = rsEnforceRange(d.min, "min");
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#read(view, min);
  }
  // workerd extension: read(view) that waits for at least minBytes bytes.
  readAtLeast(minBytes, view) {
    if (!ArrayBuffer.isView(view)) return Promise.reject(new TypeError("The view must be an ArrayBufferView."));
    let min;
    try { min = rsEnforceRange(minBytes, "minBytes"); } catch (e) { return Promise.reject(e); }
    const size = view.BYTES_PER_ELEMENT || 1;
    return this.#read(view, Math.ceil(min / size));
  }
  #read(view, min) {
    const r = this.#r;
    if (r.stream === undefined) return Promise.reject(new TypeError(RS_RELEASED));
    if (view.byteLength === 0 || view.buffer.byteLength === 0) {
      return Promise.reject(new TypeError("You must call read() on a \"byob\" reader with a positive-sized TypedArray object."));
    }
    if (min === 0) return Promise.reject(new TypeError("Requested invalid minimum number of bytes to read (0)."));
    const length = rsTypedArrayName.call(view) === undefined ? view.byteLength : view.length;
    if (min > length) return Promise.reject(new TypeError(`Minimum bytes to read (${min}) exceeds size of buffer (${length}).`));
    const d = Promise.withResolvers();
    rsByobReaderRead(r, view, min, new RsReadRequest(d.resolve, d.reject));
    return d.promise;
  }
  releaseLock() {
    const r = this.#r;
    if (r.stream !== undefined) rsReaderRelease(r);
  }
  cancel(reason = undefined) {
    const r = this.#r;
    if (r.stream === undefined) return Promise.reject(new TypeError(RS_RELEASED));
    return rsCancel(r.stream, reason);
  }
}
rsBrand(ReadableStreamBYOBReader, "ReadableStreamBYOBReader");

class ReadableStreamDefaultController {
  #c;
  constructor(token, c) {
    if (token !== rsToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  get desiredSize() { return rsDefaultDesiredSize(this.#c); }
  close() {
    const c = this.#c;
    if (!rsDefaultCanCloseOrEnqueue(c)) throw new TypeError("This ReadableStream is closed.");
    rsDefaultClose(c);
  }
  enqueue(chunk = undefined) {
    const c = this.#c;
    if (!rsDefaultCanCloseOrEnqueue(c)) throw new TypeError("Unable to enqueue");
    rsDefaultEnqueue(c, chunk);
  }
  error(e = undefined) { rsDefaultError(this.#c, e); }
}
rsBrand(ReadableStreamDefaultController, "ReadableStreamDefaultController");

class ReadableByteStreamController {
  #c;
  constructor(token, c) {
    if (token !== rsToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  get byobRequest() { return rsByteGetBYOBRequest(this.#c); }
  get desiredSize() { return rsDefaultDesiredSize(this.#c); }
  close() {
    const c = this.#c;
    if (c.closeRequested || c.stream.state !== "readable") throw new TypeError("This ReadableStream is closed.");
    rsByteClose(c);
  }
  enqueue(chunk) {
    const c = this.#c;
    let view = chunk;
    if (chunk instanceof ArrayBuffer) view = new Uint8Array(chunk);
    else if (!ArrayBuffer.isView(chunk)) throw new TypeError("The chunk must be an ArrayBuffer or ArrayBufferView.");
    if (view.byteLength === 0) throw new TypeError("Cannot enqueue a zero-length ArrayBuffer.");
    if (c.closeRequested || c.stream.state !== "readable") throw new TypeError("This ReadableByteStreamController is closed.");
    rsByteEnqueue(c, view);
  }
  error(e = undefined) { rsByteError(this.#c, e); }
}
rsBrand(ReadableByteStreamController, "ReadableByteStreamController");

class ReadableStreamBYOBRequest {
  #q;
  constructor(token, q) {
    if (token !== rsToken) throw new TypeError("Illegal constructor");
    this.#q = q;
  }
  get view() { return this.#q.view; }
  respond(bytesWritten) {
    const q = this.#q;
    const n = rsEnforceRange(bytesWritten, "bytesWritten");
    if (q.controller === undefined) throw new TypeError("This ReadableStreamBYOBRequest has been invalidated.");
    if (q.view.buffer.detached) throw new TypeError("Cannot respond with a zero-length or detached view");
    rsByteRespond(q.controller, n);
  }
  respondWithNewView(view) {
    const q = this.#q;
    if (!ArrayBuffer.isView(view)) throw new TypeError("The view must be an ArrayBufferView.");
    if (q.controller === undefined) throw new TypeError("This ReadableStreamBYOBRequest has been invalidated.");
    if (view.buffer.detached) throw new TypeError("Cannot respond with a detached view");
    rsByteRespondWithNewView(q.controller, view);
  }
}
rsBrand(ReadableStreamBYOBRequest, "ReadableStreamBYOBRequest");

// =====================================================================
// WritableStream
// =====================================================================

let wsStreamOf; // (x) => writable record or undefined
const wsCloseSentinel = {};

function wsNewRecord(pub) {
  return { state: "writable", storedError: undefined, writer: undefined, controller: undefined,
    inFlightWriteRequest: undefined, closeRequest: undefined, inFlightCloseRequest: undefined,
    pendingAbortRequest: undefined, writeRequests: [], backpressure: false, pub };
}

function wsNewController(w, hwm, size) {
  const c = { stream: w, queue: new RsQueue(), queueTotalSize: 0, started: false, size, hwm,
    writeAlg: undefined, closeAlg: undefined, abortAlg: undefined,
    abortController: undefined, aborted: false, abortReason: undefined, onAbort: undefined, pub: undefined };
  c.pub = new WritableStreamDefaultController(rsToken, c);
  return c;
}

function wsSetupController(w, c, startFn) {
  w.controller = c;
  wsUpdateBackpressure(w, wsGetBackpressure(c));
  const startResult = startFn === undefined ? undefined : startFn();
  rsUpon(Promise.resolve(startResult), () => {
    c.started = true;
    wsAdvanceQueueIfNeeded(c);
  }, (e) => {
    c.started = true;
    wsDealWithRejection(w, e);
  });
}

// CreateWritableStream: a stream driven by internal algorithms.
function wsCreate(startFn, writeAlg, closeAlg, abortAlg, hwm = 1, size = rsCountSize) {
  const w = wsNewRecord(undefined);
  w.pub = new WritableStream(rsToken, w);
  const c = wsNewController(w, hwm, size);
  c.writeAlg = writeAlg;
  c.closeAlg = closeAlg;
  c.abortAlg = abortAlg;
  wsSetupController(w, c, startFn);
  return w;
}

function wsCloseQueuedOrInFlight(w) { return w.closeRequest !== undefined || w.inFlightCloseRequest !== undefined; }

function wsSignalAbort(c, reason) {
  if (c.aborted) return;
  c.aborted = true;
  c.abortReason = reason;
  if (c.abortController !== undefined) c.abortController.abort(reason);
  if (c.onAbort !== undefined) c.onAbort(reason);
}

function wsAbort(w, reason) {
  if (w.state === "closed" || w.state === "errored") return Promise.resolve();
  wsSignalAbort(w.controller, reason);
  const state = w.state;
  if (state === "closed" || state === "errored") return Promise.resolve();
  if (w.pendingAbortRequest !== undefined) return w.pendingAbortRequest.d.promise;
  let wasAlreadyErroring = false;
  if (state === "erroring") { wasAlreadyErroring = true; reason = undefined; }
  const d = Promise.withResolvers();
  w.pendingAbortRequest = { d, reason, wasAlreadyErroring };
  if (!wasAlreadyErroring) wsStartErroring(w, reason);
  return d.promise;
}

function wsClose(w) {
  const state = w.state;
  if (state === "closed" || state === "errored") return Promise.reject(new TypeError(WS_CLOSED));
  const d = Promise.withResolvers();
  w.closeRequest = d;
  const wr = w.writer;
  if (wr !== undefined && w.backpressure && state === "writable") wr.ready.resolve();
  const c = w.controller;
  c.queue.push({ value: wsCloseSentinel, size: 0 });
  wsAdvanceQueueIfNeeded(c);
  return d.promise;
}

function wsDealWithRejection(w, e) {
  if (w.state === "writable") wsStartErroring(w, e);
  else wsFinishErroring(w);
}

function wsStartErroring(w, reason) {
  const c = w.controller;
  w.state = "erroring";
  w.storedError = reason;
  if (w.writer !== undefined) wsWriterEnsureReadyRejected(w.writer, reason);
  if (w.inFlightWriteRequest === undefined && w.inFlightCloseRequest === undefined && c.started) wsFinishErroring(w);
}

function wsFinishErroring(w) {
  w.state = "errored";
  const c = w.controller;
  c.queue.clear();
  c.queueTotalSize = 0;
  const e = w.storedError;
  const reqs = w.writeRequests;
  w.writeRequests = [];
  for (const d of reqs) d.reject(e);
  const ar = w.pendingAbortRequest;
  if (ar === undefined) { wsRejectCloseAndClosed(w); return; }
  w.pendingAbortRequest = undefined;
  if (ar.wasAlreadyErroring) { ar.d.reject(e); wsRejectCloseAndClosed(w); return; }
  const p = c.abortAlg === undefined ? Promise.resolve() : c.abortAlg(ar.reason);
  wsClearAlgorithms(c);
  rsUpon(p, () => { ar.d.resolve(); wsRejectCloseAndClosed(w); },
    (r) => { ar.d.reject(r); wsRejectCloseAndClosed(w); });
}

function wsRejectCloseAndClosed(w) {
  if (w.closeRequest !== undefined) {
    w.closeRequest.reject(w.storedError);
    w.closeRequest = undefined;
  }
  const wr = w.writer;
  if (wr !== undefined) {
    wr.closed.reject(w.storedError);
    rsHandle(wr.closed.promise);
  }
}

function wsFinishInFlightClose(w) {
  w.inFlightCloseRequest.resolve();
  w.inFlightCloseRequest = undefined;
  if (w.state === "erroring") {
    w.storedError = undefined;
    if (w.pendingAbortRequest !== undefined) {
      w.pendingAbortRequest.d.resolve();
      w.pendingAbortRequest = undefined;
    }
  }
  w.state = "closed";
  if (w.writer !== undefined) w.writer.closed.resolve();
}

function wsFinishInFlightCloseWithError(w, e) {
  w.inFlightCloseRequest.reject(e);
  w.inFlightCloseRequest = undefined;
  if (w.pendingAbortRequest !== undefined) {
    w.pendingAbortRequest.d.reject(e);
    w.pendingAbortRequest = undefined;
  }
  wsDealWithRejection(w, e);
}

function wsUpdateBackpressure(w, bp) {
  const wr = w.writer;
  if (wr !== undefined && bp !== w.backpressure) {
    if (bp) wr.ready = new RsDeferred();
    else wr.ready.resolve();
  }
  w.backpressure = bp;
}

function wsGetBackpressure(c) { return c.hwm - c.queueTotalSize <= 0; }
function wsClearAlgorithms(c) { c.writeAlg = c.closeAlg = c.abortAlg = c.size = undefined; }

function wsControllerError(c, e) {
  wsClearAlgorithms(c);
  wsStartErroring(c.stream, e);
}
function wsErrorIfNeeded(c, e) {
  if (c.stream.state === "writable") wsControllerError(c, e);
}

function wsAdvanceQueueIfNeeded(c) {
  const w = c.stream;
  if (!c.started || w.inFlightWriteRequest !== undefined) return;
  if (w.state === "erroring") { wsFinishErroring(w); return; }
  if (c.queue.length === 0) return;
  const value = c.queue.peek().value;
  if (value === wsCloseSentinel) {
    w.inFlightCloseRequest = w.closeRequest;
    w.closeRequest = undefined;
    c.queue.shift();
    const p = c.closeAlg();
    wsClearAlgorithms(c);
    rsUpon(p, () => wsFinishInFlightClose(w), (e) => wsFinishInFlightCloseWithError(w, e));
  } else {
    w.inFlightWriteRequest = w.writeRequests.shift();
    rsUpon(c.writeAlg(value), () => {
      w.inFlightWriteRequest.resolve();
      w.inFlightWriteRequest = undefined;
      const state = w.state;
      if (c.queue.length > 0) {
        const rec = c.queue.shift();
        c.queueTotalSize -= rec.size;
        if (c.queueTotalSize < 0) c.queueTotalSize = 0;
      }
      if (!wsCloseQueuedOrInFlight(w) && state === "writable") wsUpdateBackpressure(w, wsGetBackpressure(c));
      wsAdvanceQueueIfNeeded(c);
    }, (e) => {
      if (w.state === "writable") wsClearAlgorithms(c);
      w.inFlightWriteRequest.reject(e);
      w.inFlightWriteRequest = undefined;
      wsDealWithRejection(w, e);
    });
  }
}

// ---- writers ----

function wsAcquireWriter(w, pub) {
  if (w.writer !== undefined) throw new TypeError(WS_LOCKED);
  const wr = { stream: w, ready: undefined, closed: undefined, pub };
  w.writer = wr;
  const state = w.state;
  if (state === "writable") {
    wr.ready = !wsCloseQueuedOrInFlight(w) && w.backpressure ? new RsDeferred() : rsDeferredResolved();
    wr.closed = new RsDeferred();
  } else if (state === "erroring") {
    wr.ready = rsDeferredRejected(w.storedError);
    wr.closed = new RsDeferred();
  } else if (state === "closed") {
    wr.ready = rsDeferredResolved();
    wr.closed = rsDeferredResolved();
  } else {
    wr.ready = rsDeferredRejected(w.storedError);
    wr.closed = rsDeferredRejected(w.storedError);
  }
  return wr;
}

function wsWriterEnsureReadyRejected(wr, e) {
  if (wr.ready.pending) wr.ready.reject(e);
  else wr.ready = rsDeferredRejected(e);
  rsHandle(wr.ready.promise);
}

function wsWriterEnsureClosedRejected(wr, e) {
  if (wr.closed.pending) wr.closed.reject(e);
  else wr.closed = rsDeferredRejected(e);
  rsHandle(wr.closed.promise);
}

function wsWriterRelease(wr) {
  const w = wr.stream;
  const e = new TypeError(WS_RELEASED);
  wsWriterEnsureReadyRejected(wr, e);
  wsWriterEnsureClosedRejected(wr, e);
  w.writer = undefined;
  wr.stream = undefined;
}

function wsWriterDesiredSize(wr) {
  const w = wr.stream;
  const state = w.state;
  if (state === "errored" || state === "erroring") return null;
  if (state === "closed") return 0;
  return w.controller.hwm - w.controller.queueTotalSize;
}

function wsWriterCloseWithErrorPropagation(wr) {
  const w = wr.stream;
  const state = w.state;
  if (wsCloseQueuedOrInFlight(w) || state === "closed") return Promise.resolve();
  if (state === "errored") return Promise.reject(w.storedError);
  return wsClose(w);
}

function wsWriterWrite(wr, chunk) {
  const w = wr.stream;
  const c = w.controller;
  let size = 1;
  if (c.size === undefined) {
    size = 1;
  } else if (c.size !== rsCountSize) {
    try { size = c.size(chunk); } catch (e) { wsErrorIfNeeded(c, e); size = 1; }
  }
  if (w !== wr.stream) return Promise.reject(new TypeError(WS_RELEASED));
  const state = w.state;
  if (state === "errored") return Promise.reject(w.storedError);
  if (wsCloseQueuedOrInFlight(w) || state === "closed") return Promise.reject(new TypeError(WS_CLOSED));
  if (state === "erroring") return Promise.reject(w.storedError);
  const d = Promise.withResolvers();
  w.writeRequests.push(d);
  if (rsBadSize(size)) {
    wsErrorIfNeeded(c, rsSizeError());
    return d.promise;
  }
  c.queue.push({ value: chunk, size });
  c.queueTotalSize += size;
  if (!wsCloseQueuedOrInFlight(w) && w.state === "writable") wsUpdateBackpressure(w, wsGetBackpressure(c));
  wsAdvanceQueueIfNeeded(c);
  return d.promise;
}

class WritableStream {
  #w;
  constructor(underlyingSink = undefined, strategy = undefined) {
    if (underlyingSink === rsToken) { this.#w = strategy; return; }
    const st = rsStrategy(strategy);
    const sink = rsDict(underlyingSink, "underlying sink");
    let abort, close, start, type, write;
    if (sink !== null) {
      abort = rsCallback(sink.abort, "abort");
      close = rsCallback(sink.close, "close");
      start = rsCallback(sink.start, "start");
      type = sink.type;
      write = rsCallback(sink.write, "write");
    }
    if (type !== undefined) throw new RangeError("Invalid type is specified");
    const w = wsNewRecord(this);
    this.#w = w;
    const size = rsSizeAlgorithm(st);
    const hwm = rsHighWaterMark(st, 1);
    const c = wsNewController(w, hwm, size);
    c.writeAlg = write ? (chunk) => rsCall2(write, sink, chunk, c.pub) : rsResolved;
    c.closeAlg = close ? () => rsCall1(close, sink) : rsResolved;
    c.abortAlg = abort ? (r) => rsCall1(abort, sink, r) : rsResolved;
    wsSetupController(w, c, start ? () => start.call(sink, c.pub) : undefined);
  }

  static {
    wsStreamOf = (x) => (typeof x === "object" && x !== null && #w in x ? x.#w : undefined);
  }

  get locked() { return this.#w.writer !== undefined; }

  abort(reason = undefined) {
    const w = this.#w;
    if (w.writer !== undefined) return Promise.reject(new TypeError(WS_LOCKED));
    return wsAbort(w, reason);
  }

  close() {
    const w = this.#w;
    if (w.writer !== undefined) return Promise.reject(new TypeError(WS_LOCKED));
    if (wsCloseQueuedOrInFlight(w)) return Promise.reject(new TypeError("Cannot close a writer that is already being closed"));
    return wsClose(w);
  }

  getWriter() { return new WritableStreamDefaultWriter(this); }
}
rsBrand(WritableStream, "WritableStream");

class WritableStreamDefaultWriter {
  #wr;
  constructor(stream) {
    const w = wsStreamOf(stream);
    if (w === undefined) throw new TypeError("The argument must be a WritableStream.");
    this.#wr = wsAcquireWriter(w, this);
  }
  get closed() { return this.#wr.closed.promise; }
  get ready() { return this.#wr.ready.promise; }
  get desiredSize() {
    const wr = this.#wr;
    if (wr.stream === undefined) throw new TypeError(WS_RELEASED);
    return wsWriterDesiredSize(wr);
  }
  abort(reason = undefined) {
    const wr = this.#wr;
    if (wr.stream === undefined) return Promise.reject(new TypeError(WS_RELEASED));
    return wsAbort(wr.stream, reason);
  }
  close() {
    const wr = this.#wr;
    const w = wr.stream;
    if (w === undefined) return Promise.reject(new TypeError(WS_RELEASED));
    if (wsCloseQueuedOrInFlight(w)) return Promise.reject(new TypeError("Cannot close a writer that is already being closed"));
    return wsClose(w);
  }
  releaseLock() {
    const wr = this.#wr;
    if (wr.stream !== undefined) wsWriterRelease(wr);
  }
  write(chunk = undefined) {
    const wr = this.#wr;
    if (wr.stream === undefined) return Promise.reject(new TypeError(WS_RELEASED));
    return wsWriterWrite(wr, chunk);
  }
}
rsBrand(WritableStreamDefaultWriter, "WritableStreamDefaultWriter");

class WritableStreamDefaultController {
  #c;
  constructor(token, c) {
    if (token !== rsToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  // Created on first use: most sinks never look at it.
  get signal() {
    const c = this.#c;
    if (c.abortController === undefined) {
      c.abortController = new AbortController();
      if (c.aborted) c.abortController.abort(c.abortReason);
    }
    return c.abortController.signal;
  }
  error(e = undefined) {
    const c = this.#c;
    if (c.stream.state !== "writable") return;
    wsControllerError(c, e);
  }
}
rsBrand(WritableStreamDefaultController, "WritableStreamDefaultController");

// =====================================================================
// TransformStream
// =====================================================================

function tsInitialize(startPromise, wHwm, wSize, rHwm, rSize) {
  const t = { readable: undefined, writable: undefined, backpressure: undefined, backpressureChange: undefined, controller: undefined };
  const startFn = () => startPromise;
  t.writable = wsCreate(startFn, (chunk) => tsSinkWrite(t, chunk), () => tsSinkClose(t), (r) => tsSinkAbort(t, r), wHwm, wSize);
  t.readable = rsCreateStream(() => tsSourcePull(t), (r) => tsSourceCancel(t, r), rHwm, rSize, startFn);
  tsSetBackpressure(t, true);
  return t;
}

function tsSetBackpressure(t, bp) {
  if (t.backpressureChange !== undefined) t.backpressureChange.resolve();
  t.backpressureChange = new RsDeferred();
  t.backpressure = bp;
}

function tsClearAlgorithms(c) { c.transformAlg = c.flushAlg = c.cancelAlg = undefined; }

function tsError(t, e) {
  rsDefaultError(t.readable.controller, e);
  tsErrorWritableAndUnblockWrite(t, e);
}

function tsErrorWritableAndUnblockWrite(t, e) {
  tsClearAlgorithms(t.controller);
  wsErrorIfNeeded(t.writable.controller, e);
  tsUnblockWrite(t);
}

function tsUnblockWrite(t) {
  if (t.backpressure) tsSetBackpressure(t, false);
}

function tsControllerEnqueue(c, chunk) {
  const t = c.stream;
  const rc = t.readable.controller;
  if (!rsDefaultCanCloseOrEnqueue(rc)) throw new TypeError("The readable side of this TransformStream is closed.");
  try {
    rsDefaultEnqueue(rc, chunk);
  } catch (e) {
    tsErrorWritableAndUnblockWrite(t, e);
    throw t.readable.storedError;
  }
  const backpressure = !rsDefaultShouldCallPull(rc);
  if (backpressure !== t.backpressure) tsSetBackpressure(t, true);
}

function tsTerminate(c) {
  const t = c.stream;
  rsDefaultClose(t.readable.controller);
  tsErrorWritableAndUnblockWrite(t, new TypeError("The TransformStream has been terminated."));
}

function tsPerformTransform(c, chunk) {
  return c.transformAlg(chunk).then(undefined, (e) => {
    tsError(c.stream, e);
    throw e;
  });
}

function tsSinkWrite(t, chunk) {
  const c = t.controller;
  if (t.backpressure) {
    return t.backpressureChange.promise.then(() => {
      const w = t.writable;
      if (w.state === "erroring") throw w.storedError;
      return tsPerformTransform(c, chunk);
    });
  }
  return tsPerformTransform(c, chunk);
}

function tsSinkAbort(t, reason) {
  const c = t.controller;
  if (c.finish !== undefined) return c.finish.promise;
  const rs = t.readable;
  c.finish = new RsDeferred();
  const p = c.cancelAlg === undefined ? Promise.resolve() : c.cancelAlg(reason);
  tsClearAlgorithms(c);
  rsUpon(p, () => {
    if (rs.state === "errored") c.finish.reject(rs.storedError);
    else { rsDefaultError(rs.controller, reason); c.finish.resolve(); }
  }, (e) => {
    rsDefaultError(rs.controller, e);
    c.finish.reject(e);
  });
  return c.finish.promise;
}

function tsSinkClose(t) {
  const c = t.controller;
  if (c.finish !== undefined) return c.finish.promise;
  const rs = t.readable;
  c.finish = new RsDeferred();
  const p = c.flushAlg === undefined ? Promise.resolve() : c.flushAlg();
  tsClearAlgorithms(c);
  rsUpon(p, () => {
    if (rs.state === "errored") c.finish.reject(rs.storedError);
    else { rsDefaultClose(rs.controller); c.finish.resolve(); }
  }, (e) => {
    rsDefaultError(rs.controller, e);
    c.finish.reject(e);
  });
  return c.finish.promise;
}

function tsSourcePull(t) {
  tsSetBackpressure(t, false);
  return t.backpressureChange.promise;
}

function tsSourceCancel(t, reason) {
  const c = t.controller;
  if (c.finish !== undefined) return c.finish.promise;
  const w = t.writable;
  c.finish = new RsDeferred();
  const p = c.cancelAlg === undefined ? Promise.resolve() : c.cancelAlg(reason);
  tsClearAlgorithms(c);
  rsUpon(p, () => {
    if (w.state === "errored") c.finish.reject(w.storedError);
    else { wsErrorIfNeeded(w.controller, reason); tsUnblockWrite(t); c.finish.resolve(); }
  }, (e) => {
    wsErrorIfNeeded(w.controller, e);
    tsUnblockWrite(t);
    c.finish.reject(e);
  });
  return c.finish.promise;
}

class TransformStream {
  #t;
  constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
    // Subclasses with their own plumbing pass {readable, writable} records.
    if (transformer === rsToken) { this.#t = writableStrategy; return; }
    const wst = rsStrategy(writableStrategy);
    const rst = rsStrategy(readableStrategy);
    const tr = rsDict(transformer, "transformer");
    let cancel, flush, readableType, start, transform, writableType;
    if (tr !== null) {
      cancel = rsCallback(tr.cancel, "cancel");
      flush = rsCallback(tr.flush, "flush");
      readableType = tr.readableType;
      start = rsCallback(tr.start, "start");
      transform = rsCallback(tr.transform, "transform");
      writableType = tr.writableType;
    }
    if (readableType !== undefined) throw new RangeError("Invalid readableType specified");
    if (writableType !== undefined) throw new RangeError("Invalid writableType specified");
    const rHwm = rsHighWaterMark(rst, 0);
    const rSize = rsSizeAlgorithm(rst);
    const wHwm = rsHighWaterMark(wst, 1);
    const wSize = rsSizeAlgorithm(wst);
    const started = new RsDeferred();
    const t = tsInitialize(started.promise, wHwm, wSize, rHwm, rSize);
    this.#t = t;
    const c = { stream: t, transformAlg: undefined, flushAlg: undefined, cancelAlg: undefined, finish: undefined, pub: undefined };
    c.pub = new TransformStreamDefaultController(rsToken, c);
    c.transformAlg = transform ? (chunk) => rsCall2(transform, tr, chunk, c.pub) : (chunk) => {
      try { tsControllerEnqueue(c, chunk); } catch (e) { return Promise.reject(e); }
      return Promise.resolve();
    };
    c.flushAlg = flush ? () => rsCall1(flush, tr, c.pub) : rsResolved;
    c.cancelAlg = cancel ? (r) => rsCall1(cancel, tr, r) : rsResolved;
    t.controller = c;
    if (start) started.resolve(start.call(tr, c.pub));
    else started.resolve();
  }
  get readable() { return this.#t.readable.pub; }
  get writable() { return this.#t.writable.pub; }
}
rsBrand(TransformStream, "TransformStream");

class TransformStreamDefaultController {
  #c;
  constructor(token, c) {
    if (token !== rsToken) throw new TypeError("Illegal constructor");
    this.#c = c;
  }
  get desiredSize() { return rsDefaultDesiredSize(this.#c.stream.readable.controller); }
  enqueue(chunk = undefined) { tsControllerEnqueue(this.#c, chunk); }
  error(reason = undefined) { tsError(this.#c.stream, reason); }
  terminate() { tsTerminate(this.#c); }
}
rsBrand(TransformStreamDefaultController, "TransformStreamDefaultController");

// =====================================================================
// Queuing strategies
// =====================================================================

const rsByteLengthSize = setName(function (chunk) { return chunk.byteLength; }, "size");
const rsCountSizePublic = setName(function () { return 1; }, "size");

function rsStrategyInit(init, name) {
  if (typeof init !== "object" || init === null) throw new TypeError(`Failed to construct '${name}': the init argument must be an object.`);
  const h = init.highWaterMark;
  if (h === undefined) throw new TypeError(`Failed to construct '${name}': highWaterMark is required.`);
  return Number(h);
}

class ByteLengthQueuingStrategy {
  #hwm;
  constructor(init) { this.#hwm = rsStrategyInit(init, "ByteLengthQueuingStrategy"); }
  get highWaterMark() { return this.#hwm; }
  get size() { return rsByteLengthSize; }
}
rsBrand(ByteLengthQueuingStrategy, "ByteLengthQueuingStrategy");

class CountQueuingStrategy {
  #hwm;
  constructor(init) { this.#hwm = rsStrategyInit(init, "CountQueuingStrategy"); }
  get highWaterMark() { return this.#hwm; }
  get size() { return rsCountSizePublic; }
}
rsBrand(CountQueuingStrategy, "CountQueuingStrategy");

// =====================================================================
// Encoding streams
// =====================================================================

const rsReplacementBytes = new Uint8Array([0xef, 0xbf, 0xbd]);

class TextEncoderStream extends TransformStream {
  constructor() {
    const encoder = new TextEncoder();
    // A high surrogate ending one chunk may pair with the next chunk's start.
    let pending = "";
    super({
      transform(chunk, controller) {
        if (typeof chunk === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
        let s = pending + String(chunk);
        pending = "";
        if (s.length > 0) {
          const last = s.charCodeAt(s.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) { pending = s.slice(-1); s = s.slice(0, -1); }
        }
        if (s.length > 0) controller.enqueue(encoder.encode(s));
      },
      flush(controller) {
        if (pending !== "") controller.enqueue(rsReplacementBytes.slice());
      },
    });
  }
  get encoding() { return "utf-8"; }
}
rsBrand(TextEncoderStream, "TextEncoderStream");

class TextDecoderStream extends TransformStream {
  #decoder;
  constructor(label = "utf-8", options = undefined) {
    const decoder = new TextDecoder(label, options);
    super({
      transform(chunk, controller) {
        if (!(chunk instanceof ArrayBuffer) && !ArrayBuffer.isView(chunk)) {
          throw new TypeError("This TransformStream is being used as a byte stream, but received a value that is not a BufferSource.");
        }
        const s = decoder.decode(chunk, { stream: true });
        if (s !== "") controller.enqueue(s);
      },
      flush(controller) {
        const s = decoder.decode();
        if (s !== "") controller.enqueue(s);
      },
    });
    this.#decoder = decoder;
  }
  get encoding() { return this.#decoder.encoding; }
  get fatal() { return this.#decoder.fatal; }
  get ignoreBOM() { return this.#decoder.ignoreBOM; }
}
rsBrand(TextDecoderStream, "TextDecoderStream");

// =====================================================================
// workerd's IdentityTransformStream and FixedLengthStream
// =====================================================================

// A byte pipe with no buffer of its own: a write settles once readers have
// taken all of its bytes, as in workerd. `limit` makes it a FixedLengthStream.
function rsIdentityPair(strategy, limit) {
  let hwm;
  const st = rsDict(strategy, "queuing strategy");
  if (st !== null && st.highWaterMark !== undefined) hwm = rsEnforceRange(st.highWaterMark, "highWaterMark");
  if (limit !== undefined && hwm !== undefined && hwm > limit) hwm = limit;
  // With no room at all, writer.ready would never resolve.
  if (hwm !== undefined && hwm < 1) hwm = 1;
  let pending = null; // { bytes, off, resolve, reject }
  let seen = 0;
  let rs, ws;

  function deliver() {
    if (pending === null || rs.state !== "readable") return;
    const c = rs.controller;
    const r = rs.reader;
    if (c.pendingPullIntos.length === 0 && (r === undefined || r.requests.length === 0)) return;
    const p = pending;
    const left = p.bytes.byteLength - p.off;
    const req = rsByteGetBYOBRequest(c);
    if (req !== null) {
      const view = c.byobRequest.view;
      const n = Math.min(left, view.byteLength);
      view.set(p.bytes.subarray(p.off, p.off + n));
      p.off += n;
      rsByteRespond(c, n);
    } else {
      // The reader gets its own copy: enqueue detaches, and the writer's
      // buffer is the writer's.
      rsByteEnqueue(c, p.bytes.slice(p.off));
      p.off = p.bytes.byteLength;
    }
    if (p.off === p.bytes.byteLength) {
      pending = null;
      p.resolve();
    }
  }

  function fail(e) {
    if (pending !== null) { const p = pending; pending = null; p.reject(e); }
  }

  const write = (chunk) => {
    let bytes;
    if (chunk instanceof ArrayBuffer) bytes = new Uint8Array(chunk);
    else if (ArrayBuffer.isView(chunk)) bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else {
      return Promise.reject(new TypeError(typeof chunk === "string"
        ? "This TransformStream is being used as a byte stream, but received a string on its writable side. If you wish to write a string, you'll probably want to explicitly UTF-8-encode it with TextEncoder."
        : "This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side."));
    }
    if (limit !== undefined) {
      seen += bytes.byteLength;
      if (seen > limit) {
        const e = new TypeError("Attempt to write too many bytes through a FixedLengthStream.");
        rsByteError(rs.controller, e);
        return Promise.reject(e);
      }
    }
    if (bytes.byteLength === 0) return Promise.resolve();
    const d = Promise.withResolvers();
    pending = { bytes, off: 0, resolve: d.resolve, reject: d.reject };
    deliver();
    return d.promise;
  };
  const close = () => {
    if (limit !== undefined && seen < limit) {
      const e = new TypeError("FixedLengthStream did not see all expected bytes before close().");
      rsByteError(rs.controller, e);
      return Promise.reject(e);
    }
    if (rs.state === "readable") rsByteCloseAndFlush(rs.controller);
    return Promise.resolve();
  };
  const abort = (reason) => {
    rsByteError(rs.controller, reason);
    return Promise.resolve();
  };
  rs = rsCreateByteStream(() => { deliver(); return Promise.resolve(); }, (reason) => {
    wsErrorIfNeeded(ws.controller, reason);
    fail(reason);
    return Promise.resolve();
  });
  rs.knownLength = limit;
  ws = wsCreate(undefined, write, close, abort, hwm === undefined ? 1 : hwm, hwm === undefined ? rsCountSize : rsByteLengthSize);
  // An abort must not wait for a write that only a reader could finish.
  ws.controller.onAbort = (reason) => { rsByteError(rs.controller, reason); fail(reason); };
  return { readable: rs, writable: ws };
}

class IdentityTransformStream extends TransformStream {
  constructor(strategy = undefined, fixed = undefined) {
    // FixedLengthStream passes (rsToken, {length, strategy}).
    const internal = strategy === rsToken;
    super(rsToken, rsIdentityPair(internal ? fixed.strategy : strategy, internal ? fixed.length : undefined));
  }
}
rsBrand(IdentityTransformStream, "IdentityTransformStream");

class FixedLengthStream extends IdentityTransformStream {
  constructor(expectedLength, strategy = undefined) {
    const n = typeof expectedLength === "bigint" ? Number(expectedLength) : Math.trunc(Number(expectedLength));
    if (expectedLength === undefined || Number.isNaN(n) || n < 0) {
      throw new TypeError("FixedLengthStream requires a non-negative integer expected length.");
    }
    if (n > Number.MAX_SAFE_INTEGER) throw new TypeError("FixedLengthStream requires an integer expected length less than 2^53.");
    super(rsToken, { length: n, strategy });
  }
}
rsBrand(FixedLengthStream, "FixedLengthStream");

// =====================================================================
// Helpers for other prelude files
// =====================================================================

function isReadableStream(x) { return rsStreamOf(x) !== undefined; }

function streamDisturbed(stream) { return rsStreamArg(stream).disturbed; }

// The byte count a stream is known to produce (FixedLengthStream, bodies
// built from bytes), or undefined.
function rsKnownLength(stream) {
  const s = rsStreamArg(stream);
  return s.state === "readable" && !s.disturbed ? s.knownLength : undefined;
}

// A byte stream over bytes that nobody mutates (a Blob's, a body's).
// readAllBytes copies them without running the stream machinery.
function rsFromBytes(bytes) {
  let off = 0;
  const s = rsCreateByteStream(() => {
    s.fastBytes = undefined;
    const c = s.controller;
    if (off < bytes.byteLength) {
      const req = rsByteGetBYOBRequest(c);
      if (req !== null) {
        const view = c.byobRequest.view;
        const n = Math.min(view.byteLength, bytes.byteLength - off);
        view.set(bytes.subarray(off, off + n));
        off += n;
        rsByteRespond(c, n);
      } else {
        rsByteEnqueue(c, bytes.slice(off));
        off = bytes.byteLength;
      }
    }
    if (off >= bytes.byteLength) rsByteCloseAndFlush(c);
    return Promise.resolve();
  }, () => {
    s.fastBytes = undefined;
    bytes = new Uint8Array(0);
    return Promise.resolve();
  });
  s.knownLength = bytes.byteLength;
  if (bytes.byteLength === 0) rsByteClose(s.controller);
  else s.fastBytes = bytes;
  return s.pub;
}

function rsConcat(chunks, total) {
  if (chunks.length === 1 && chunks[0].byteLength === total) return chunks[0].slice();
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { out.set(c, off); off += c.byteLength; }
  return out;
}

// Reads a whole stream of byte chunks into one fresh Uint8Array. Like a
// fetch body read, it leaves the stream locked and disturbed.
function readAllBytes(stream) {
  const s = rsStreamOf(stream);
  if (s === undefined) return Promise.reject(new TypeError("The argument must be a ReadableStream."));
  if (s.reader !== undefined) return Promise.reject(new TypeError(RS_LOCKED));
  if (s.fastBytes !== undefined && !s.disturbed && s.state === "readable" && s.controller.queueTotalSize === 0) {
    const out = s.fastBytes.slice();
    s.fastBytes = undefined;
    rsAcquireReader(s, false, undefined);
    s.disturbed = true;
    rsByteClose(s.controller);
    return Promise.resolve(out);
  }
  const r = rsAcquireReader(s, false, undefined);
  const chunks = [];
  let total = 0;
  return new Promise((resolve, reject) => {
    let sync = false, again = false;
    const req = {
      chunk(v) {
        let u8;
        if (v instanceof Uint8Array) u8 = v;
        else if (ArrayBuffer.isView(v)) u8 = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        else if (v instanceof ArrayBuffer) u8 = new Uint8Array(v);
        else {
          const e = new TypeError("This ReadableStream did not return bytes.");
          rsHandle(rsCancel(s, e));
          reject(e);
          return;
        }
        if (u8.byteLength > 0) { chunks.push(u8); total += u8.byteLength; }
        // Chunks already queued arrive synchronously and are taken in a
        // loop; one that arrives later restarts the loop a microtask on.
        if (sync) again = true;
        else Promise.resolve().then(pump);
      },
      close() { resolve(rsConcat(chunks, total)); },
      error: reject,
    };
    function pump() {
      do {
        again = false;
        sync = true;
        rsReaderRead(r, req);
        sync = false;
      } while (again);
    }
    pump();
  });
}

defineGlobal("ReadableStream", ReadableStream);
defineGlobal("ReadableStreamDefaultReader", ReadableStreamDefaultReader);
defineGlobal("ReadableStreamBYOBReader", ReadableStreamBYOBReader);
defineGlobal("ReadableStreamDefaultController", ReadableStreamDefaultController);
defineGlobal("ReadableByteStreamController", ReadableByteStreamController);
defineGlobal("ReadableStreamBYOBRequest", ReadableStreamBYOBRequest);
defineGlobal("WritableStream", WritableStream);
defineGlobal("WritableStreamDefaultWriter", WritableStreamDefaultWriter);
defineGlobal("WritableStreamDefaultController", WritableStreamDefaultController);
defineGlobal("TransformStream", TransformStream);
defineGlobal("TransformStreamDefaultController", TransformStreamDefaultController);
defineGlobal("ByteLengthQueuingStrategy", ByteLengthQueuingStrategy);
defineGlobal("CountQueuingStrategy", CountQueuingStrategy);
defineGlobal("TextEncoderStream", TextEncoderStream);
defineGlobal("TextDecoderStream", TextDecoderStream);
defineGlobal("IdentityTransformStream", IdentityTransformStream);
defineGlobal("FixedLengthStream", FixedLengthStream);
