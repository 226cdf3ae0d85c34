// 63_websocket.js: WebSocketPair and WebSocket, MessageEvent, CloseEvent,
// ErrorEvent, WebSocketRequestResponsePair, and the Durable Object
// hibernation API's half in JavaScript. Go holds the sockets
// (runtime/websocket.go): what one end of a pair sends arrives at the other,
// in this isolate, in another one (an end returned in a Response through a
// stub), or at a client on the network (an end returned to an upgrade
// request). The globals are optional (installWebSockets,
// runtime.optionalGlobals); an end received in a Response loads this unit
// through wsFromHost. Behaviour and messages are workerd's (conformance
// cases 140-144).

const kWs = Symbol("webSocket");

const wsStateConnecting = 0, wsStateOpen = 1, wsStateClosing = 2, wsStateClosed = 3;
const wsKindBinary = 2, wsKindClose = 3, wsKindError = 4, wsKindOpen = 5;

// wsObjects: the WebSocket object of each hibernated end this isolate has
// met, so an object's sockets are the same objects for as long as it lives.
const wsObjects = new Map();

// wsRegistry lets Go forget an end whose object was collected unused: a
// worker making pairs in a loop must not grow the host. (An accepted end is
// held by its pump for as long as it is open.)
const wsRegistry = new FinalizationRegistry((id) => host.wsDrop(id));

class MessageEvent extends Event {
  constructor(type, init = undefined) {
    super(type, init);
    this[kWs] = { data: init && init.data !== undefined ? init.data : null };
  }
  get data() { return this[kWs].data; }
  get origin() { return null; }
  get lastEventId() { return ""; }
  get source() { return null; }
  get ports() { return []; }
  get [Symbol.toStringTag]() { return "MessageEvent"; }
}

class CloseEvent extends Event {
  constructor(type, init = undefined) {
    super(type, init);
    this[kWs] = {
      code: init && init.code !== undefined ? Number(init.code) : 0,
      reason: init && init.reason !== undefined ? String(init.reason) : "",
      wasClean: !!(init && init.wasClean),
    };
  }
  get code() { return this[kWs].code; }
  get reason() { return this[kWs].reason; }
  get wasClean() { return this[kWs].wasClean; }
  get [Symbol.toStringTag]() { return "CloseEvent"; }
}

