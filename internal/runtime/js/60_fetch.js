// 60_fetch.js: Headers, Request, Response and fetch(), with bodies that stay
// in their cheapest form (a string, bytes, or a host stream id) until the
// worker asks for something else. A handler that returns new Response("hi")
// never builds a ReadableStream.

const fetchTextEncoder = () => (fetchEncoder ??= new TextEncoder());
let fetchEncoder;
const fetchTextDecode = (bytes) => new TextDecoder().decode(bytes);

// host promises reject with "Name: message" strings.
function hostAsync(p) {
  return p.then(undefined, (e) => { throw typeof e === "string" ? hostError(e) : e; });
}

// ---------------------------------------------------------------- Headers

const headerNameRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex
const headerValueBadRe = /[\0\r\n]/;

// A value that needs neither trimming nor refusing, the usual one, costs
// one regular expression test (QuickJS spends about a microsecond on each).
// Made on first use, as is the table of names below: every isolate starts
// with this unit, and most never set a header.
let headerValueWorkRe = null;
function normalizeHeaderValue(v) {
  v = String(v);
  // eslint-disable-next-line no-control-regex
  if (!(headerValueWorkRe ??= /^[\t\n\r ]|[\t\n\r ]$|[\0\r\n]/).test(v)) return v;
  v = v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (headerValueBadRe.test(v)) throw new TypeError("Invalid header value.");
  return v;
}
// Names checked once: a worker uses the same few header names over and over.
let headerNamesSeen = null;
function normalizeHeaderName(n) {
  if (typeof n === "string" && headerNamesSeen !== null) {
    const lower = headerNamesSeen.get(n);
    if (lower !== undefined) return lower;
  }
  n = String(n);
  if (!headerNameRe.test(n)) throw new TypeError(`Invalid header name.`);
  const lower = n.toLowerCase();
  if (headerNamesSeen === null || headerNamesSeen.size >= 256) headerNamesSeen = new Map();
  headerNamesSeen.set(n, lower);
  return lower;
}

const kHeaderList = Symbol("headers");
// A plain function, not a private method: private methods cost every
// instance a brand at construction, and Headers are made per request.
function headersCheck(h) {
  if (h[kGuard] === "immutable") throw new TypeError("Can't modify immutable headers.");
}
const kGuard = Symbol("guard");

class Headers {
  constructor(init = undefined) {
    // name -> array of values; names lower-case.
    this[kHeaderList] = new Map();
    this[kGuard] = "none";
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const [k, vs] of init[kHeaderList]) this[kHeaderList].set(k, vs.slice());
      return;
    }
    if (typeof init !== "object" && typeof init !== "function") {
      throw new TypeError("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.");
    }
    if (typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const arr = typeof pair === "string" ? null : Array.from(pair);
        if (!arr || arr.length !== 2) {
          throw new TypeError("Failed to construct 'Headers': Header entries must contain exactly two items.");
        }
        this.append(arr[0], arr[1]);
      }
      return;
    }
    for (const k of Object.keys(init)) this.append(k, init[k]);
  }
  append(name, value) {
    headersCheck(this);
    name = normalizeHeaderName(name);
    value = normalizeHeaderValue(value);
    const list = this[kHeaderList].get(name);
    if (list) list.push(value); else this[kHeaderList].set(name, [value]);
  }
  delete(name) {
    headersCheck(this);
    this[kHeaderList].delete(normalizeHeaderName(name));
  }
  get(name) {
    const list = this[kHeaderList].get(normalizeHeaderName(name));
    return list ? list.join(", ") : null;
  }
  getAll(name) {
    name = normalizeHeaderName(name);
    if (name !== "set-cookie") throw new TypeError("getAll() can only be used with the header name \"Set-Cookie\".");
    return this.getSetCookie();
  }
  getSetCookie() {
    const list = this[kHeaderList].get("set-cookie");
    return list ? list.slice() : [];
  }
  has(name) { return this[kHeaderList].has(normalizeHeaderName(name)); }
  set(name, value) {
    headersCheck(this);
    name = normalizeHeaderName(name);
    this[kHeaderList].set(name, [normalizeHeaderValue(value)]);
  }
  forEach(callback, thisArg = undefined) {
    for (const [k, v] of this) callback.call(thisArg, v, k, this);
  }
  entries() { return new HeadersIterator(this, 0); }
  keys() { return new HeadersIterator(this, 1); }
  values() { return new HeadersIterator(this, 2); }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "Headers"; }
}

