// new WebSocketPair() within one request: the pair object, the WebSocket
// class and its constants, readyState through accept() and close(),
// property values, send() and close() argument errors, what is delivered
// before an end is accepted, message and close events (their classes and
// fields, on both ends), binaryType, on* handler properties, and the order
// of events against microtasks and timers. Each path prints one section.

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return `threw ${e?.name}: ${e?.message}`;
  }
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = async () => {
  for (let i = 0; i < 5; i++) await sleep(5);
};

const describeData = (d) => {
  if (typeof d === "string") return `string ${JSON.stringify(d)}`;
  const tag = Object.prototype.toString.call(d);
  if (d instanceof ArrayBuffer) return `${tag} [${[...new Uint8Array(d)]}]`;
  if (typeof Blob !== "undefined" && d instanceof Blob) return `${tag} size=${d.size} type=${JSON.stringify(d.type)}`;
  return `${tag} ${String(d)}`;
};

// Both ends accepted, each logging what it receives.
const connected = (log) => {
  const pair = new WebSocketPair();
  const [a, b] = [pair[0], pair[1]];
  for (const [name, ws] of [["a", a], ["b", b]]) {
    ws.addEventListener("message", (e) => log.push(`${name} message ${describeData(e.data)}`));
    ws.addEventListener("close", (e) =>
      log.push(`${name} close code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean} readyState=${ws.readyState}`));
    ws.addEventListener("error", (e) =>
      log.push(`${name} error ${e.constructor.name} message=${JSON.stringify(e.message)} error=${e.error?.name}: ${e.error?.message} readyState=${ws.readyState}`));
  }
  a.accept();
  b.accept();
  return [a, b];
};

