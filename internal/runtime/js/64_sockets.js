// 64_sockets.js: connect() from cloudflare:sockets, TCP connections a
// worker opens (a database's wire protocol, mail, anything over TCP). Go
// dials and holds the connection (runtime/sockethost.go); its reading side
// is one of the host's bodies, read in pieces, and writes settle once
// written.

const kSocket = Symbol("socket");

// socketsConnect is connect(address, options): a Socket at once, its
// connection opening meanwhile (opened settles when it is open or failed).
function socketsConnect(address, options = undefined) {
  hostNeed("sockets");
  let hostname, port;
  if (address !== null && typeof address === "object") {
    hostname = String(address.hostname ?? "");
    port = Number(address.port);
    if (port > 65535) throw new TypeError("Value out of range. Must be less than or equal to 65535.");
  } else {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(String(address));
    if (!m) throw new TypeError("Specified address is missing port.");
    hostname = m[1] ?? m[2];
    port = Number(m[3]);
    if (port > 65535) throw new TypeError("Value out of range. Must be less than or equal to 65535.");
  }
  const secureTransport = options?.secureTransport ?? "off";
  if (secureTransport !== "off" && secureTransport !== "on" && secureTransport !== "starttls") {
    throw new TypeError(`Unsupported value in secureTransport socket option: ${secureTransport}`);
  }
  const tls = secureTransport === "on";
  return sockMake(hostname, secureTransport, !!options?.allowHalfOpen, () => host.sockOpen(hostname, port, tls));
}

// sockMake makes a Socket whose connection open() gives (a promise of its
// JSON [id, bodyId, remoteAddress, localAddress]).
function sockMake(hostname, secureTransport, allowHalfOpen, open) {
  const s = {
    id: 0, body: 0, closedByUs: false, readDone: false, writeDone: false,
    hostname, secureTransport, allowHalfOpen, upgraded: false,
  };
  const socket = Object.create(Socket.prototype);
  socket[kSocket] = s;
  let resolveClosed, rejectClosed;
  s.closed = new Promise((res, rej) => { resolveClosed = res; rejectClosed = rej; });
  s.closed.catch(() => {});
  s.finish = (err) => {
    if (s.finished) return;
    s.finished = true;
    if (s.id) host.sockClose(s.id);
    if (s.body && !s.readDone) host.cancelBody(s.body);
    if (err === undefined) resolveClosed(undefined);
    else rejectClosed(err);
  };
  s.opened = Promise.resolve().then(() => hostAsync(open())).then((json) => {
    const [id, body, remoteAddress, localAddress] = JSON.parse(json);
    s.id = id;
    s.body = body;
    if (s.closedByUs) host.sockClose(id);
    return { remoteAddress, localAddress };
  });
  s.opened.catch((e) => s.finish(e));
  s.readable = new ReadableStream({
    type: "bytes",
    async pull(c) {
      await s.opened;
      const chunk = await hostAsync(host.read(s.body));
      if (chunk === undefined) {
        c.close();
        const r = c.byobRequest;
        if (r) r.respond(0);
        s.readDone = true;
        // Without allowHalfOpen the peer's end of the stream ends ours too.
        if (!s.allowHalfOpen || s.writeDone) s.finish();
        return;
      }
      if (chunk.byteLength > 0) c.enqueue(new Uint8Array(chunk));
    },
    cancel() {
      if (s.body) host.cancelBody(s.body);
      s.readDone = true;
      if (s.writeDone) s.finish();
    },
  });
  s.writable = new WritableStream({
    async write(chunk) {
      await s.opened;
      let data;
      if (typeof chunk === "string") data = new TextEncoder().encode(chunk).buffer;
      else if (chunk instanceof ArrayBuffer) data = chunk;
      else if (ArrayBuffer.isView(chunk)) data = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength);
      else throw new TypeError("This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.");
      if (data.byteLength > 0) await hostAsync(host.sockWrite(s.id, data));
    },
    async close() {
      await s.opened;
      host.sockCloseWrite(s.id);
      s.writeDone = true;
      if (s.readDone) s.finish();
    },
    abort() {
      s.writeDone = true;
      if (s.readDone) s.finish();
    },
  });
  return socket;
}

class Socket {
  constructor() {
    throw new TypeError("Illegal constructor");
  }
  get readable() { return sockState(this).readable; }
  get writable() { return sockState(this).writable; }
  get opened() { return sockState(this).opened; }
  get closed() { return sockState(this).closed; }
  get upgraded() { return sockState(this).upgraded; }
  get secureTransport() { return sockState(this).secureTransport; }
  close() {
    const s = sockState(this);
    s.closedByUs = true;
    s.finish();
    return s.closed;
  }
  // startTls gives a new Socket: the same connection, after a TLS
  // handshake; this one ends (its connection is the new one's).
  startTls(options = undefined) {
    const s = sockState(this);
    if (s.secureTransport !== "starttls") {
      throw new TypeError("The `secureTransport` socket option must be set to 'starttls' for startTls to be used.");
    }
    if (s.upgraded) throw new TypeError("Cannot call startTls() more than once.");
    s.upgraded = true;
    const serverName = options?.expectedServerHostname ?? s.hostname;
    const next = sockMake(s.hostname, "on", s.allowHalfOpen, () => s.opened.then(() => {
      const p = host.sockStartTls(s.id, s.body, String(serverName));
      s.id = 0; // the connection is the new socket's now
      s.body = 0;
      s.finish();
      return p;
    }));
    return next;
  }
  get [Symbol.toStringTag]() { return "Socket"; }
}
// The members are enumerable, as workerd's are.
for (const name of ["readable", "writable", "opened", "closed", "upgraded", "secureTransport", "close", "startTls"]) {
  Object.defineProperty(Socket.prototype, name, { enumerable: true });
}

function sockState(socket) {
  const s = socket !== null && typeof socket === "object" ? socket[kSocket] : undefined;
  if (s === undefined) throw new TypeError("Illegal invocation");
  return s;
}
