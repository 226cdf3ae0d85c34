// 63_websocket.js: WebSocketPair and WebSocket, MessageEvent, CloseEvent,
// WebSocketRequestResponsePair, and the Durable Object hibernation API's
// half in JavaScript. Go holds the sockets (runtime/websocket.go): what one
// end of a pair sends arrives at the other, in this isolate, in another one
// (an end returned in a Response through a stub), or at a client on the
// network (an end returned to an upgrade request). The globals are optional
// (installWebSockets, runtime.optionalGlobals); an end received in a
// Response loads this unit through wsFromHost.

const kWs = Symbol("webSocket");

const WS_CONNECTING = 0, WS_OPEN = 1, WS_CLOSING = 2, WS_CLOSED = 3;

// wsObjects: the WebSocket object of each end this isolate has met, so an
// object's hibernated sockets are the same objects for as long as it lives.
const wsObjects = new Map();

class MessageEvent extends Event {
  constructor(type, init = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to construct 'MessageEvent': 1 argument required, but only 0 present.");
    super(type, init);
    this[kWs] = { data: init && init.data !== undefined ? init.data : null };
  }
  get data() { return this[kWs].data; }
  get [Symbol.toStringTag]() { return "MessageEvent"; }
}

class CloseEvent extends Event {
  constructor(type, init = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to construct 'CloseEvent': 1 argument required, but only 0 present.");
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

class WebSocket extends EventTarget {
  constructor(url, protocols = undefined) {
    super();
    throw new Error("new WebSocket(url) is not supported yet by Isola: a worker can answer WebSocket upgrades (WebSocketPair), not open connections of its own.");
  }
  accept() {
    const s = wsState(this);
    if (s.hibernated) throw new TypeError("Can't call accept() on a WebSocket that was accepted with acceptWebSocket().");
    if (s.accepted) return;
    wsHostCheck(host.wsAccept(s.id));
    s.accepted = true;
    wsPump(this, s);
  }
  send(message) {
    const s = wsState(this);
    if (!s.accepted) throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    if (s.closeSent || s.state === WS_CLOSED) throw new TypeError("Can't call WebSocket send() after close().");
    let data;
    if (typeof message === "string") data = message;
    else if (message instanceof ArrayBuffer) data = message;
    else if (ArrayBuffer.isView(message)) data = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength);
    else data = String(message);
    wsHostCheck(host.wsSend(s.id, data));
  }
  close(code = undefined, reason = undefined) {
    const s = wsState(this);
    if (code !== undefined) {
      code = Number(code);
      if (!(code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006))) {
        throw new TypeError("Invalid WebSocket close code: " + code + ".");
      }
    }
    reason = reason === undefined ? "" : String(reason);
    if (new TextEncoder().encode(reason).byteLength > 123) throw new TypeError("Invalid WebSocket close reason: too long.");
    if (!s.accepted) throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    if (s.closeSent) return;
    s.closeSent = true;
    if (s.state === WS_OPEN) s.state = WS_CLOSING;
    host.wsClose(s.id, code === undefined ? 1005 : code, reason);
  }
  get readyState() { return wsState(this).state; }
  get url() { return null; }
  get protocol() { return null; }
  get extensions() { return null; }
  serializeAttachment(value) {
    const s = wsState(this);
    if (value === undefined || value === null) {
      host.wsSetAttachment(s.id, "");
      return;
    }
    const enc = new RpcEncoder(false, false);
    const json = JSON.stringify(enc.encode(value));
    let size = json.length;
    for (const b of enc.bufs) size += b.byteLength;
    if (size > 2048) throw new Error("A WebSocket 'attachment' cannot be larger than 2048 bytes. Consider storing it in Durable Object storage instead.");
    host.wsSetAttachment(s.id, json, ...enc.bufs);
  }
  deserializeAttachment() {
    const s = wsState(this);
    const parts = host.wsAttachment(s.id);
    if (!parts) return null;
    return new RpcDecoder(rpcNoBufs, parts.slice(1)).decode(JSON.parse(parts[0]));
  }
  get [Symbol.toStringTag]() { return "WebSocket"; }
}

for (const [name, v] of [["CONNECTING", WS_CONNECTING], ["OPEN", WS_OPEN], ["CLOSING", WS_CLOSING], ["CLOSED", WS_CLOSED]]) {
  for (const target of [WebSocket, WebSocket.prototype]) {
    Object.defineProperty(target, name, { value: v, enumerable: true });
    Object.defineProperty(target, "READY_STATE_" + name, { value: v, enumerable: true });
  }
}

// The on<event> handler properties, as event listeners kept in one slot each.
for (const type of ["open", "message", "close", "error"]) {
  const slot = Symbol("on" + type);
  Object.defineProperty(WebSocket.prototype, "on" + type, {
    enumerable: true, configurable: true,
    get() { return this[slot] ?? null; },
    set(fn) {
      const old = this[slot];
      if (old) this.removeEventListener(type, old.listener);
      if (typeof fn === "function") {
        const listener = (e) => fn.call(this, e);
        this[slot] = { fn, listener };
        this.addEventListener(type, listener);
      } else {
        this[slot] = undefined;
      }
    },
  });
}

function wsState(ws) {
  const s = ws !== null && typeof ws === "object" ? ws[kWs] : undefined;
  if (s === undefined) throw new TypeError("Illegal invocation");
  return s;
}