const sections = {
  async pair() {
    const pair = new WebSocketPair();
    const out = {};
    out.typeofWebSocketPair = typeof WebSocketPair;
    out.pairTag = Object.prototype.toString.call(pair);
    out.pairConstructor = pair.constructor?.name;
    out.keys = Object.keys(pair);
    out.ownPropertyNames = Object.getOwnPropertyNames(pair);
    out.valuesLength = Object.values(pair).length;
    out.iterable = typeof pair[Symbol.iterator];
    out.destructure = probe(() => {
      const [x, y] = pair;
      return `${typeof x} ${typeof y}`;
    });
    out.distinct = pair[0] !== pair[1];
    out.valuesMatchIndexes = Object.values(pair)[0] === pair[0] && Object.values(pair)[1] === pair[1];
    out.typeofEnd = typeof pair[0];
    out.endTag = Object.prototype.toString.call(pair[0]);
    out.endConstructor = pair[0].constructor.name;
    out.instanceofWebSocket = pair[0] instanceof WebSocket && pair[1] instanceof WebSocket;
    out.instanceofEventTarget = pair[0] instanceof EventTarget;
    out.withoutNew = probe(() => WebSocketPair());
    out.typeofWebSocket = typeof WebSocket;
    out.WebSocketLength = WebSocket.length;
    out.constants = {};
    for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED", "READY_STATE_CONNECTING", "READY_STATE_OPEN", "READY_STATE_CLOSING", "READY_STATE_CLOSED"]) {
      out.constants[k] = [WebSocket[k] ?? "absent", pair[0][k] ?? "absent"];
    }
    out.prototypeNames = Object.getOwnPropertyNames(WebSocket.prototype).sort();
    out.staticNames = Object.getOwnPropertyNames(WebSocket).sort();
    out.ownNamesOfEnd = Object.getOwnPropertyNames(pair[0]).sort();
    out.keysOfEnd = Object.keys(pair[0]).sort();
    out.newWebSocketNoArgs = probe(() => new WebSocket());
    out.WebSocketCalled = probe(() => WebSocket("wss://example.com"));
    out.classes = {
      MessageEvent: typeof MessageEvent,
      CloseEvent: typeof CloseEvent,
      ErrorEvent: typeof ErrorEvent,
      WebSocketRequestResponsePair: typeof WebSocketRequestResponsePair,
    };
    return out;
  },

  async properties() {
    const pair = new WebSocketPair();
    const ws = pair[0];
    const props = (w) => ({
      readyState: w.readyState,
      url: w.url,
      protocol: w.protocol,
      extensions: w.extensions,
      binaryType: w.binaryType,
      bufferedAmount: w.bufferedAmount ?? "absent",
      onmessage: w.onmessage === undefined ? "undefined" : w.onmessage,
    });
    const out = { fresh: props(ws) };
    out.setBinaryTypeArraybuffer = probe(() => { ws.binaryType = "arraybuffer"; return ws.binaryType; });
    out.setBinaryTypeBlob = probe(() => { ws.binaryType = "blob"; return ws.binaryType; });
    out.setBinaryTypeInvalid = probe(() => { ws.binaryType = "nonsense"; return ws.binaryType; });
    out.setUrl = probe(() => { ws.url = "x"; return ws.url; });
    out.setReadyState = probe(() => { ws.readyState = 3; return ws.readyState; });
    ws.accept();
    out.accepted = props(ws);
    out.other = props(pair[1]);
    return out;
  },

  async states() {
    const log = [];
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    const rs = (when) => log.push(`${when}: a=${a.readyState} b=${b.readyState}`);
    a.addEventListener("close", (e) => { log.push(`a close event code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean}`); rs("in a's close handler"); });
    b.addEventListener("close", (e) => { log.push(`b close event code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean}`); rs("in b's close handler"); });
    rs("new");
    a.accept();
    rs("after a.accept()");
    log.push(`a.accept() again: ${probe(() => a.accept())}`);
    b.accept();
    rs("after b.accept()");
    await settle();
    rs("after settling");
    a.close(1000, "bye");
    rs("right after a.close(1000, 'bye')");
    log.push(`a.close() again: ${probe(() => a.close(1000, "again"))}`);
    await settle();
    rs("after settling");
    log.push(`a.send after close: ${probe(() => a.send("x"))}`);
    log.push(`b.send after close: ${probe(() => b.send("x"))}`);
    log.push(`b.close after close: ${probe(() => b.close())}`);
    log.push(`a.accept after close: ${probe(() => a.accept())}`);
    return log;
  },

  async "send-errors"() {
    const out = {};
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    out.sendBeforeAccept = probe(() => a.send("x"));
    out.closeBeforeAccept = probe(() => new WebSocketPair()[0].close(1000, "x"));
    a.accept();
    b.accept();
    const got = [];
    b.addEventListener("message", (e) => got.push(describeData(e.data)));
    b.binaryType = "arraybuffer";
    const tries = {
      string: "s",
      emptyString: "",
      arrayBuffer: new Uint8Array([1, 2]).buffer,
      uint8Array: new Uint8Array([3, 4]),
      subarray: new Uint8Array([0, 5, 6, 0]).subarray(1, 3),
      dataView: new DataView(new Uint8Array([7, 8]).buffer),
      uint16Array: new Uint16Array([0x0102]),
      blob: new Blob(["blob"]),
      number: 42,
      nullValue: null,
      undefinedValue: undefined,
      object: { a: 1 },
      noArgument: "(none)",
    };
    out.send = {};
    for (const [k, v] of Object.entries(tries)) {
      out.send[k] = probe(() => (k === "noArgument" ? a.send() : a.send(v)));
    }
    await settle();
    out.received = got;
    return out;
  },

  async "close-errors"() {
    const out = {};
    const codes = [undefined, 1000, 999, 1001, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 3000, 4999, 5000, 0, -1, "1000", 1000.5, NaN];
    out.codes = {};
    for (const code of codes) {
      const pair = new WebSocketPair();
      pair[0].accept();
      pair[1].accept();
      out.codes[String(typeof code === "string" ? JSON.stringify(code) : code)] = probe(() => pair[0].close(code));
    }
    const reasonTry = (code, reason) => {
      const pair = new WebSocketPair();
      pair[0].accept();
      pair[1].accept();
      return probe(() => pair[0].close(code, reason));
    };
    out.reasons = {
      "123 bytes": reasonTry(1000, "r".repeat(123)),
      "124 bytes": reasonTry(1000, "r".repeat(124)),
      "62 two-byte chars (124 bytes)": reasonTry(1000, "é".repeat(62)),
      "61 two-byte chars (122 bytes)": reasonTry(1000, "é".repeat(61)),
      "reason without code": reasonTry(undefined, "why"),
      "empty reason without code": reasonTry(undefined, ""),
      "reason with 1005": reasonTry(1005, "x"),
      "non-string reason": reasonTry(1000, 42),
    };
    return out;
  },

  async queue() {
    // Messages sent to an end that is not accepted yet, and an end that
    // is accepted only after a delay.
    const log = [];
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    a.accept();
    log.push(`a.send while b not accepted: ${probe(() => a.send("early 1"))}`);
    log.push(`a.send while b not accepted: ${probe(() => a.send("early 2"))}`);
    b.addEventListener("message", (e) => log.push(`b message ${describeData(e.data)}`));
    await settle();
    log.push("b.accept()");
    b.accept();
    log.push("b accepted (sync)");
    a.send("after accept");
    await settle();
    // Listener added only after messages arrived.
    const pair2 = new WebSocketPair();
    const [c, d] = [pair2[0], pair2[1]];
    c.accept();
    d.accept();
    c.send("before listener");
    await settle();
    d.addEventListener("message", (e) => log.push(`d message ${describeData(e.data)}`));
    c.send("after listener");
    await settle();
    // close() of an end whose peer is not accepted yet.
    const pair3 = new WebSocketPair();
    const [e, f] = [pair3[0], pair3[1]];
    e.accept();
    e.send("m");
    e.close(1000, "closed early");
    log.push(`e.readyState after close=${e.readyState}`);
    f.addEventListener("message", (ev) => log.push(`f message ${describeData(ev.data)}`));
    f.addEventListener("close", (ev) => log.push(`f close code=${ev.code} reason=${JSON.stringify(ev.reason)} wasClean=${ev.wasClean}`));
    e.addEventListener("close", (ev) => log.push(`e close code=${ev.code} reason=${JSON.stringify(ev.reason)} wasClean=${ev.wasClean}`));
    await settle();
    log.push("f.accept()");
    f.accept();
    await settle();
    log.push(`readyState e=${e.readyState} f=${f.readyState}`);
    return log;
  },

  async events() {
    const out = {};
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    let messageEvent, closeEventB, closeEventA;
    b.addEventListener("message", (e) => { messageEvent = e; out.targetIsB = e.target === b; out.currentTargetIsB = e.currentTarget === b; out.thisIsB = this === undefined ? "arrow" : "n/a"; });
    b.addEventListener("close", (e) => { closeEventB = e; });
    a.addEventListener("close", (e) => { closeEventA = e; });
    a.accept();
    b.accept();
    a.send("hello");
    await settle();
    const describeEvent = (e) => e && ({
      type: e.type,
      constructor: e.constructor.name,
      tag: Object.prototype.toString.call(e),
      instanceofEvent: e instanceof Event,
      instanceofMessageEvent: typeof MessageEvent === "function" && e instanceof MessageEvent,
      instanceofCloseEvent: typeof CloseEvent === "function" && e instanceof CloseEvent,
      data: "data" in e ? e.data : "absent",
      origin: "origin" in e ? e.origin : "absent",
      lastEventId: "lastEventId" in e ? e.lastEventId : "absent",
      source: "source" in e ? e.source : "absent",
      ports: "ports" in e ? e.ports : "absent",
      code: "code" in e ? e.code : "absent",
      reason: "reason" in e ? e.reason : "absent",
      wasClean: "wasClean" in e ? e.wasClean : "absent",
      bubbles: e.bubbles,
      cancelable: e.cancelable,
      composed: e.composed,
      isTrusted: e.isTrusted,
      eventPhase: e.eventPhase,
      defaultPrevented: e.defaultPrevented,
      typeofTimeStamp: typeof e.timeStamp,
    });
    out.message = describeEvent(messageEvent);
    a.close(4001, "reason text");
    await settle();
    out.closeAtPeer = describeEvent(closeEventB);
    out.closeAtCloser = describeEvent(closeEventA) ?? "no close event";
    out.constructed = {
      messageEvent: probe(() => { const e = new MessageEvent("message", { data: "d" }); return [e.type, e.data]; }),
      closeEvent: probe(() => { const e = new CloseEvent("close", { code: 1000, reason: "r", wasClean: true }); return [e.type, e.code, e.reason, e.wasClean]; }),
      closeEventDefaults: probe(() => { const e = new CloseEvent("close"); return [e.code, e.reason, e.wasClean]; }),
    };
    return out;
  },

  async binary() {
    const log = [];
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    log.push(`default binaryType=${b.binaryType}`);
    b.addEventListener("message", (e) => log.push(`b got ${describeData(e.data)} (binaryType=${b.binaryType})`));
    a.accept();
    b.accept();
    a.send(new Uint8Array([1, 2, 3]));
    await settle();
    b.binaryType = "arraybuffer";
    a.send(new Uint8Array([4, 5]));
    a.send("text stays a string");
    await settle();
    b.binaryType = "blob";
    a.send(new Uint8Array([6]));
    await settle();
    // A Blob received can be read back.
    let blob;
    const once = (e) => { blob = e.data; };
    b.addEventListener("message", once);
    a.send(new Uint8Array([9, 8, 7]));
    await settle();
    b.removeEventListener("message", once);
    if (blob instanceof Blob) log.push(`blob contents [${[...new Uint8Array(await blob.arrayBuffer())]}]`);
    return log;
  },

  async handlers() {
    const log = [];
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    log.push(`"onmessage" in b: ${"onmessage" in b}; "onclose" in b: ${"onclose" in b}; "onopen" in b: ${"onopen" in b}; "onerror" in b: ${"onerror" in b}`);
    log.push(`b.onmessage initially: ${b.onmessage === null ? "null" : typeof b.onmessage}`);
    b.onmessage = (e) => log.push(`onmessage ${describeData(e.data)}`);
    b.onclose = (e) => log.push(`onclose code=${e.code}`);
    b.onopen = () => log.push("onopen");
    b.addEventListener("message", (e) => log.push(`listener ${describeData(e.data)}`));
    log.push(`b.onmessage after assignment: ${typeof b.onmessage}`);
    a.accept();
    b.accept();
    a.send("one");
    await settle();
    b.onmessage = null;
    a.send("two");
    await settle();
    a.close(1000, "x");
    await settle();
    // An "open" event on accept()?
    const pair2 = new WebSocketPair();
    pair2[0].addEventListener("open", () => log.push("open event on accept()"));
    pair2[0].accept();
    await settle();
    log.push("after accept() of a fresh pair");
    // A listener that throws: the other listeners still run.
    const pair3 = new WebSocketPair();
    pair3[1].addEventListener("message", () => { throw new Error("listener threw"); });
    pair3[1].addEventListener("message", (e) => log.push(`second listener still got ${describeData(e.data)}`));
    pair3[0].accept();
    pair3[1].accept();
    pair3[0].send("z");
    await settle();
    return log;
  },

  async order() {
    const log = [];
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    b.addEventListener("message", (e) => {
      log.push(`message ${e.data}`);
      queueMicrotask(() => log.push(`microtask queued in message ${e.data}`));
    });
    b.addEventListener("close", (e) => log.push(`b close ${e.code}`));
    a.addEventListener("close", (e) => log.push(`a close ${e.code}`));
    a.accept();
    b.accept();
    a.send("1");
    log.push("sync after send 1");
    a.send("2");
    queueMicrotask(() => log.push("microtask"));
    Promise.resolve().then(() => log.push("promise then"));
    setTimeout(() => log.push("setTimeout 0"), 0);
    a.close(1000, "done");
    log.push("sync after close");
    await null;
    log.push("after await null");
    await settle();
    log.push("settled");
    return log;
  },

  // When does an end get an "error" event after a clean close? Each
  // scenario uses a fresh pair with listeners on both ends.
  async "close-errors-events"() {
    const log = [];
    const scenario = async (title, fn) => {
      log.push(`-- ${title}`);
      const [a, b] = connected(log);
      await fn(a, b);
      await settle();
      log.push(`final a=${a.readyState} b=${b.readyState}`);
    };
    await scenario("a closes, no messages", async (a) => { a.close(1000, "x"); });
    await scenario("a sends, then a closes", async (a) => { a.send("m"); await settle(); a.close(1000, "x"); });
    await scenario("a sends, then b closes", async (a, b) => { a.send("m"); await settle(); b.close(1000, "x"); });
    await scenario("b sends, then b closes", async (a, b) => { b.send("m"); await settle(); b.close(1000, "x"); });
    await scenario("both send, then a closes", async (a, b) => { a.send("m"); b.send("n"); await settle(); a.close(1000, "x"); });
    await scenario("a sends and closes at once", async (a) => { a.send("m"); a.close(1000, "x"); });
    await scenario("a closes without a code", async (a) => { a.close(); });
    await scenario("both close at once", async (a, b) => { a.close(1000, "from a"); b.close(1001, "from b"); });
    return log;
  },

  async bidirectional() {
    const log = [];
    const [a, b] = connected(log);
    a.send("from a");
    b.send("from b");
    await settle();
    b.close(3001, "b closes");
    log.push(`b.readyState right after close=${b.readyState} a.readyState=${a.readyState}`);
    await settle();
    log.push(`final a=${a.readyState} b=${b.readyState}`);
    return log;
  },
};

export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    const section = sections[name];
    if (!section) return new Response(`sections: ${Object.keys(sections).join(", ")}\n`, { status: 404 });
    const result = await section();
    return new Response(Array.isArray(result) ? result.join("\n") + "\n" : JSON.stringify(result, null, 1) + "\n");
  },
};
