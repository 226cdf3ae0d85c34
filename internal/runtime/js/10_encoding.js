// 10_encoding.js: TextEncoder, TextDecoder, atob and btoa.
//
// Under modernc's QuickJS every JS loop iteration is slow (~100-200ns) while
// the engine's builtins run at native speed, so the hot paths here hand the
// byte work to builtins: UTF-8 goes through encodeURIComponent/unescape and
// escape/decodeURIComponent, base64 through Uint8Array.fromBase64/toBase64,
// and bytes become strings with String.fromCharCode.apply in 8k chunks. The
// hand-written decoder below only runs on malformed input, where it has to
// place U+FFFD exactly as the Encoding Standard says.
//
// Encodings: UTF-8, UTF-16LE/BE and windows-1252 (which the latin1, ascii
// and iso-8859-1 labels name). The other legacy encodings workerd decodes
// (iso-8859-2, koi8-r, shift_jis, gbk, ...) are not here: their labels get
// the RangeError of an unknown one.

const ENC_CHUNK = 8192;
const ENC_NON_ASCII = /[^\x00-\x7f]/;
const ENC_HIGH_BYTE = /[\x80-\xff]/;
const ENC_NON_LATIN1 = /[^\x00-\xff]/;

// encBytesToLatin1 maps each byte (or UTF-16 code unit) to the code point of
// the same value.
function encBytesToLatin1(units) {
  const n = units.length;
  if (n <= ENC_CHUNK) return String.fromCharCode.apply(null, units);
  const parts = [];
  for (let i = 0; i < n; i += ENC_CHUNK) {
    parts.push(String.fromCharCode.apply(null, units.subarray(i, i + ENC_CHUNK)));
  }
  return parts.join("");
}

// encLatin1ToBytes is the inverse for strings known to hold only U+0000-U+00FF.
function encLatin1ToBytes(str) {
  const n = str.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = str.charCodeAt(i);
  return out;
}

// encUtf8Encode returns the UTF-8 bytes of str, lone surrogates as U+FFFD.
function encUtf8Encode(str) {
  if (ENC_NON_ASCII.test(str)) {
    // encodeURIComponent rejects lone surrogates, hence toWellFormed first;
    // its output holds only ASCII and %XX, so unescape gives one char a byte.
    str = unescape(encodeURIComponent(str.toWellFormed()));
  }
  return encLatin1ToBytes(str);
}

// encUtf8DecodeAll decodes complete UTF-8 input; a malformed sequence becomes
// U+FFFD, or a TypeError when fatal.
function encUtf8DecodeAll(bytes, fatal) {
  const bin = encBytesToLatin1(bytes);
  if (!ENC_HIGH_BYTE.test(bin)) return bin;
  try {
    // escape() turns every byte >= 0x80 (and "%") into %XX, and
    // decodeURIComponent then decodes strict UTF-8 or throws URIError.
    return decodeURIComponent(escape(bin));
  } catch {
    return encUtf8DecodeSlow(bytes, fatal);
  }
}

// encUtf8DecodeSlow is the Encoding Standard's UTF-8 decoder run to the end
// of the input, for input the fast path rejected.
function encUtf8DecodeSlow(bytes, fatal) {
  const n = bytes.length;
  const out = new Uint16Array(n + 1);
  let o = 0, cp = 0, needed = 0, seen = 0, lower = 0x80, upper = 0xbf;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (needed === 0) {
      if (b < 0x80) { out[o++] = b; continue; }
      if (b >= 0xc2 && b <= 0xdf) { needed = 1; cp = b & 0x1f; }
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2; cp = b & 0xf;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3; cp = b & 0x7;
      } else {
        if (fatal) throw encDecodeError();
        out[o++] = 0xfffd;
      }
      continue;
    }
    if (b < lower || b > upper) {
      // The byte does not continue the sequence: one U+FFFD for what came
      // before, then the byte is looked at again on its own.
      cp = needed = seen = 0; lower = 0x80; upper = 0xbf;
      if (fatal) throw encDecodeError();
      out[o++] = 0xfffd;
      i--;
      continue;
    }
    lower = 0x80; upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    if (++seen !== needed) continue;
    if (cp > 0xffff) {
      cp -= 0x10000;
      out[o++] = 0xd800 + (cp >> 10);
      out[o++] = 0xdc00 + (cp & 0x3ff);
    } else {
      out[o++] = cp;
    }
    cp = needed = seen = 0;
  }
  if (needed !== 0) {
    if (fatal) throw encDecodeError();
    out[o++] = 0xfffd;
  }
  return encBytesToLatin1(out.subarray(0, o));
}