function wsHostCheck(err) {
  if (err) throw hostError(err);
}

// wsMake gives the WebSocket object of end id.
function wsMake(id) {
  let ws = wsObjects.get(id);
  if (ws) return ws;
  ws = Reflect.construct(EventTarget, [], WebSocket);
  ws[kWs] = { id, state: WS_OPEN, accepted: false, hibernated: false, closeSent: false };
  wsObjects.set(id, ws);
  return ws;
}

class WebSocketPair {
  constructor() {
    hostNeed("ws");
    const [a, b] = host.wsPair();
    const ends = [wsMake(a), wsMake(b)];
    Object.defineProperty(this, 0, { value: ends[0], enumerable: true });
    Object.defineProperty(this, 1, { value: ends[1], enumerable: true });
  }
  get [Symbol.toStringTag]() { return "WebSocketPair"; }
}

class WebSocketRequestResponsePair {
  constructor(request, response) {
    if (arguments.length < 2) throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': 2 arguments required.");
    this[kWs] = { request: String(request), response: String(response) };
  }
  get request() { return this[kWs].request; }
  get response() { return this[kWs].response; }
  get [Symbol.toStringTag]() { return "WebSocketRequestResponsePair"; }
}

// wsPump delivers an accepted end's events to its listeners, one at a time.
async function wsPump(ws, s) {
  for (;;) {
    const ev = host.wsNext(s.id);
    if (ev === null || ev === undefined) {
      wsObjects.delete(s.id);
      return;
    }
    if (!Array.isArray(ev)) {
      await ev;
      continue;
    }
    wsDispatch(ws, s, ev);
    if (ev[0] === 3) {
      wsObjects.delete(s.id);
      return;
    }
    await null;
  }
}

function wsDispatch(ws, s, ev) {
  switch (ev[0]) {
    case 1:
    case 2:
      ws.dispatchEvent(new MessageEvent("message", { data: ev[1] }));
      return;
    case 3:
      s.state = WS_CLOSED;
      s.closeSent = true;
      ws.dispatchEvent(new CloseEvent("close", { code: ev[2], reason: ev[3], wasClean: ev[4] }));
      return;
  }
}

// wsTake gives the id of the end a Response carries, for the host: the end
// leaves this isolate. Go calls it for a Response a worker answers HTTP
// with (host.respond gets the WebSocket object: the eager unit, which every
// isolate loads, stays as it was).
function wsTake(ws) {
  const s = ws !== null && typeof ws === "object" ? ws[kWs] : undefined;
  if (s === undefined) throw new TypeError("Incorrect type for the 'webSocket' field on 'ResponseInit': the provided value is not of type 'WebSocket'.");
  wsObjects.delete(s.id);
  return s.id;
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
function wsCtx(rec, op, a, b) {
  hostNeed("ws");
  switch (op) {
    case "accept": {
      const s = wsState(a);
      const tags = b === undefined ? [] : Array.from(b, String);
      if (tags.length > 10) throw new Error("a websocket cannot have more than 10 tags");
      for (const t of tags) {
        if (t.length > 256) throw new Error("websocket tags must not be longer than 256 characters");
      }
      if (s.accepted) throw new TypeError("Can't call acceptWebSocket() on a WebSocket that was already accepted.");
      wsHostCheck(host.wsHibernate(s.id, rec.key, JSON.stringify(tags)));
      s.accepted = true;
      s.hibernated = true;
      return undefined;
    }
    case "list":
      return host.wsList(rec.key, a === undefined ? "" : String(a)).map((id) => wsHibernatedObject(id));
    case "tags": {
      const s = wsState(a);
      const tags = host.wsTags(s.id);
      if (!tags) throw new TypeError("getTags() can only be called on WebSockets accepted with acceptWebSocket().");
      return tags;
    }
    case "auto":
      if (a === undefined || a === null) {
        host.wsAutoResponse(rec.key, "", "");
        return undefined;
      }
      if (!(a instanceof WebSocketRequestResponsePair)) throw new TypeError("Failed to execute 'setWebSocketAutoResponse' on 'DurableObjectState': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
      host.wsAutoResponse(rec.key, a.request, a.response);
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
  const ws = wsMake(id);
  const s = ws[kWs];
  s.accepted = true;
  s.hibernated = true;
  return ws;
}

// wsActorEvent runs an event for a hibernated socket on the object's
// instance: webSocketMessage(ws, message) or webSocketClose(ws, code,
// reason, wasClean).
function wsActorEvent(inst, method, args) {
  const ws = wsHibernatedObject(args[0]);
  if (method === "webSocketClose") {
    const s = ws[kWs];
    s.state = WS_CLOSED;
    s.closeSent = true;
    wsObjects.delete(s.id);
    if (typeof inst.webSocketClose === "function") return inst.webSocketClose(ws, args[1], args[2], args[3]);
    return undefined;
  }
  if (typeof inst.webSocketMessage === "function") return inst.webSocketMessage(ws, args[1]);
  return undefined;
}

// installWebSockets installs the globals (16_optional.js).
function installWebSockets() {
  for (const [name, v] of [["WebSocketPair", WebSocketPair], ["WebSocket", WebSocket], ["MessageEvent", MessageEvent], ["CloseEvent", CloseEvent], ["WebSocketRequestResponsePair", WebSocketRequestResponsePair]]) {
    Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true, enumerable: false });
  }
}