// Headers cross to the host as one string, "name\0value\0name\0value":
// cheaper than JSON both ways on the per-request path.
// HeadersIterator walks a snapshot of the headers, sorted by name, with
// set-cookie values kept apart. Its results are {done, value}, in that key
// order, as workerd's iterators make them.
const headersIteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
class HeadersIterator {
  constructor(headers, kind) {
    const pairs = [];
    const map = headers[kHeaderList];
    for (const name of [...map.keys()].sort()) {
      const list = map.get(name);
      if (name === "set-cookie") { for (const v of list) pairs.push([name, v]); }
      else pairs.push([name, list.join(", ")]);
    }
    this._pairs = pairs;
    this._kind = kind;
    this._i = 0;
  }
  next() {
    if (this._i >= this._pairs.length) return { done: true, value: undefined };
    const p = this._pairs[this._i++];
    return { done: false, value: this._kind === 0 ? p : this._kind === 1 ? p[0] : p[1] };
  }
  [Symbol.iterator]() { return this; }
  get [Symbol.toStringTag]() { return "HeadersIterator"; }
}
Object.setPrototypeOf(HeadersIterator.prototype, headersIteratorProto);

function headersToBlob(h) {
  const out = [];
  for (const [k, list] of h[kHeaderList]) for (const v of list) out.push(k, v);
  return out.join("\0");
}
function headersFromBlob(blob, guard) {
  const h = new Headers();
  h[kGuard] = guard;
  if (!blob) return h;
  const parts = blob.split("\0");
  const map = h[kHeaderList];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const list = map.get(parts[i]);
    if (list) list.push(parts[i + 1]); else map.set(parts[i], [parts[i + 1]]);
  }
  return h;
}
function headersToJSON(h) {
  const out = [];
  for (const [k, list] of h[kHeaderList]) for (const v of list) out.push([k, v]);
  return JSON.stringify(out);
}
function headersFromPairs(pairs, guard) {
  const h = new Headers();
  for (const [k, v] of pairs) {
    const name = k.toLowerCase();
    const list = h[kHeaderList].get(name);
    if (list) list.push(v); else h[kHeaderList].set(name, [v]);
  }
  h[kGuard] = guard;
  return h;
}

// ---------------------------------------------------------------- bodies

const kBody = Symbol("body");

