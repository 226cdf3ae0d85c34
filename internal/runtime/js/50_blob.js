// 50_blob.js: Blob, File and FormData as workerd exposes them, plus the
// codecs Request and Response use for form bodies: formDataToMultipart,
// parseMultipart, parseUrlEncodedForm and parseFormBody. Other prelude files
// reach a Blob's bytes with blobBytes and wrap bytes they own with
// blobFromBytes.
//
// A Blob's bytes live in one Uint8Array that nothing ever writes to, so
// slices, File copies and streams share it instead of copying.

const blobToken = Symbol("isola.blob");
let blobBytesOf; // (x) => Uint8Array or undefined
let fdEntriesOf; // (formData) => its [name, value] list

let blobEncoder;
let blobDecoder;
function blobEncode(s) { return (blobEncoder ??= new TextEncoder()).encode(s); }
// workerd hands a Blob's bytes to JS as a UTF-8 string as they are, BOM
// included; invalid sequences become U+FFFD.
function blobDecode(bytes) { return (blobDecoder ??= new TextDecoder("utf-8", { ignoreBOM: true })).decode(bytes); }

// Web IDL USVString: lone surrogates become U+FFFD, symbols are refused.
function blobUSV(v) {
  if (typeof v === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  const s = String(v);
  return s.isWellFormed() ? s : s.toWellFormed();
}

// Like workerd, a type holding anything but printable ASCII is dropped;
// otherwise it is lower-cased.
function blobNormalizeType(t) {
  const s = String(t);
  return /[^\x20-\x7e]/.test(s) ? "" : s.toLowerCase();
}

function blobFromParts(parts, what) {
  if (parts === undefined) return new Uint8Array(0);
  if ((typeof parts !== "object" && typeof parts !== "function") || parts === null ||
      typeof parts[Symbol.iterator] !== "function") {
    throw new TypeError(`Failed to construct '${what}': The provided value cannot be converted to a sequence.`);
  }
  const pieces = [];
  let total = 0;
  let shared = true; // the only piece is another Blob's: no copy needed
  for (const p of parts) {
    let b = blobBytesOf(p);
    if (b === undefined) {
      shared = false;
      if (p instanceof ArrayBuffer) b = new Uint8Array(p);
      else if (ArrayBuffer.isView(p)) b = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
      else b = blobEncode(blobUSV(p));
    }
    if (b.byteLength === 0) continue;
    pieces.push(b);
    total += b.byteLength;
  }
  if (pieces.length === 0) return new Uint8Array(0);
  if (pieces.length === 1 && shared) return pieces[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of pieces) { out.set(b, off); off += b.byteLength; }
  return out;
}

// Reads a BlobPropertyBag or FilePropertyBag in Web IDL member order.
function blobOptions(options, what) {
  if (options === undefined || options === null) return { lastModified: undefined, type: "" };
  if (typeof options !== "object" && typeof options !== "function") {
    throw new TypeError(`Failed to construct '${what}': The provided value is not of type '${what}PropertyBag'.`);
  }
  const endings = options.endings;
  if (endings !== undefined && endings !== "transparent" && endings !== "native") {
    throw new TypeError(`Failed to construct '${what}': The provided value '${endings}' is not a valid enum value of type EndingType.`);
  }
  const lastModified = what === "File" ? options.lastModified : undefined;
  const type = options.type;
  return { lastModified, type: type === undefined ? "" : blobNormalizeType(type) };
}

class Blob {
  #bytes;
  #type;
  constructor(blobParts = undefined, options = undefined) {
    if (blobParts === blobToken) {
      this.#bytes = options.bytes;
      this.#type = options.type;
      return;
    }
    const bytes = blobFromParts(blobParts, "Blob");
    this.#type = blobOptions(options, "Blob").type;
    this.#bytes = bytes;
  }

  static {
    blobBytesOf = (x) => (typeof x === "object" && x !== null && #bytes in x ? x.#bytes : undefined);
  }

  get size() { return this.#bytes.byteLength; }
  get type() { return this.#type; }

  slice(start = undefined, end = undefined, contentType = undefined) {
    const bytes = this.#bytes;
    const size = bytes.byteLength;
    const from = blobRelativeIndex(start, 0, size);
    const to = blobRelativeIndex(end, size, size);
    const type = contentType === undefined ? "" : blobNormalizeType(contentType);
    return new Blob(blobToken, { bytes: bytes.subarray(from, Math.max(from, to)), type });
  }

  text() { return Promise.resolve(blobDecode(this.#bytes)); }
  arrayBuffer() { return Promise.resolve(this.#bytes.slice().buffer); }
  bytes() { return Promise.resolve(this.#bytes.slice()); }
  stream() { return rsFromBytes(this.#bytes); }
}
Object.defineProperty(Blob.prototype, Symbol.toStringTag, { value: "Blob", configurable: true });

function blobRelativeIndex(v, dflt, size) {
  if (v === undefined) return dflt;
  let n = Math.trunc(Number(v));
  if (Number.isNaN(n)) n = 0;
  if (n < 0) return Math.max(size + n, 0);
  return Math.min(n, size);
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(fileBits, fileName, options = undefined) {
    if (fileBits === blobToken) {
      super(blobToken, fileName);
      this.#name = fileName.name;
      this.#lastModified = fileName.lastModified;
      return;
    }
    if (arguments.length < 2) {
      throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    }
    const bytes = blobFromParts(fileBits, "File");
    const name = blobUSV(fileName);
    const o = blobOptions(options, "File");
    super(blobToken, { bytes, type: o.type });
    this.#name = name;
    this.#lastModified = o.lastModified === undefined ? Date.now() : Number(o.lastModified);
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
}
Object.defineProperty(File.prototype, Symbol.toStringTag, { value: "File", configurable: true });

function blobMakeFile(bytes, name, type, lastModified) {
  return new File(blobToken, { bytes, type, name, lastModified });
}

// ---- helpers for other prelude files ----

// The Blob's own bytes, shared: callers must copy before handing them to
// worker code or writing to them.
function blobBytes(blob) {
  const b = blobBytesOf(blob);
  if (b === undefined) throw new TypeError("The argument must be a Blob.");
  return b;
}

// A Blob that takes ownership of bytes nobody else will write to.
function blobFromBytes(bytes, type = "") {
  return new Blob(blobToken, { bytes, type: blobNormalizeType(type) });
}

// =====================================================================
// FormData
// =====================================================================

// "Create an entry": Blobs become Files ("blob" unless a filename is given).
function fdEntry(name, value, filename, argc) {
  const n = blobUSV(name);
  const bytes = blobBytesOf(value);
  if (bytes === undefined) return [n, blobUSV(value)];
  const isFile = value instanceof File;
  if (isFile && (argc < 3 || filename === undefined)) return [n, value];
  const fname = argc < 3 || filename === undefined ? "blob" : blobUSV(filename);
  return [n, blobMakeFile(bytes, fname, value.type, isFile ? value.lastModified : Date.now())];
}

function fdArgs(argc, need, method) {
  if (argc < need) {
    throw new TypeError(`Failed to execute '${method}' on 'FormData': ${need} argument${need > 1 ? "s" : ""} required, but only ${argc} present.`);
  }
}

const fdIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

class FdIterator {
  #list;
  #kind;
  #i = 0;
  constructor(token, list, kind) {
    if (token !== blobToken) throw new TypeError("Illegal constructor");
    this.#list = list;
    this.#kind = kind;
  }
  next() {
    const list = this.#list;
    if (this.#i >= list.length) return { value: undefined, done: true };
    const e = list[this.#i++];
    const k = this.#kind;
    return { value: k === "entries" ? [e[0], e[1]] : k === "keys" ? e[0] : e[1], done: false };
  }
}
Object.setPrototypeOf(FdIterator.prototype, fdIteratorPrototype);
Object.defineProperty(FdIterator.prototype, Symbol.toStringTag, { value: "FormData Iterator", configurable: true });

class FormData {
  #list = [];

  static {
    fdEntriesOf = (fd) => fd.#list;
  }

  append(name, value, filename = undefined) {
    fdArgs(arguments.length, 2, "append");
    this.#list.push(fdEntry(name, value, filename, arguments.length));
  }

  delete(name) {
    fdArgs(arguments.length, 1, "delete");
    const n = blobUSV(name);
    const list = this.#list;
    let j = 0;
    for (let i = 0; i < list.length; i++) if (list[i][0] !== n) list[j++] = list[i];
    list.length = j;
  }

  get(name) {
    fdArgs(arguments.length, 1, "get");
    const n = blobUSV(name);
    for (const e of this.#list) if (e[0] === n) return e[1];
    return null;
  }

  getAll(name) {
    fdArgs(arguments.length, 1, "getAll");
    const n = blobUSV(name);
    const out = [];
    for (const e of this.#list) if (e[0] === n) out.push(e[1]);
    return out;
  }

  has(name) {
    fdArgs(arguments.length, 1, "has");
    const n = blobUSV(name);
    for (const e of this.#list) if (e[0] === n) return true;
    return false;
  }

  set(name, value, filename = undefined) {
    fdArgs(arguments.length, 2, "set");
    const entry = fdEntry(name, value, filename, arguments.length);
    const list = this.#list;
    const n = entry[0];
    let j = 0;
    let found = false;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] !== n) list[j++] = list[i];
      else if (!found) { found = true; list[j++] = entry; }
    }
    list.length = j;
    if (!found) list.push(entry);
  }

  entries() { return new FdIterator(blobToken, this.#list, "entries"); }
  keys() { return new FdIterator(blobToken, this.#list, "keys"); }
  values() { return new FdIterator(blobToken, this.#list, "values"); }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== "function") {
      throw new TypeError("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.");
    }
    const list = this.#list;
    for (let i = 0; i < list.length; i++) callback.call(thisArg, list[i][1], list[i][0], this);
  }
}
Object.defineProperty(FormData.prototype, Symbol.iterator, {
  value: FormData.prototype.entries, writable: true, configurable: true,
});
Object.defineProperty(FormData.prototype, Symbol.toStringTag, { value: "FormData", configurable: true });

// ---- multipart/form-data encoding ----

// Quotes in names are percent-escaped as Chrome does; workerd refuses a
// trailing backslash, which the receiver could read as escaping the quote.
function fdEscape(s) {
  if (s.endsWith("\\")) throw new TypeError("Name or filename can't end with backslash");
  return s.replace(/["\n\\]/g, (c) => (c === "\"" ? "%22" : c === "\n" ? "%0A" : "\\\\"));
}

function fdBoundary() {
  let bytes;
  if (typeof host.randomBytes === "function") bytes = new Uint8Array(host.randomBytes(16));
  else {
    bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return "----isolaformdata" + hex;
}

// Serializes a FormData the way workerd does for a request or response body.
function formDataToMultipart(fd) {
  const list = fdEntriesOf(fd);
  const boundary = fdBoundary();
  const pieces = [];
  let text = [];
  let total = 0;
  const flush = () => {
    if (text.length === 0) return;
    const b = blobEncode(text.join(""));
    text = [];
    pieces.push(b);
    total += b.byteLength;
  };
  for (const [name, value] of list) {
    text.push("--", boundary, "\r\nContent-Disposition: form-data; name=\"", fdEscape(name));
    if (typeof value === "string") {
      text.push("\"\r\n\r\n", value, "\r\n");
    } else {
      text.push("\"; filename=\"", fdEscape(value.name), "\"\r\nContent-Type: ",
        value.type || "application/octet-stream", "\r\n\r\n");
      flush();
      const b = blobBytesOf(value);
      pieces.push(b);
      total += b.byteLength;
      text.push("\r\n");
    }
  }
  text.push("--", boundary, "--");
  flush();
  const body = new Uint8Array(total);
  let off = 0;
  for (const b of pieces) { body.set(b, off); off += b.byteLength; }
  return { body, contentType: "multipart/form-data; boundary=" + boundary };
}

// ---- Content-Type parsing ----

const fdTokenRe = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// A MIME type's essence and parameters (names lower-cased, first wins), or
// null when it is not a MIME type.
function fdParseMime(input) {
  const s = String(input);
  const semi = s.indexOf(";");
  const essence = (semi < 0 ? s : s.slice(0, semi)).trim().toLowerCase();
  const slash = essence.indexOf("/");
  if (slash <= 0 || !fdTokenRe.test(essence.slice(0, slash)) || !fdTokenRe.test(essence.slice(slash + 1))) return null;
  const params = new Map();
  let i = semi < 0 ? s.length : semi + 1;
  while (i < s.length) {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
    let j = i;
    while (j < s.length && s[j] !== ";" && s[j] !== "=") j++;
    const name = s.slice(i, j).toLowerCase();
    if (j >= s.length || s[j] === ";") { i = j + 1; continue; }
    i = j + 1;
    let value;
    if (s[i] === "\"") {
      const parts = [];
      i++;
      let k = i;
      while (k < s.length && s[k] !== "\"") {
        if (s[k] === "\\" && k + 1 < s.length) { parts.push(s.slice(i, k)); i = ++k; }
        k++;
      }
      parts.push(s.slice(i, k));
      value = parts.join("");
      i = k + 1;
      while (i < s.length && s[i] !== ";") i++;
    } else {
      let k = i;
      while (k < s.length && s[k] !== ";") k++;
      value = s.slice(i, k).trimEnd();
      i = k;
    }
    i++;
    if (name !== "" && fdTokenRe.test(name) && !params.has(name)) params.set(name, value);
  }
  return { essence, params };
}

// ---- multipart/form-data parsing ----

function fdIndexOf(hay, needle, from) {
  const first = needle[0];
  const n = needle.length;
  const last = hay.length - n;
  let i = from;
  while (i <= last) {
    i = hay.indexOf(first, i);
    if (i < 0 || i > last) return -1;
    let j = 1;
    while (j < n && hay[i + j] === needle[j]) j++;
    if (j === n) return i;
    i++;
  }
  return -1;
}

// The end of the first /\r?\n\r?\n/ at or after from, or -1.
function fdHeaderEnd(bytes, from) {
  let i = from;
  for (;;) {
    i = bytes.indexOf(0x0a, i);
    if (i < 0) return -1;
    if (bytes[i + 1] === 0x0a) return i + 2;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 3;
    i++;
  }
}

// Content-Disposition: a type, then ;-separated name="value" parameters.
// Quoted values may escape any character with a backslash, as Chrome reads
// them; unquoted token values are accepted too.
function fdParseDisposition(v) {
  const n = v.length;
  let i = 0;
  const ws = () => { while (i < n && (v[i] === " " || v[i] === "\t")) i++; };
  const ident = () => {
    const start = i;
    while (i < n && /[A-Za-z0-9_-]/.test(v[i])) i++;
    return v.slice(start, i);
  };
  ws();
  const type = ident();
  if (type === "") return null;
  const params = Object.create(null);
  for (;;) {
    ws();
    if (i >= n || v[i] !== ";") break;
    i++;
    ws();
    const name = ident().toLowerCase();
    ws();
    if (name === "" || v[i] !== "=") return null;
    i++;
    ws();
    let value;
    if (v[i] === "\"") {
      const parts = [];
      let start = ++i;
      while (i < n && v[i] !== "\"") {
        if (v[i] === "\\" && i + 1 < n) { parts.push(v.slice(start, i)); start = ++i; }
        i++;
      }
      if (i >= n) return null;
      parts.push(v.slice(start, i));
      i++;
      value = parts.join("");
    } else {
      const start = i;
      while (i < n && v[i] !== ";" && v[i] !== " " && v[i] !== "\t") i++;
      value = v.slice(start, i);
    }
    params[name] = value;
  }
  return { type, params };
}

function fdParseHeaders(text) {
  let disposition, type;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!fdTokenRe.test(name)) throw new TypeError("FormData part had invalid headers.");
    const lower = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (lower === "content-disposition") disposition = value;
    else if (lower === "content-type") type = value;
  }
  return { disposition, type };
}

function fdParseMultipartInto(list, bytes, boundary) {
  // Parts are delimited by (CR)LF--boundary; a bare LF is accepted too.
  const delim = blobEncode("\n--" + boundary);
  let pos = fdIndexOf(bytes, delim.subarray(1), 0);
  if (pos >= 0) pos += delim.length - 1;
  if (pos < 0 || pos >= bytes.length) throw new TypeError("No initial boundary string (or you have a truncated message).");
  for (;;) {
    if (bytes[pos] === 0x0a) pos += 1;
    else if (bytes[pos] === 0x0d && bytes[pos + 1] === 0x0a) pos += 2;
    else if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return;
    else throw new TypeError("Boundary string was not succeeded by CRLF, LF, or '--'.");
    const headEnd = fdHeaderEnd(bytes, pos);
    if (headEnd < 0) throw new TypeError("No multipart message header termination found.");
    const headers = fdParseHeaders(blobDecode(bytes.subarray(pos, headEnd)));
    pos = headEnd;
    if (headers.disposition === undefined) throw new TypeError("No valid Content-Disposition header found in FormData part.");
    const d = fdParseDisposition(headers.disposition);
    if (d === null) throw new TypeError("Invalid Content-Disposition header found in FormData part.");
    if (d.type !== "form-data") {
      throw new TypeError(`Content-Disposition header for FormData part must have the value "form-data", possibly followed by parameters. Got: "${d.type}"`);
    }
    const name = d.params.name;
    if (name === undefined) throw new TypeError("Content-Disposition header in FormData part is missing a name.");
    const end = fdIndexOf(bytes, delim, pos);
    if (end < 0 || end + delim.length >= bytes.length) throw new TypeError("No subsequent boundary string after multipart message.");
    const contentEnd = end > pos && bytes[end - 1] === 0x0d ? end - 1 : end;
    const content = bytes.subarray(pos, contentEnd);
    pos = end + delim.length;
    const filename = d.params.filename;
    if (filename === undefined) list.push([blobUSV(name), blobDecode(content)]);
    else list.push([blobUSV(name), blobMakeFile(content.slice(), blobUSV(filename), headers.type ?? "", Date.now())]);
  }
}

const FD_UNRECOGNIZED = "Unrecognized Content-Type header value. FormData can only parse the following MIME types: " +
  "multipart/form-data, application/x-www-form-urlencoded";

// Parses a multipart/form-data body; throws a TypeError, with workerd's
// message, on anything malformed.
function parseMultipart(bytes, contentType) {
  const mime = fdParseMime(contentType);
  if (mime === null || mime.essence !== "multipart/form-data") throw new TypeError(FD_UNRECOGNIZED);
  const boundary = mime.params.get("boundary");
  if (boundary === undefined) {
    throw new TypeError("No boundary string in Content-Type header. The multipart/form-data MIME type requires a " +
      "boundary parameter, e.g. 'Content-Type: multipart/form-data; boundary=\"abcd\"'. See RFC 7578, section 4.");
  }
  const fd = new FormData();
  fdParseMultipartInto(fdEntriesOf(fd), toBytes(bytes), boundary);
  return fd;
}

// ---- application/x-www-form-urlencoded ----

function fdHex(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

// Percent-decoding per the URL Standard: malformed escapes stay as they are
// and bad UTF-8 becomes U+FFFD. decodeURIComponent covers the common case.
function fdFormDecode(s) {
  if (s.includes("+")) s = s.replaceAll("+", " ");
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    const input = blobEncode(s);
    const out = new Uint8Array(input.length);
    let n = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input[i];
      if (c === 0x25 && i + 2 < input.length && fdHex(input[i + 1]) >= 0 && fdHex(input[i + 2]) >= 0) {
        out[n++] = fdHex(input[i + 1]) * 16 + fdHex(input[i + 2]);
        i += 2;
      } else {
        out[n++] = c;
      }
    }
    return blobDecode(out.subarray(0, n));
  }
}

function parseUrlEncodedForm(text) {
  const fd = new FormData();
  const list = fdEntriesOf(fd);
  for (const seq of String(text).split("&")) {
    if (seq === "") continue;
    const eq = seq.indexOf("=");
    const name = eq < 0 ? seq : seq.slice(0, eq);
    const value = eq < 0 ? "" : seq.slice(eq + 1);
    list.push([blobUSV(fdFormDecode(name)), blobUSV(fdFormDecode(value))]);
  }
  return fd;
}

// Response.formData()'s parser: picks the codec from the Content-Type.
function parseFormBody(bytes, contentType) {
  const mime = fdParseMime(contentType);
  if (mime !== null && mime.essence === "multipart/form-data") return parseMultipart(bytes, contentType);
  if (mime !== null && mime.essence === "application/x-www-form-urlencoded") {
    const charset = mime.params.get("charset");
    if (charset !== undefined && !/^(utf-8|utf8|unicode-1-1-utf-8)$/i.test(charset)) {
      throw new TypeError("Non-utf-8 application/x-www-form-urlencoded body.");
    }
    return parseUrlEncodedForm(blobDecode(toBytes(bytes)));
  }
  throw new TypeError(FD_UNRECOGNIZED);
}

defineGlobal("Blob", Blob);
defineGlobal("File", File);
defineGlobal("FormData", FormData);