class ErrorEvent extends Event {
  #message;
  #filename;
  #lineno;
  #colno;
  #error;
  constructor(type, init = undefined) {
    super(type, init);
    this.#message = init?.message === undefined ? "" : String(init.message);
    this.#filename = init?.filename === undefined ? "" : String(init.filename);
    this.#lineno = init?.lineno === undefined ? 0 : Number(init.lineno) >>> 0;
    this.#colno = init?.colno === undefined ? 0 : Number(init.colno) >>> 0;
    this.#error = init?.error;
  }
  get message() { return this.#message; }
  get filename() { return this.#filename; }
  get lineno() { return this.#lineno; }
  get colno() { return this.#colno; }
  get error() { return this.#error; }
  get [Symbol.toStringTag]() { return "ErrorEvent"; }
}

function wsNotFunction(name) {
  return new TypeError(`Failed to construct '${name}': Please use the 'new' operator, this object constructor cannot be called as a function.`);
}

// WebSocket is a function rather than a class: its length is 0 and a call
// without new says what workerd says.
function WebSocket() {
  if (new.target === undefined) throw wsNotFunction("WebSocket");
  if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': constructor parameter 1 is not of type 'string'.");
  const raw = String(arguments[0]);
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new DOMException("WebSocket Constructor: The url is invalid.", "SyntaxError");
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new DOMException("WebSocket Constructor: The url scheme must be ws or wss.", "SyntaxError");
  if (url.hash !== "" || raw.includes("#")) throw new DOMException("WebSocket Constructor: The url fragment must be empty.", "SyntaxError");
  const protocols = arguments[1] === undefined ? [] : typeof arguments[1] === "string" ? [arguments[1]] : Array.from(arguments[1], String);
  for (const p of protocols) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p)) throw new DOMException("WebSocket Constructor: The protocol header token is invalid.", "SyntaxError");
  }
  if (new Set(protocols).size !== protocols.length) throw new DOMException("WebSocket Constructor: The protocols header cannot have repeating values.", "SyntaxError");
  // A connection of the worker's own: open at once, its events flowing
  // without accept() (an open event first, or an error and a close).
  hostNeed("ws");
  const id = host.wsConnect(url.href, JSON.stringify(protocols));
  if (typeof id === "string") throw hostError(id);
  const ws = Reflect.construct(EventTarget, [], new.target);
  ws[kWs] = { id, state: wsStateConnecting, accepted: false, hibernated: false, closeSent: false, binaryType: "blob", client: true, url: url.href, protocol: "" };
  wsRegistry.register(ws, id, ws);
  wsPump(ws, ws[kWs]);
  return ws;
}
Object.setPrototypeOf(WebSocket, EventTarget);
WebSocket.prototype = Object.create(EventTarget.prototype, {
  constructor: { value: WebSocket, writable: true, configurable: true },
});

const wsMethods = {
  accept() {
    const s = wsState(this);
    if (s.client) throw new TypeError("Websockets obtained from the 'new WebSocket()' constructor cannot call accept");
    if (s.hibernated) throw new TypeError("Can't accept() WebSocket after enabling hibernation.");
    if (s.accepted) {
      if (s.state === wsStateClosed) throw new TypeError("Can't accept() WebSocket that was already used in a response.");
      return;
    }
    wsHostCheck(host.wsAccept(s.id));
    s.accepted = true;
    wsPump(this, s);
  },
  send(message) {
    const s = wsState(this);
    if (arguments.length === 0) throw new TypeError("Failed to execute 'send' on 'WebSocket': parameter 1 is not of type 'ArrayBuffer or ArrayBufferView or string'.");
    if (!s.accepted) throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    if (s.closeSent) throw new TypeError("Can't call WebSocket send() after close().");
    let data;
    if (typeof message === "string") data = message;
    else if (message instanceof ArrayBuffer) data = message.slice(0);
    else if (ArrayBuffer.isView(message)) data = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength);
    else data = String(message);
    wsHostCheck(host.wsSend(s.id, data));
  },
  close(code = undefined, reason = undefined) {
    const s = wsState(this);
    if (code !== undefined) {
      code = Number(code) | 0;
      if (code < 1000 || code > 4999 || code === 1004 || code === 1005 || code === 1006 || code === 1015) {
        throw new DOMException(`Invalid WebSocket close code: ${code}.`, "InvalidAccessError");
      }
    }
    if (reason !== undefined) {
      if (code === undefined) throw new DOMException("If you specify a WebSocket close reason, you must also specify a code.", "InvalidAccessError");
      reason = String(reason);
      if (wsUTF8Length(reason) > 123) throw new DOMException("WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded.", "SyntaxError");
    }
    if (!s.accepted) throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    if (s.closeSent) return;
    s.closeSent = true;
    if (s.state === wsStateOpen) s.state = wsStateClosing;
    host.wsSendClose(s.id, code === undefined ? 1005 : code, reason === undefined ? "" : reason, false);
  },
  serializeAttachment(value) {
    const s = wsState(this);
    structuredClone(value); // refuses what cannot be cloned, with the clone's words
    const enc = new RpcEncoder(false, false);
    const json = JSON.stringify(enc.encode(value));
    const size = wsSerializedSize(value);
    if (size > 16384) throw new Error(`A WebSocket 'attachment' cannot be larger than 16384 bytes.'attachment' was ${size} bytes.`);
    host.wsSetAttachment(s.id, json, ...enc.bufs);
  },
  deserializeAttachment() {
    const s = wsState(this);
    const parts = host.wsAttachment(s.id);
    if (parts === false) return null;
    return new RpcDecoder(rpcNoBufs, parts.slice(1)).decode(JSON.parse(parts[0]));
  },
};
for (const name of Object.keys(wsMethods)) {
  Object.defineProperty(WebSocket.prototype, name, { value: wsMethods[name], writable: true, configurable: true });
}
Object.defineProperties(WebSocket.prototype, {
  readyState: { get() { return wsState(this).state; }, set: wsReadOnly("readyState"), configurable: true },
  url: { get() { return wsState(this).url ?? null; }, set: wsReadOnly("url"), configurable: true },
  protocol: { get() { return wsState(this).protocol ?? ""; }, set: wsReadOnly("protocol"), configurable: true },
  extensions: { get() { wsState(this); return ""; }, set: wsReadOnly("extensions"), configurable: true },
  bufferedAmount: { get() { wsState(this); return 0; }, set: wsReadOnly("bufferedAmount"), configurable: true },
  binaryType: {
    get() { return wsState(this).binaryType; },
    set(v) {
      const s = wsState(this);
      if (v === "blob" || v === "arraybuffer") s.binaryType = v;
    },
    configurable: true,
  },
  [Symbol.toStringTag]: { value: "WebSocket", configurable: true },
});
for (const [name, v] of [["CONNECTING", wsStateConnecting], ["OPEN", wsStateOpen], ["CLOSING", wsStateClosing], ["CLOSED", wsStateClosed]]) {
  for (const target of [WebSocket, WebSocket.prototype]) {
    Object.defineProperty(target, name, { value: v, enumerable: true });
    Object.defineProperty(target, "READY_STATE_" + name, { value: v, enumerable: true });
  }
}

// wsReadOnly is a setter that refuses as V8 refuses an accessor without one
// (in the strict mode of modules).
function wsReadOnly(name) {
  return function () {
    throw new TypeError(`Cannot assign to read only property '${name}' of object '#<WebSocket>'`);
  };
}

function wsState(ws) {
  const s = ws !== null && typeof ws === "object" ? ws[kWs] : undefined;
  if (s === undefined || !(ws instanceof WebSocket)) throw new TypeError("Illegal invocation");
  return s;
}

function wsHostCheck(err) {
  if (err) throw hostError(err);
}

// wsSerializedSize is about the size of v in V8's serialization, which is
// what workerd limits an attachment by: exact for strings, numbers and
// their plain objects and arrays, close for the rest.
function wsSerializedSize(v) {
  const varint = (n) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);
  const seen = new Set();
  const item = (x) => {
    switch (typeof x) {
      case "undefined": case "boolean": return 1;
      case "number": return Number.isInteger(x) && x >= -0x40000000 && x < 0x40000000 ? 1 + varint(x < 0 ? -2 * x - 1 : 2 * x) : 9;
      case "bigint": return 2 + 8 * Math.ceil(Math.max(1, (x < 0n ? -x : x).toString(16).length) / 16);
      case "string": {
        let wide = false;
        for (let i = 0; i < x.length; i++) if (x.charCodeAt(i) > 0xff) { wide = true; break; }
        return 1 + (wide ? varint(2 * x.length) + 2 * x.length : varint(x.length) + x.length);
      }
    }
    if (x === null) return 1;
    if (seen.has(x)) return 2;
    seen.add(x);
    if (Array.isArray(x)) {
      let n = 1 + varint(x.length) + 1 + 2 * varint(x.length);
      for (const e of x) n += item(e);
      return n;
    }
    if (x instanceof ArrayBuffer) return 1 + varint(x.byteLength) + x.byteLength;
    if (ArrayBuffer.isView(x)) return 4 + varint(x.byteLength) + x.byteLength + 2;
    if (x instanceof Date) return 9;
    let n = 2, count = 0;
    for (const k of Object.keys(x)) {
      n += item(k) + item(x[k]);
      count++;
    }
    return n + varint(count);
  };
  return 2 + item(v);
}