// encUtf8Incomplete returns how many trailing bytes are the valid start of
// a multi-byte sequence that later input may complete. Only those wait: a
// streaming decoder reports anything else at once. Cutting before a lead
// byte is safe, as the decoder starts afresh at every lead byte.
function encUtf8Incomplete(bytes) {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k];
    if (b < 0x80) return 0;
    if (b < 0xc0) continue;
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len <= k) return 0;
    for (let j = 1; j < k; j++) {
      const c = bytes[n - k + j];
      let lower = 0x80, upper = 0xbf;
      if (j === 1) {
        if (b === 0xe0) lower = 0xa0;
        else if (b === 0xed) upper = 0x9f;
        else if (b === 0xf0) lower = 0x90;
        else if (b === 0xf4) upper = 0x8f;
      }
      if (c < lower || c > upper) return 0;
    }
    return k;
  }
  return 0;
}

function encDecodeError() {
  return new TypeError("Failed to decode input.");
}

// Whether Uint16Array views of the host's memory read UTF-16LE directly.
const ENC_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// encUtf16Decode decodes an even number of bytes; lone surrogates become
// U+FFFD (or an error when fatal).
function encUtf16Decode(bytes, bigEndian, fatal) {
  const count = bytes.length >> 1;
  let units;
  if (bigEndian === !ENC_LITTLE_ENDIAN && (bytes.byteOffset & 1) === 0) {
    units = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  } else {
    units = new Uint16Array(count);
    for (let i = 0, j = 0; i < count; i++, j += 2) {
      units[i] = bigEndian ? (bytes[j] << 8) | bytes[j + 1] : bytes[j] | (bytes[j + 1] << 8);
    }
  }
  const s = encBytesToLatin1(units);
  if (s.isWellFormed()) return s;
  if (fatal) throw encDecodeError();
  return s.toWellFormed();
}

// encWindows1252 decodes windows-1252, which the latin1, ascii and
// iso-8859-1 labels also name: latin1 but for 0x80-0x9F.
const ENC_1252_HIGH = "\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f" +
  "\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178";
const ENC_1252_RANGE = /[\x80-\x9f]/g;

function encWindows1252(bytes) {
  const s = encBytesToLatin1(bytes);
  ENC_1252_RANGE.lastIndex = 0;
  if (!ENC_1252_RANGE.test(s)) return s;
  ENC_1252_RANGE.lastIndex = 0;
  return s.replace(ENC_1252_RANGE, (c) => ENC_1252_HIGH[c.charCodeAt(0) - 0x80]);
}

// encDecodeInput views decode()'s argument as bytes.
function encDecodeInput(input) {
  if (input === undefined || input === null) return new Uint8Array(0);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && input instanceof SharedArrayBuffer)) {
    return new Uint8Array(input);
  }
  throw new TypeError("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'Array'.");
}

// Labels as workerd accepts them, for the encodings Isola implements.
const ENC_LABELS = { __proto__: null };
for (const [name, labels] of [
  ["utf-8", "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"],
  ["utf-16le", "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le"],
  ["utf-16be", "unicodefffe utf-16be"],
  ["windows-1252", "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 " +
    "iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252"],
]) {
  for (const label of labels.split(" ")) ENC_LABELS[label] = name;
}