// A body is one of:
//   null                              no body
//   {text}                            a string, not yet encoded
//   {bytes}                           a Uint8Array
//   {hostId}                          a stream the host reads (request/fetch bodies)
//   {stream}                          a ReadableStream
// plus `used` once consumed. `stream` is created lazily by the body getter.
function extractBody(init) {
  if (init === null || init === undefined) return { body: null, type: null };
  if (typeof init === "string") return { body: { text: init }, type: "text/plain;charset=UTF-8" };
  if (init instanceof ArrayBuffer) return { body: { bytes: new Uint8Array(init.slice(0)) }, type: null };
  if (ArrayBuffer.isView(init)) return { body: { bytes: toBytes(init).slice() }, type: null };
  if (isLoaded("Blob") && init instanceof Blob) {
    // blobBytes is the Blob's own memory: copy, or the body would alias it.
    return { body: { bytes: blobBytes(init).slice() }, type: init.type || null };
  }
  if (isLoaded("URLSearchParams") && init instanceof URLSearchParams) {
    return { body: { text: init.toString() }, type: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  if (isLoaded("FormData") && init instanceof FormData) {
    const mp = formDataToMultipart(init);
    return { body: { bytes: mp.body }, type: mp.contentType };
  }
  if (isLoaded("ReadableStream") && init instanceof ReadableStream) {
    if (init.locked) throw new TypeError("This ReadableStream is currently locked to a reader.");
    if (isLoaded("streamDisturbed") && streamDisturbed(init)) {
      throw new TypeError("This ReadableStream is disturbed (has already been read from), and cannot be used as a body.");
    }
    return { body: { stream: init }, type: null };
  }
  return { body: { text: String(init) }, type: "text/plain;charset=UTF-8" };
}

function bodyStream(b) {
  if (!b) return null;
  if (b.stream) return b.stream;
  if (b.used) {
    // Consumed without a stream (text(), json()...): what is left is an
    // empty stream that has been read from, so it cannot be a body again.
    b.stream = new ReadableStream({ start(c) { c.close(); } });
    const reader = b.stream.getReader();
    reader.read();
    reader.releaseLock();
    return b.stream;
  }
  if (b.hostId !== undefined) {
    const id = b.hostId;
    let finished = false;
    b.stream = new ReadableStream({
      type: "bytes",
      async pull(c) {
        const chunk = await hostAsync(host.read(id));
        if (chunk === undefined) { finished = true; c.close(); const r = c.byobRequest; if (r) r.respond(0); return; }
        if (chunk.byteLength > 0) c.enqueue(new Uint8Array(chunk));
      },
      cancel() { if (!finished) host.cancelBody(id); },
    });
    b.hostOwned = true;
    return b.stream;
  }
  const bytes = b.bytes ?? fetchTextEncoder().encode(b.text);
  b.stream = new ReadableStream({
    type: "bytes",
    start(c) {
      if (bytes.byteLength > 0) c.enqueue(bytes.slice());
      c.close();
    },
  });
  return b.stream;
}

function bodyUsed(b) {
  if (!b) return false;
  if (b.used) return true;
  return !!(b.stream && isLoaded("streamDisturbed") && streamDisturbed(b.stream));
}

function consumeCheck(obj) {
  const b = obj[kBody];
  if (bodyUsed(b)) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  if (b && b.stream && b.stream.locked) throw new TypeError("This ReadableStream is currently locked to a reader.");
}

// consumeBytes reads the whole body once, by the cheapest route.
async function consumeBytes(obj) {
  consumeCheck(obj);
  const b = obj[kBody];
  if (!b) return new Uint8Array(0);
  b.used = true;
  if (b.text !== undefined && !b.stream) return fetchTextEncoder().encode(b.text);
  if (b.bytes && !b.stream) return b.bytes;
  if (b.hostId !== undefined && !b.stream) {
    const buf = await hostAsync(host.readAll(b.hostId));
    return new Uint8Array(buf);
  }
  return readAllBytes(b.stream);
}

async function consumeText(obj) {
  const b = obj[kBody];
  if (b && b.text !== undefined && !b.stream && !bodyUsed(b)) {
    b.used = true;
    return b.text;
  }
  return fetchTextDecode(await consumeBytes(obj));
}

// serializeMimeType writes a MIME type the way the MIME Sniffing standard
// serializes it (and workerd hands it to Blob): "Text/Plain; charset=utf-8"
// becomes "text/plain;charset=utf-8".
function serializeMimeType(value) {
  const parts = value.split(";");
  const essence = parts[0].trim().toLowerCase();
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(essence)) return "";
  let out = essence;
  for (const p of parts.slice(1)) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    const v = p.slice(eq + 1).trim();
    if (name) out += ";" + name + "=" + v;
  }
  return out;
}

const bodyMixin = {
  get body() { return bodyStream(this[kBody]); },
  get bodyUsed() { return bodyUsed(this[kBody]); },
  async arrayBuffer() {
    const bytes = await consumeBytes(this);
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
    return bytes.slice().buffer;
  },
  async bytes() { return new Uint8Array(await this.arrayBuffer()); },
  async text() { return consumeText(this); },
  async json() { return JSON.parse(await consumeText(this)); },
  async blob() {
    const bytes = await consumeBytes(this);
    return new Blob([bytes], { type: serializeMimeType(this.headers.get("content-type") || "") });
  },
  async formData() {
    const type = this.headers.get("content-type") || "";
    if (/^multipart\/form-data/i.test(type)) return parseMultipart(await consumeBytes(this), type);
    if (/^application\/x-www-form-urlencoded/i.test(type)) return parseUrlEncodedForm(await consumeText(this));
    throw new TypeError("Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded");
  },
};

function mixBody(cls) {
  for (const key of Object.getOwnPropertyNames(bodyMixin)) {
    Object.defineProperty(cls.prototype, key, Object.getOwnPropertyDescriptor(bodyMixin, key));
  }
}