function wsUTF8Length(str) {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

// wsMake gives the WebSocket object of end id. (Its on<type> properties
// are the worker's own, which EventTarget calls, as workerd does.)
function wsMake(id) {
  const ws = Reflect.construct(EventTarget, [], WebSocket);
  ws[kWs] = { id, state: wsStateOpen, accepted: false, hibernated: false, closeSent: false, binaryType: "blob" };
  wsRegistry.register(ws, id, ws);
  return ws;
}

function WebSocketPair() {
  if (new.target === undefined) throw wsNotFunction("WebSocketPair");
  hostNeed("ws");
  const ids = host.wsPair();
  if (typeof ids === "string") throw hostError(ids);
  const [a, b] = ids;
  Object.defineProperty(this, 0, { value: wsMake(a), enumerable: true });
  Object.defineProperty(this, 1, { value: wsMake(b), enumerable: true });
}
Object.defineProperties(WebSocketPair.prototype, {
  [Symbol.iterator]: {
    value: function* () {
      yield this[0];
      yield this[1];
    },
    writable: true, configurable: true,
  },
  [Symbol.toStringTag]: { value: "WebSocketPair", configurable: true },
});

class WebSocketRequestResponsePair {
  constructor(request, response) {
    if (typeof request !== "string") throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': constructor parameter 1 is not of type 'string'.");
    if (typeof response !== "string") throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': constructor parameter 2 is not of type 'string'.");
    this[kWs] = { request, response };
  }
  get request() { return this[kWs].request; }
  get response() { return this[kWs].response; }
  get [Symbol.toStringTag]() { return "WebSocketRequestResponsePair"; }
}

function wsTrusted(e) {
  return evtSetTrusted(e);
}

// wsPump delivers an accepted end's events to its listeners, one at a time,
// each after the microtasks the one before queued.
async function wsPump(ws, s) {
  // Events are tasks: the first comes after the microtasks of the turn
  // that accepted (Isolate.soon), even if it was queued already.
  await host.wsTick();
  for (;;) {
    const ev = host.wsNext(s.id);
    if (ev === null || ev === undefined) return;
    if (!Array.isArray(ev)) {
      await ev;
      continue;
    }
    if (ev[0] === wsKindClose) {
      await wsClosed(ws, s, ev);
      return;
    }
    if (ev[0] === wsKindError) {
      // ev[4]: nothing follows (a message over the limit ended the
      // connection), and the end is closed already when its handler runs.
      if (ev[4]) {
        s.state = wsStateClosed;
        s.closeSent = true;
      }
      ws.dispatchEvent(wsTrusted(new ErrorEvent("error", { message: "Uncaught Error: " + ev[1], error: new Error(ev[1]) })));
      if (ev[4]) return;
      await null;
      continue;
    }
    if (ev[0] === wsKindOpen) {
      s.state = wsStateOpen;
      s.accepted = true;
      s.protocol = ev[1];
      ws.dispatchEvent(wsTrusted(new Event("open")));
      await null;
      continue;
    }
    let data = ev[1];
    if (ev[0] === wsKindBinary && s.binaryType === "blob") data = new Blob([data]);
    ws.dispatchEvent(wsTrusted(new MessageEvent("message", { data })));
    await null;
  }
}

// wsClosed delivers the peer's close. A clean one is answered at once with
// the same code and reason (workerd's automatic reply), so the end is
// closed in its handler; the reply is followed by an error event where
// workerd sends one (websockethost.go, wsSendClose). A connection lost without a
// close leaves the end as it was.
async function wsClosed(ws, s, ev) {
  const [, , code, reason, clean] = ev;
  if (!clean) {
    ws.dispatchEvent(wsTrusted(new CloseEvent("close", { code, reason, wasClean: false })));
    return;
  }
  s.state = wsStateClosed;
  let after;
  if (!s.closeSent) {
    s.closeSent = true;
    after = host.wsSendClose(s.id, code, reason, true);
  }
  ws.dispatchEvent(wsTrusted(new CloseEvent("close", { code, reason, wasClean: true })));
  if (after) {
    await after;
    ws.dispatchEvent(wsTrusted(new ErrorEvent("error", { message: "Uncaught Error: Network connection lost.", error: new Error("Network connection lost.") })));
  }
}

// wsTake gives the id of the end a Response carries, for the host: the end
// leaves this isolate. Go calls it for a Response a worker answers HTTP
// with (host.respond gets the WebSocket object: the eager unit, which every
// isolate loads, stays as it was).
function wsTake(ws) {
  const s = ws !== null && typeof ws === "object" ? ws[kWs] : undefined;
  if (s === undefined) throw new TypeError("Incorrect type for the 'webSocket' field on 'ResponseInit': the provided value is not of type 'WebSocket'.");
  wsRegistry.unregister(ws);
  return s.id;
}

// wsRefuseStatus refuses a Response with a WebSocket and a status other
// than 101 (called by Response's constructor: the message lives here, as
// every string in the eager unit costs every isolate memory).
function wsRefuseStatus() {
  throw new RangeError("Responses with a WebSocket must have status code 101.");
}

// A Response with a WebSocket cannot be cloned. Patched in when this unit
// loads, which it has by the time such a Response can exist.
{
  const clone = Response.prototype.clone;
  Object.defineProperty(Response.prototype, "clone", {
    value: function clone_() {
      if (this instanceof Response && this.webSocket) throw new TypeError("Cannot clone a response to a WebSocket handshake.");
      return Reflect.apply(clone, this, arguments);
    },
    writable: true, configurable: true,
  });
  Object.defineProperty(Response.prototype.clone, "name", { value: "clone" });
}

// wsFetchReturn answers fetch call id with resp, a Response carrying a
// WebSocket end, which goes to the caller's isolate.
function wsFetchReturn(id, resp) {
  const blob = [];
  for (const [k, v] of resp.headers) blob.push(k, v);
  host.rpcFetchReturn(id, resp.status, resp.statusText, blob.join("\0"), null, wsTake(resp.webSocket));
}

// wsFromHost is the WebSocket of an end that arrived in a Response.
function wsFromHost(id) {
  return wsMake(id);
}

// Go calls wsTake for host.respond (above).
hostNeed("ws");
host.wsTaker(wsTake);

// ---- Durable Object hibernation (ctx.acceptWebSocket and its kin) ----

// wsCtx serves the hibernation methods of a Durable Object's ctx: op names
// the method, rec is the object's record (67_actor.js).
function wsCtx(rec, op, a, b, c) {
  switch (op) {
    case "event":
      return wsActorEvent(a, b, c);
    case "accept": {
      const s = a !== null && typeof a === "object" && a instanceof WebSocket ? a[kWs] : undefined;
      if (s === undefined) throw new TypeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.");
      if (b !== undefined && !Array.isArray(b)) throw new TypeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 2 is not of type 'Array'.");
      const tags = [...new Set(b === undefined ? [] : b.map(String))];
      if (tags.length > 10) throw new Error("a Hibernatable WebSocket cannot have more than 10 tags");
      for (const t of tags) {
        if (t.length > 256) throw new Error(`"${t}" is longer than the max tag length (256 characters).`);
      }
      if (s.accepted) throw new Error("Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`");
      wsHostCheck(host.wsHibernate(s.id, rec.key, JSON.stringify(tags)));
      s.accepted = true;
      s.hibernated = true;
      return undefined;
    }
    case "list":
      return host.wsList(rec.key, a === undefined ? "" : String(a)).map((id) => wsHibernatedObject(id));
    case "tags": {
      const tags = host.wsTags(wsState(a).id);
      if (tags === false) throw new Error("only hibernatable websockets can have tags.");
      return tags;
    }
    case "auto":
      if (a === undefined || a === null) {
        host.wsAutoResponse(rec.key, "", "", false);
        return undefined;
      }
      if (!(a instanceof WebSocketRequestResponsePair)) throw new TypeError("Failed to execute 'setWebSocketAutoResponse' on 'DurableObjectState': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
      host.wsAutoResponse(rec.key, a.request, a.response, true);
      return undefined;
    case "getAuto": {
      const pair = host.wsAutoGet(rec.key);
      return pair ? new WebSocketRequestResponsePair(pair[0], pair[1]) : null;
    }
    case "autoTimestamp": {
      const t = host.wsAutoTimestamp(wsState(a).id);
      return t < 0 ? null : new Date(t);
    }
  }
  throw new Error("isola: unknown hibernation op " + op);
}

function wsHibernatedObject(id) {
  let ws = wsObjects.get(id);
  if (ws) return ws;
  ws = wsMake(id);
  wsRegistry.unregister(ws); // the end outlives its objects (hibernation)
  wsObjects.set(id, ws);
  const s = ws[kWs];
  s.accepted = true;
  s.hibernated = true;
  return ws;
}

// wsActorEvent runs an event for a hibernated socket on the object's
// instance: webSocketMessage(ws, message), webSocketClose(ws, code, reason,
// wasClean) (no automatic reply: the object answers a close, or not) or
// webSocketError(ws, error).
function wsActorEvent(inst, method, args) {
  const ws = wsHibernatedObject(args[0]);
  const s = ws[kWs];
  if (method === "webSocketMessage") {
    if (typeof inst.webSocketMessage === "function") return inst.webSocketMessage(ws, args[1]);
    return undefined;
  }
  // The socket is listed (the same object) until its last handler is done.
  const done = () => {
    wsObjects.delete(s.id);
    host.wsHandled(s.id);
  };
  let result;
  try {
    if (method === "webSocketClose") {
      const sent = args[4];
      s.closeSent = sent;
      s.state = sent ? wsStateClosed : wsStateClosing;
      if (typeof inst.webSocketClose === "function") result = inst.webSocketClose(ws, args[1], args[2], args[3]);
    } else if (typeof inst.webSocketError === "function") {
      s.state = wsStateClosed;
      s.closeSent = true;
      result = inst.webSocketError(ws, new Error(args[1]));
    }
  } catch (e) {
    done();
    throw e;
  }
  if (result !== null && typeof result === "object" && typeof result.then === "function") return Promise.resolve(result).finally(done);
  done();
  return result;
}

// installWebSockets installs the globals (16_optional.js).
function installWebSockets() {
  for (const [name, v] of [["WebSocketPair", WebSocketPair], ["WebSocket", WebSocket], ["MessageEvent", MessageEvent], ["CloseEvent", CloseEvent], ["ErrorEvent", ErrorEvent], ["WebSocketRequestResponsePair", WebSocketRequestResponsePair]]) {
    Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true, enumerable: false });
  }
}