// encToUSV converts like Web IDL's USVString: ToString (which rejects
// symbols) and lone surrogates replaced.
function encToUSV(v) {
  return `${v}`.toWellFormed();
}

// encEnumerable makes a class's members enumerable, as Web IDL (and
// workerd) has them.
function encEnumerable(cls) {
  for (const key of Object.getOwnPropertyNames(cls.prototype)) {
    if (key !== "constructor") Object.defineProperty(cls.prototype, key, { enumerable: true });
  }
}

let encIsEncoder;
let encIsDecoder;

class TextEncoder {
  // Only a brand: a TextEncoder has no state.
  #brand = true;

  static {
    encIsEncoder = (v) => typeof v === "object" && v !== null && #brand in v;
  }

  get encoding() {
    if (typeof this !== "object" || this === null || !(#brand in this)) throw webIllegalInvocation();
    return "utf-8";
  }

  encode(input = "") {
    return encUtf8Encode(`${input}`);
  }

  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    const src = `${source}`;
    const cap = destination.length;
    const n = src.length;
    let read = 0, written = 0;
    while (read < n) {
      let c = src.charCodeAt(read);
      if (c < 0x80) {
        if (written >= cap) break;
        destination[written++] = c;
        read++;
        continue;
      }
      let units = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && read + 1 < n ? src.charCodeAt(read + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          units = 2;
        } else {
          c = 0xfffd;
        }
      }
      // A character is written whole or not at all.
      if (c < 0x800) {
        if (written + 2 > cap) break;
        destination[written++] = 0xc0 | (c >> 6);
      } else if (c < 0x10000) {
        if (written + 3 > cap) break;
        destination[written++] = 0xe0 | (c >> 12);
        destination[written++] = 0x80 | ((c >> 6) & 0x3f);
      } else {
        if (written + 4 > cap) break;
        destination[written++] = 0xf0 | (c >> 18);
        destination[written++] = 0x80 | ((c >> 12) & 0x3f);
        destination[written++] = 0x80 | ((c >> 6) & 0x3f);
      }
      destination[written++] = 0x80 | (c & 0x3f);
      read += units;
    }
    return { read, written };
  }
}
encEnumerable(TextEncoder);
Object.defineProperty(TextEncoder.prototype, Symbol.toStringTag, { value: "TextEncoder", configurable: true });