// cloneBody tees a stream body, or copies a cheap one.
function cloneBody(obj) {
  const b = obj[kBody];
  if (!b) return null;
  if (bodyUsed(b)) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  if (b.text !== undefined && !b.stream) return { text: b.text };
  if (b.bytes && !b.stream) return { bytes: b.bytes };
  const [a, c] = bodyStream(b).tee();
  b.stream = a;
  return { stream: c };
}

// ---------------------------------------------------------------- Request

// workerd accepts these methods, in any case, and no others.
const knownMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "PURGE", "OPTIONS", "TRACE", "COPY", "LOCK",
  "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE",
  "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "QUERY", "BAN"];
const kRequest = Symbol("request");

function normalizeMethod(m) {
  m = String(m);
  const up = m.toUpperCase();
  if (knownMethods.includes(up)) return up;
  throw new TypeError(`Invalid HTTP method string: ${m}`);
}

class Request {
  constructor(input, init = undefined) {
    if (init !== undefined && init !== null && typeof init !== "object") {
      throw new TypeError("Failed to construct 'Request': cannot convert init to dictionary.");
    }
    init = init ?? {};
    let state;
    if (input instanceof Request) {
      const src = input[kRequest];
      state = { method: src.method, url: src.url, redirect: src.redirect, signal: src.signal, cf: src.cf };
      state.headers = new Headers(input.headers);
      if (init.body === undefined && input[kBody]) {
        if (bodyUsed(input[kBody])) throw new TypeError("Cannot reconstruct a Request with a used body.");
        this[kBody] = input[kBody];
        input[kBody] = { used: true };
      }
    } else {
      let url;
      try {
        url = new URL(String(input)).href;
      } catch {
        throw new TypeError("Invalid URL string.");
      }
      state = { method: "GET", url, redirect: "follow", signal: null, cf: undefined, headers: new Headers() };
    }
    if (init.method !== undefined) state.method = normalizeMethod(init.method);
    if (init.headers !== undefined) state.headers = new Headers(init.headers);
    if (init.redirect !== undefined) {
      if (!["follow", "manual", "error"].includes(init.redirect)) {
        throw new TypeError(`Failed to construct 'Request': '${init.redirect}' is not a valid enum value of type RequestRedirect.`);
      }
      state.redirect = init.redirect;
    }
    if (init.signal !== undefined) state.signal = init.signal;
    if (init.cache !== undefined) {
      if (!workerFeatures.requestCache) throw new Error("The 'cache' field on 'RequestInitializerDict' is not implemented.");
      if (init.cache !== "no-store" && init.cache !== "no-cache") {
        throw new TypeError(`Unsupported cache mode: ${init.cache}`);
      }
      state.cache = init.cache;
    }
    if (init.cf !== undefined) state.cf = init.cf;
    if (init.body !== undefined && init.body !== null) {
      if (state.method === "GET" || state.method === "HEAD") {
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      }
      const { body, type } = extractBody(init.body);
      this[kBody] = body;
      if (type && !state.headers.has("content-type")) state.headers.set("content-type", type);
    } else if (init.body === null) {
      this[kBody] = null;
    }
    if (this[kBody] === undefined) this[kBody] = null;
    this[kRequest] = state;
  }
  get method() { return this[kRequest].method; }
  get url() { return this[kRequest].url; }
  get headers() {
    const st = this[kRequest];
    // Incoming requests keep their header pairs until a handler looks.
    return st.headers ?? (st.headers = headersFromBlob(st.headerBlob, "immutable"));
  }
  get redirect() { return this[kRequest].redirect; }
  get signal() { return this[kRequest].signal ?? (this[kRequest].signal = new AbortController().signal); }
  get cf() { return this[kRequest].cf; }
  get fetcher() { return null; }
  get integrity() { return ""; }
  get keepalive() { return false; }
  get cache() { return this[kRequest].cache; }
  clone() {
    const r = Object.create(Request.prototype);
    const s = this[kRequest];
    r[kRequest] = { ...s, headers: new Headers(this.headers) };
    r[kBody] = cloneBody(this);
    return r;
  }
  get [Symbol.toStringTag]() { return "Request"; }
}
mixBody(Request);