class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #bomSeen = false;
  // Bytes of an unfinished character kept from a streaming decode() call.
  #pending = null;

  constructor(label = "utf-8", options = undefined) {
    label = `${label}`;
    const encoding = ENC_LABELS[label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "").toLowerCase()];
    if (encoding === undefined) throw new RangeError(`"${label}" is not a valid encoding.`);
    if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
      throw new TypeError("Failed to construct 'TextDecoder': constructor parameter 2 is not of type 'ConstructorOptions'.");
    }
    this.#encoding = encoding;
    this.#fatal = !!(options && options.fatal);
    this.#ignoreBOM = !!(options && options.ignoreBOM);
  }

  static #check(d) {
    if (typeof d !== "object" || d === null || !(#encoding in d)) throw webIllegalInvocation();
    return d;
  }

  static {
    encIsDecoder = (v) => typeof v === "object" && v !== null && #encoding in v;
  }

  get encoding() { return TextDecoder.#check(this).#encoding; }
  get fatal() { return TextDecoder.#check(this).#fatal; }
  get ignoreBOM() { return TextDecoder.#check(this).#ignoreBOM; }

  decode(input = undefined, options = undefined) {
    TextDecoder.#check(this);
    let bytes = encDecodeInput(input);
    const stream = !!(options && options.stream);
    const enc = this.#encoding;
    // A single-byte encoding has no state to carry and, in workerd, no BOM.
    if (enc === "windows-1252") return encWindows1252(bytes);

    if (this.#pending !== null) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
      this.#pending = null;
    }
    let out;
    try {
      if (enc === "utf-8") {
        const keep = stream ? encUtf8Incomplete(bytes) : 0;
        if (keep > 0) {
          this.#pending = bytes.slice(bytes.length - keep);
          bytes = bytes.subarray(0, bytes.length - keep);
        }
        out = encUtf8DecodeAll(bytes, this.#fatal);
      } else {
        let keep = bytes.length & 1;
        if (stream) {
          // A lead surrogate at the end may pair with the next chunk's first unit.
          const last = bytes.length - keep - 2;
          if (last >= 0) {
            const unit = enc === "utf-16be" ? (bytes[last] << 8) | bytes[last + 1] : bytes[last] | (bytes[last + 1] << 8);
            if (unit >= 0xd800 && unit <= 0xdbff) keep += 2;
          }
          if (keep > 0) {
            this.#pending = bytes.slice(bytes.length - keep);
            bytes = bytes.subarray(0, bytes.length - keep);
          }
        }
        const whole = bytes.subarray(0, bytes.length - (stream ? 0 : keep));
        out = encUtf16Decode(whole, enc === "utf-16be", this.#fatal);
        if (!stream && keep) {
          if (this.#fatal) throw encDecodeError();
          // A dangling lead surrogate and a dangling byte make one error, and
          // the surrogate's U+FFFD is already there.
          const n = whole.length;
          const last = n >= 2 ? (enc === "utf-16be" ? (whole[n - 2] << 8) | whole[n - 1] : whole[n - 2] | (whole[n - 1] << 8)) : 0;
          if (!(last >= 0xd800 && last <= 0xdbff)) out += "\ufffd";
        }
      }
    } catch (e) {
      this.#pending = null;
      this.#bomSeen = false;
      throw e;
    }
    if (!this.#ignoreBOM && !this.#bomSeen && out.length > 0) {
      this.#bomSeen = true;
      if (out.charCodeAt(0) === 0xfeff) out = out.slice(1);
    }
    if (!stream) {
      this.#pending = null;
      this.#bomSeen = false;
    }
    return out;
  }
}
encEnumerable(TextDecoder);
Object.defineProperty(TextDecoder.prototype, Symbol.toStringTag, { value: "TextDecoder", configurable: true });

// encIsPlatform tells structuredClone what it must refuse.
function encIsPlatform(v) {
  return encIsEncoder(v) || encIsDecoder(v);
}

defineGlobal("TextEncoder", TextEncoder);
defineGlobal("TextDecoder", TextDecoder);

// ---- base64 ----

const ENC_B64_WHITESPACE = /[\t\n\f\r ]/;
const ENC_B64_WHITESPACE_ALL = /[\t\n\f\r ]+/g;
const ENC_B64_INVALID = /[^A-Za-z0-9+/]/;

function atob(data) {
  if (data === undefined && arguments.length === 0) {
    throw new TypeError("Failed to execute 'atob' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'string'.");
  }
  // The HTML "forgiving-base64 decode": whitespace anywhere, padding optional.
  let s = `${data}`;
  if (ENC_B64_WHITESPACE.test(s)) s = s.replace(ENC_B64_WHITESPACE_ALL, "");
  if (s.length % 4 === 0) {
    if (s.endsWith("==")) s = s.slice(0, -2);
    else if (s.endsWith("=")) s = s.slice(0, -1);
  }
  if (s.length % 4 === 1 || ENC_B64_INVALID.test(s)) {
    throw new DOMException("atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, " +
      "and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)", "InvalidCharacterError");
  }
  return encBytesToLatin1(Uint8Array.fromBase64(s));
}

function btoa(data) {
  if (data === undefined && arguments.length === 0) {
    throw new TypeError("Failed to execute 'btoa' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'String'.");
  }
  const s = `${data}`;
  if (ENC_NON_LATIN1.test(s)) {
    throw new DOMException("btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.", "InvalidCharacterError");
  }
  return encLatin1ToBytes(s).toBase64();
}

defineGlobal("atob", atob);
defineGlobal("btoa", btoa);