// trustedRequest rebuilds a Request that another isolate already checked
// (its URL is normalised), without parsing the URL again: an RPC callee
// then need not load the URL unit at all. body is a string, an ArrayBuffer
// or undefined.
function trustedRequest(method, url, pairs, redirect, body) {
  const r = Object.create(Request.prototype);
  r[kRequest] = { method, url, redirect, signal: null, cf: undefined, headers: headersFromPairs(pairs, "none") };
  r[kBody] = body === undefined ? null : typeof body === "string" ? { text: body } : { bytes: new Uint8Array(body) };
  return r;
}

// incomingRequest builds the Request a fetch handler receives. The host
// sends header names lower-cased.
function incomingRequest(method, url, headerBlob, bodyId) {
  const r = Object.create(Request.prototype);
  r[kRequest] = {
    method, url, redirect: "manual", signal: null, cf: undefined,
    headers: undefined, headerBlob,
  };
  r[kBody] = bodyId ? { hostId: bodyId } : null;
  return r;
}

// ---------------------------------------------------------------- Response

const kResponse = Symbol("response");
const nullBodyStatus = [101, 204, 205, 304];
const redirectStatus = [301, 302, 303, 307, 308];

class Response {
  constructor(body = null, init = undefined) {
    // The everyday response, new Response("text") or Response.json(v),
    // without the dictionary's checks: nearly every request makes one.
    if (init === undefined && typeof body === "string") {
      checkGlobalScope();
      this[kBody] = { text: body };
      this[kResponse] = {
        status: 200, statusText: "", headers: null, contentType: "text/plain;charset=UTF-8",
        url: "", redirected: false, type: "default", webSocket: null, cf: undefined,
      };
      return;
    }
    if (init !== undefined && init !== null && typeof init !== "object") {
      throw new TypeError("Failed to construct 'Response': cannot convert init to dictionary.");
    }
    checkGlobalScope();
    init = init ?? {};
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      if (!(status === 101 && init.webSocket)) {
        throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive.`);
      }
    } else if (init.webSocket) {
      wsRefuseStatus();
    }
    const statusText = init.statusText === undefined ? "" : String(init.statusText);
    if (statusText !== "" && !/^[\t\x20-\x7e\x80-\xff]*$/.test(statusText)) throw new TypeError("Invalid statusText.");
    // Without init.headers the Headers object is made only if the worker
    // asks for it; until then the body's content type is all there is.
    const headers = init.headers === undefined ? null : new Headers(init.headers);
    const { body: b, type } = extractBody(body);
    // An empty body is no body as far as null-body statuses go (workerd).
    if (b && nullBodyStatus.includes(status) && !(b.text === "" || (b.bytes && b.bytes.byteLength === 0))) {
      throw new TypeError(`Response with null body status (101, 204, 205, or 304) cannot have a body.`);
    }
    let contentType = null;
    if (type) {
      if (headers === null) contentType = type;
      else if (!headers.has("content-type")) headers.set("content-type", type);
    }
    this[kBody] = b;
    this[kResponse] = { status, statusText, headers, contentType, url: "", redirected: false, type: "default", webSocket: init.webSocket ?? null, cf: init.cf };
  }
  static json(data, init = undefined) {
    // workerd answers JSON.stringify(undefined) with the body "undefined".
    const text = String(JSON.stringify(data));
    if (init === undefined || (init !== null && typeof init === "object" && init.headers === undefined)) {
      // No headers given: the content type is all there is, and no Headers
      // object is made until the worker asks for one (as for a text body).
      const r = new Response(text, init);
      r[kResponse].contentType = "application/json";
      return r;
    }
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    let href;
    try { href = new URL(String(url)).href; } catch { throw new TypeError("Invalid URL string."); }
    status = Number(status);
    if (!redirectStatus.includes(status)) throw new RangeError(`${status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.`);
    const r = new Response(null, { status, headers: { location: href } });
    r[kResponse].headers[kGuard] = "immutable";
    return r;
  }
  static error() {
    const r = new Response(null, { status: 200 });
    // workerd leaves Response.error()'s headers mutable; so do we.
    Object.assign(r[kResponse], { status: 0, type: "error" });
    return r;
  }
  get status() { return this[kResponse].status; }
  get statusText() { return this[kResponse].statusText; }
  get ok() { const s = this[kResponse].status; return s >= 200 && s <= 299; }
  get headers() { return responseHeaders(this[kResponse]); }
  get url() { return this[kResponse].url; }
  get redirected() { return this[kResponse].redirected; }
  get type() { return this[kResponse].type; }
  get webSocket() { return this[kResponse].webSocket; }
  get cf() { return this[kResponse].cf; }
  clone() {
    const r = Object.create(Response.prototype);
    const s = this[kResponse];
    r[kResponse] = { ...s, headers: new Headers(responseHeaders(s)) };
    r[kBody] = cloneBody(this);
    return r;
  }
  get [Symbol.toStringTag]() { return "Response"; }
}
mixBody(Response);

function responseHeaders(s) {
  if (s.headers === null) {
    if (s.headerBlob !== undefined) {
      s.headers = headersFromBlob(s.headerBlob, s.headerGuard);
      return s.headers;
    }
    s.headers = new Headers();
    if (s.contentType !== null) s.headers[kHeaderList].set("content-type", [s.contentType]);
  }
  return s.headers;
}

// responseHeaderBlob gives a response's headers as the host takes them,
// without making a Headers object the worker never asked for.
function responseHeaderBlob(s) {
  if (s.headers !== null) return headersToBlob(s.headers);
  if (s.headerBlob !== undefined) return s.headerBlob;
  return s.contentType !== null ? "content-type\0" + s.contentType : "";
}

// ---- fetch() through a stub, in HTTP's terms (stubfetch.go) ----

// hostBody gives a body as the host takes it: null, a string, an
// ArrayBuffer, or the id of a host stream; undefined when it is a stream of
// JavaScript's own (which crosses the slow way) or was used already.
function hostBody(b) {
  if (!b) return null;
  if (b.stream || bodyUsed(b)) return undefined;
  let body;
  if (b.text !== undefined) body = b.text;
  else if (b.bytes) body = exactBuffer(b.bytes);
  else if (b.hostId !== undefined) body = b.hostId;
  else return undefined;
  b.used = true;
  return body;
}

// requestParts gives what a fetch() through a stub sends: [method, url,
// headers, body], or null when the request must be encoded.
function requestParts(req) {
  const body = hostBody(req[kBody]);
  if (body === undefined) return null;
  const s = req[kRequest];
  return [s.method, s.url, s.headers ? headersToBlob(s.headers) : s.headerBlob, body];
}

// responseParts gives what a fetch() through a stub answers with:
// [status, statusText, headers, body], or null when the response must be
// encoded.
function responseParts(resp) {
  const s = resp[kResponse];
  if (s.webSocket !== null) return null;
  const body = hostBody(resp[kBody]);
  if (body === undefined) return null;
  return [s.status, s.statusText, responseHeaderBlob(s), body];
}

function bodyFromHost(kind, body) {
  switch (kind) {
    case 1: return { text: body };
    case 2: return { bytes: new Uint8Array(body) };
    case 3: return { hostId: body };
  }
  return null;
}

// receivedRequest is the Request a fetch() through a stub delivers: an
// incoming HTTP request, as in workerd (redirect "manual", immutable
// headers), whose headers stay a blob until a handler looks.
function receivedRequest(method, url, headerBlob, kind, body) {
  const r = Object.create(Request.prototype);
  r[kRequest] = { method, url, redirect: "manual", signal: null, cf: undefined, headers: undefined, headerBlob };
  r[kBody] = bodyFromHost(kind, body);
  return r;
}

// fetchedResponse is the Response a fetch() through a stub resolves to: a
// response from the network, as in workerd (the request's URL, immutable
// headers).
function fetchedResponse(status, statusText, headerBlob, kind, body, url, webSocket = null) {
  const r = Object.create(Response.prototype);
  r[kBody] = bodyFromHost(kind, body);
  r[kResponse] = {
    status, statusText, headers: null, headerBlob, headerGuard: "immutable", contentType: null,
    url, redirected: false, type: "default", webSocket, cf: undefined,
  };
  return r;
}

// sendResponse hands a handler's Response to the host: cheap bodies in one
// synchronous call (the common case, kept free of promises), streams chunk by
// chunk with back-pressure. It returns a promise only for streams.
function sendResponse(id, resp) {
  const s = resp[kResponse];
  const headers = responseHeaderBlob(s);
  const b = resp[kBody];
  if (!b) { host.respond(id, s.status, s.statusText, headers, null, s.webSocket); return; }
  if (bodyUsed(b)) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  if (!b.stream && b.text !== undefined) { b.used = true; host.respond(id, s.status, s.statusText, headers, b.text); return; }
  if (!b.stream && b.bytes) { b.used = true; host.respond(id, s.status, s.statusText, headers, exactBuffer(b.bytes)); return; }
  return streamResponse(id, s, headers, b);
}

async function streamResponse(id, s, headers, b) {
  const stream = bodyStream(b);
  b.used = true;
  const reader = stream.getReader();
  const streamId = host.respond(id, s.status, s.statusText, headers, true);
  if (!streamId) { reader.cancel(); return; }
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (typeof value === "string" || !(value instanceof ArrayBuffer || ArrayBuffer.isView(value))) {
        throw new TypeError("This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.");
      }
      if (value.byteLength === 0) continue;
      await hostAsync(host.write(Number(streamId), exactBuffer(value)));
    }
    host.closeStream(Number(streamId), "");
  } catch (e) {
    reader.cancel(e).catch(() => {});
    host.closeStream(Number(streamId), errorString(e));
  }
}

function errorString(e) {
  if (e && typeof e === "object" && "stack" in e && e.name !== undefined) {
    const stack = e.stack ? String(e.stack).replace(/\n+$/, "") : "";
    return `${e.name}: ${e.message}` + (stack ? "\n" + stack : "");
  }
  try { return String(e); } catch { return "(error)"; }
}

// ---------------------------------------------------------------- fetch()

async function fetchImpl(input, init) {
  let req = new Request(input, init);
  const signal = init?.signal ?? (input instanceof Request ? input[kRequest].signal : null);
  if (signal?.aborted) throw signal.reason;
  for (let redirects = 0; ; redirects++) {
    const url = new URL(req.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Fetch API cannot load: ${req.url}`);
    }
    const body = req[kBody] ? exactBuffer(await consumeBytes(req)) : undefined;
    const meta = { method: req.method, url: req.url, headers: JSON.parse(headersToJSON(req.headers)) };
    const pending = hostAsync(host.fetch(JSON.stringify(meta), body));
    const raw = JSON.parse(signal ? await abortable(pending, signal) : await pending);
    const status = raw.status;
    const location = (raw.headers || []).find(([k]) => k.toLowerCase() === "location")?.[1];
    if (redirectStatus.includes(status) && location !== undefined && req.redirect !== "manual") {
      host.cancelBody(raw.body);
      if (req.redirect === "error") throw new TypeError("Redirect with redirect mode 'error'.");
      if (redirects >= 20) throw new TypeError("Too many redirects.");
      const next = new URL(location, req.url).href;
      const toGet = status === 303 || ((status === 301 || status === 302) && req.method === "POST");
      req = new Request(next, {
        method: toGet ? "GET" : req.method,
        headers: req.headers,
        redirect: req.redirect,
        body: toGet ? undefined : body,
      });
      continue;
    }
    const resp = Object.create(Response.prototype);
    resp[kBody] = nullBodyStatus.includes(status) || req.method === "HEAD" ? (host.cancelBody(raw.body), null) : { hostId: raw.body };
    resp[kResponse] = {
      status, statusText: raw.statusText, headers: headersFromPairs(raw.headers || [], "immutable"), contentType: null,
      url: req.url, redirected: redirects > 0, type: "default", webSocket: raw.webSocket ? wsFromHost(raw.webSocket) : null, cf: undefined,
    };
    return resp;
  }
}

function abortable(p, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then((v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
      (e) => { signal.removeEventListener("abort", onAbort); reject(e); });
  });
}

// outboundFetch is what the global fetch() calls; bindings replace it to
// route traffic (a Worker Loader's globalOutbound, for instance).
let outboundFetch = fetchImpl;

defineGlobal("Headers", Headers);
defineGlobal("Request", Request);
defineGlobal("Response", Response);
defineGlobal("fetch", function fetch(input, init = undefined) {
  try {
    return Promise.resolve(outboundFetch(input, init));
  } catch (e) {
    return Promise.reject(e);
  }
});
