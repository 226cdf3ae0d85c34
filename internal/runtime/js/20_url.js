// 20_url.js: URL and URLSearchParams after the WHATWG URL Standard, which
// workerd implements with ada-url; error messages are workerd's.
//
// A parsed URL is a record { scheme, username, password, host, port, path,
// query, fragment }: host is the serialized host or null, port a number or
// null, path an array of segments or, for an opaque path, a string.
//
// The parser walks UTF-16 code units: every delimiter is ASCII, and text
// between delimiters is gathered and then percent-encoded a segment at a
// time with a regular expression, which keeps the per-character JS work low.
// The everyday http(s) URL skips the state machine altogether
// (urlParseFast). Like workerd (ada), a path percent-encodes "^", and
// URLSearchParams keeps query bytes that are not UTF-8 as they came.
//
// Not done: the full UTS #46 mapping tables. Hosts are mapped with NFKC and
// lowercasing, which covers case, width and compatibility forms; labels
// that are not ASCII are then Punycode-encoded.
//
// For other prelude files: urlParse(input, baseRecord?) -> record or null,
// urlSerialize(record, excludeFragment?).

const URL_DEFAULT_PORTS = { __proto__: null, "ftp": 21, "file": null, "http": 80, "https": 443, "ws": 80, "wss": 443 };

function urlIsSpecial(scheme) {
  return scheme in URL_DEFAULT_PORTS;
}

function urlInvalid() {
  return new TypeError("Invalid URL string.");
}

// ---- percent-encoding ----

// The percent-encode sets, each as "a code point that must be encoded".
// The `u` flag makes a surrogate pair one match, encoded as one code point.
const URL_SET_C0 = /[\x00-\x1f\x7f-\u{10ffff}]/gu;
const URL_SET_FRAGMENT = /[\x00-\x20"<>`\x7f-\u{10ffff}]/gu;
const URL_SET_QUERY = /[\x00-\x20"#<>\x7f-\u{10ffff}]/gu;
const URL_SET_SPECIAL_QUERY = /[\x00-\x20"#<>'\x7f-\u{10ffff}]/gu;
const URL_SET_PATH = /[\x00-\x20"#<>?^`{}\x7f-\u{10ffff}]/gu;
const URL_SET_USERINFO = /[\x00-\x20"#<>?`{}/:;=@[\\\]^|\x7f-\u{10ffff}]/gu;
const URL_SET_FORM = /[^*\-.0-9A-Z_a-z]/gu;

function urlEncodeMatch(ch) {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return (c < 0x10 ? "%0" : "%") + c.toString(16).toUpperCase();
  // encodeURIComponent writes any non-ASCII code point as UTF-8 %XX.
  return encodeURIComponent(ch);
}

function urlEncode(s, set) {
  set.lastIndex = 0;
  if (!set.test(s)) return s;
  set.lastIndex = 0;
  return s.replace(set, urlEncodeMatch);
}

// urlPercentDecodeToString percent-decodes s, taken as UTF-8, and decodes
// the bytes as UTF-8 with replacement.
function urlPercentDecodeToString(s) {
  if (s.indexOf("%") < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // Stray "%" or bytes that are not UTF-8: do it a byte at a time.
  }
  return encUtf8DecodeAll(urlPercentDecodeBytes(encUtf8Encode(s)), false);
}

function urlHexValue(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function urlPercentDecodeBytes(bytes) {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length) {
      const hi = urlHexValue(bytes[i + 1]), lo = urlHexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[o++] = b;
  }
  return out.subarray(0, o);
}

// ---- hosts ----

const URL_FORBIDDEN_HOST = /[\x00\t\n\r #/:<>?@[\\\]^|]/;
const URL_FORBIDDEN_DOMAIN = /[\x00-\x20#%/:<>?@[\\\]^|\x7f]/;

// urlParseHost returns the serialized host, or null on failure.
function urlParseHost(input, isOpaque) {
  if (input.charCodeAt(0) === 0x5b /* [ */) {
    if (input.charCodeAt(input.length - 1) !== 0x5d /* ] */) return null;
    const address = urlParseIPv6(input.slice(1, -1));
    return address === null ? null : "[" + urlSerializeIPv6(address) + "]";
  }
  if (isOpaque) {
    if (URL_FORBIDDEN_HOST.test(input)) return null;
    return urlEncode(input, URL_SET_C0);
  }
  const domain = urlPercentDecodeToString(input);
  const ascii = urlDomainToASCII(domain);
  if (ascii === null || URL_FORBIDDEN_DOMAIN.test(ascii)) return null;
  if (urlEndsInNumber(ascii)) {
    const ipv4 = urlParseIPv4(ascii);
    return ipv4 === null ? null : urlSerializeIPv4(ipv4);
  }
  return ascii;
}

// urlDomainToASCII approximates UTS #46 ToASCII (non-transitional, no
// STD3 rules, no DNS length check).
function urlDomainToASCII(domain) {
  if (!ENC_NON_ASCII.test(domain)) return domain.toLowerCase();
  // NFKC and lowercasing do most of UTS #46 mapping; the ideographic full
  // stops separate labels too, and a few invisible code points map to
  // nothing.
  const mapped = domain.normalize("NFKC").toLowerCase()
    .replace(/[\u3002\uff0e\uff61]/g, ".")
    .replace(/[\u00ad\u200b\u2060\ufeff\u034f\u180b-\u180d\ufe00-\ufe0f]/g, "")
    .normalize("NFC");
  const labels = mapped.split(".");
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!ENC_NON_ASCII.test(label)) continue;
    if (/[\ufffd\u{e0000}-\u{e0fff}]/u.test(label)) return null;
    const encoded = urlPunycodeEncode(label);
    if (encoded === null) return null;
    labels[i] = "xn--" + encoded;
  }
  const result = labels.join(".");
  return result === "" ? null : result;
}

// urlPunycodeEncode is RFC 3492's encoder.
function urlPunycodeEncode(input) {
  const base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700;
  const codePoints = Array.from(input, (ch) => ch.codePointAt(0));
  const output = [];
  for (const c of codePoints) if (c < 0x80) output.push(String.fromCharCode(c));
  const basicLength = output.length;
  let handled = basicLength;
  if (basicLength > 0) output.push("-");
  const digit = (d) => String.fromCharCode(d < 26 ? d + 97 : d + 22);
  const adapt = (delta, numPoints, first) => {
    delta = first ? Math.floor(delta / damp) : delta >> 1;
    delta += Math.floor(delta / numPoints);
    let k = 0;
    while (delta > ((base - tMin) * tMax) >> 1) {
      delta = Math.floor(delta / (base - tMin));
      k += base;
    }
    return k + Math.floor(((base - tMin + 1) * delta) / (delta + skew));
  };
  let n = 0x80, delta = 0, bias = 72;
  while (handled < codePoints.length) {
    let m = 0x10ffff + 1;
    for (const c of codePoints) if (c >= n && c < m) m = c;
    delta += (m - n) * (handled + 1);
    if (delta > 0x7fffffff) return null;
    n = m;
    for (const c of codePoints) {
      if (c < n) delta++;
      if (c !== n) continue;
      let q = delta;
      for (let k = base; ; k += base) {
        const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
        if (q < t) break;
        output.push(digit(t + ((q - t) % (base - t))));
        q = Math.floor((q - t) / (base - t));
      }
      output.push(digit(q));
      bias = adapt(delta, handled + 1, handled === basicLength);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return output.join("");
}

// urlEndsInNumber: whether the last label (a trailing empty one aside) is
// decimal digits or a 0x-hex number, making the host an IPv4 address.
const URL_ENDS_IN_NUMBER = /(?:^|\.)(?:[0-9]+|0[xX][0-9A-Fa-f]*)\.?$/;

function urlEndsInNumber(input) {
  return URL_ENDS_IN_NUMBER.test(input);
}

// urlParseIPv4Number reads decimal, 0x-hex or 0-octal; null on failure.
function urlParseIPv4Number(input) {
  if (input === "") return null;
  let radix = 10;
  if (input.length >= 2 && input[0] === "0" && (input[1] === "x" || input[1] === "X")) {
    radix = 16;
    input = input.slice(2);
  } else if (input.length >= 2 && input[0] === "0") {
    radix = 8;
    input = input.slice(1);
  }
  if (input === "") return 0;
  const valid = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
  if (!valid.test(input)) return null;
  return parseInt(input, radix);
}

function urlParseIPv4(input) {
  const parts = input.split(".");
  if (parts[parts.length - 1] === "" && parts.length > 1) parts.pop();
  if (parts.length > 4) return null;
  const numbers = [];
  for (const part of parts) {
    const n = urlParseIPv4Number(part);
    if (n === null) return null;
    numbers.push(n);
  }
  for (let i = 0; i < numbers.length - 1; i++) if (numbers[i] > 255) return null;
  const last = numbers[numbers.length - 1];
  if (last >= 256 ** (5 - numbers.length)) return null;
  let ipv4 = last;
  for (let i = 0; i < numbers.length - 1; i++) ipv4 += numbers[i] * 256 ** (3 - i);
  return ipv4;
}

function urlSerializeIPv4(address) {
  const out = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(String(address % 256));
    address = Math.floor(address / 256);
  }
  return out.join(".");
}

// urlParseIPv6 returns the eight 16-bit pieces, or null.
function urlParseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0, compress = null, p = 0;
  const at = (i) => (i < input.length ? input.charCodeAt(i) : -1);
  const isDigit = (c) => c >= 0x30 && c <= 0x39;
  if (at(p) === 0x3a) {
    if (at(p + 1) !== 0x3a) return null;
    p += 2;
    compress = ++pieceIndex;
  }
  while (at(p) !== -1) {
    if (pieceIndex === 8) return null;
    if (at(p) === 0x3a) {
      if (compress !== null) return null;
      p++;
      compress = ++pieceIndex;
      continue;
    }
    let value = 0, length = 0;
    while (length < 4 && urlHexValue(at(p)) >= 0 && at(p) !== -1) {
      value = value * 16 + urlHexValue(at(p));
      p++;
      length++;
    }
    if (at(p) === 0x2e /* . */) {
      if (length === 0) return null;
      p -= length;
      if (pieceIndex > 6) return null;
      let numbersSeen = 0;
      while (at(p) !== -1) {
        let piece = null;
        if (numbersSeen > 0) {
          if (at(p) === 0x2e && numbersSeen < 4) p++;
          else return null;
        }
        if (!isDigit(at(p))) return null;
        while (isDigit(at(p))) {
          const number = at(p) - 0x30;
          if (piece === null) piece = number;
          else if (piece === 0) return null;
          else piece = piece * 10 + number;
          if (piece > 255) return null;
          p++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (at(p) === 0x3a) {
      p++;
      if (at(p) === -1) return null;
    } else if (at(p) !== -1) {
      return null;
    }
    address[pieceIndex++] = value;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const t = address[pieceIndex];
      address[pieceIndex] = address[compress + swaps - 1];
      address[compress + swaps - 1] = t;
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return null;
  }
  return address;
}

function urlSerializeIPv6(address) {
  // Compress the first longest run of two or more zero pieces.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (address[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? "::" : ":";
      i += bestLen - 1;
      continue;
    }
    out += address[i].toString(16);
    if (i !== 7) out += ":";
  }
  return out;
}

// ---- the basic URL parser ----

const S_SCHEME_START = 1, S_SCHEME = 2, S_NO_SCHEME = 3, S_SPECIAL_RELATIVE_OR_AUTHORITY = 4,
  S_PATH_OR_AUTHORITY = 5, S_RELATIVE = 6, S_RELATIVE_SLASH = 7, S_SPECIAL_AUTHORITY_SLASHES = 8,
  S_SPECIAL_AUTHORITY_IGNORE_SLASHES = 9, S_AUTHORITY = 10, S_HOST = 11, S_HOSTNAME = 12, S_PORT = 13,
  S_FILE = 14, S_FILE_SLASH = 15, S_FILE_HOST = 16, S_PATH_START = 17, S_PATH = 18,
  S_OPAQUE_PATH = 19, S_QUERY = 20, S_FRAGMENT = 21;

function urlNewRecord() {
  return { scheme: "", username: "", password: "", host: null, port: null, path: [], query: null, fragment: null };
}

function urlCopyRecord(r) {
  return {
    scheme: r.scheme, username: r.username, password: r.password, host: r.host, port: r.port,
    path: typeof r.path === "string" ? r.path : r.path.slice(), query: r.query, fragment: r.fragment,
  };
}

const urlIsAlpha = (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

// A Windows drive letter: an ASCII letter then ":" (or "|" when not normalized).
function urlIsDriveLetter(s, normalizedOnly) {
  return s.length === 2 && urlIsAlpha(s.charCodeAt(0)) &&
    (s[1] === ":" || (!normalizedOnly && s[1] === "|"));
}

function urlStartsWithDriveLetter(input, p) {
  if (input.length - p < 2) return false;
  if (!urlIsAlpha(input.charCodeAt(p))) return false;
  const second = input[p + 1];
  if (second !== ":" && second !== "|") return false;
  if (input.length - p === 2) return true;
  const third = input[p + 2];
  return third === "/" || third === "\\" || third === "?" || third === "#";
}

function urlShortenPath(url) {
  const path = url.path;
  if (url.scheme === "file" && path.length === 1 && urlIsDriveLetter(path[0], true)) return;
  path.pop();
}

const URL_SINGLE_DOT = /^(?:\.|%2e)$/i;
const URL_DOUBLE_DOT = /^(?:\.|%2e){2}$/i;

// Failure from the parser proper; a setter's early return is `undefined`.
const URL_FAILURE = null;

// The everyday URL: a special scheme (file aside), a plain ASCII domain,
// maybe a port, a path without dot segments or backslashes, maybe a query and
// a fragment, no whitespace or controls to strip. urlParseFast takes it
// without the state machine, parsed in Go (host.urlFast, urlhost.go: a dozen
// regular expression calls here cost ~10 µs); anything else gets null and
// the full parser.
//
// A worker parses the same few URLs again and again (new URL(request.url) on
// every request to an endpoint), so the last inputs parsed this way are kept
// with their records, which are copied out: a record is edited in place by
// URL's setters. Only short inputs are kept: the Map holds them until it is
// cleared, and an isolate idle after a request with a long query string
// should not keep 32 of them.
const urlFastSeen = new Map();
const urlFastSeenMax = 32;
const urlFastSeenLength = 512;
function urlParseFast(input) {
  let r = urlFastSeen.get(input);
  if (r === undefined) {
    const parts = host.urlFast(input);
    if (parts === "") return null;
    const f = parts.split("\0");
    r = {
      scheme: f[0], username: "", password: "", host: f[1], port: f[2] === "" ? null : +f[2],
      path: f[3].split("/"),
      query: f[4] === "" ? null : f[4].slice(1),
      fragment: f[5] === "" ? null : f[5].slice(1),
    };
    if (input.length > urlFastSeenLength) return r;
    if (urlFastSeen.size >= urlFastSeenMax) urlFastSeen.clear();
    urlFastSeen.set(input, r);
  }
  return {
    scheme: r.scheme, username: "", password: "", host: r.host, port: r.port,
    path: r.path.slice(), query: r.query, fragment: r.fragment,
  };
}

// urlBasicParse is the URL Standard's basic URL parser. Without `url` it
// returns a new record or URL_FAILURE; with url and stateOverride (a setter)
// it edits url in place.
function urlBasicParse(input, base, url, stateOverride) {
  if (url === undefined) {
    const fast = urlParseFast(input);
    if (fast !== null) return fast;
    url = urlNewRecord();
    input = input.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "");
  }
  if (/[\t\n\r]/.test(input)) input = input.replace(/[\t\n\r]/g, "");

  let state = stateOverride || S_SCHEME_START;
  let buffer = "";
  let insideBrackets = false;
  const len = input.length;

  for (let p = 0; ; p++) {
    const c = p < len ? input.charCodeAt(p) : -1; // -1 is the end of input
    switch (state) {
      case S_SCHEME_START:
        if (urlIsAlpha(c)) {
          buffer += input[p].toLowerCase();
          state = S_SCHEME;
        } else if (!stateOverride) {
          state = S_NO_SCHEME;
          p--;
        } else {
          return URL_FAILURE;
        }
        break;

      case S_SCHEME:
        if (urlIsAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
          buffer += input[p].toLowerCase();
        } else if (c === 0x3a /* : */) {
          if (stateOverride) {
            if (urlIsSpecial(url.scheme) !== urlIsSpecial(buffer)) return;
            if ((url.username !== "" || url.password !== "" || url.port !== null) && buffer === "file") return;
            if (url.scheme === "file" && url.host === "") return;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === URL_DEFAULT_PORTS[url.scheme]) url.port = null;
            return;
          }
          buffer = "";
          if (url.scheme === "file") {
            state = S_FILE;
          } else if (urlIsSpecial(url.scheme) && base && base.scheme === url.scheme) {
            state = S_SPECIAL_RELATIVE_OR_AUTHORITY;
          } else if (urlIsSpecial(url.scheme)) {
            state = S_SPECIAL_AUTHORITY_SLASHES;
          } else if (input.charCodeAt(p + 1) === 0x2f) {
            state = S_PATH_OR_AUTHORITY;
            p++;
          } else {
            url.path = "";
            state = S_OPAQUE_PATH;
          }
        } else if (!stateOverride) {
          buffer = "";
          state = S_NO_SCHEME;
          p = -1;
        } else {
          return URL_FAILURE;
        }
        break;

      case S_NO_SCHEME:
        if (!base || (typeof base.path === "string" && c !== 0x23)) return URL_FAILURE;
        if (typeof base.path === "string" && c === 0x23) {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = "";
          state = S_FRAGMENT;
        } else if (base.scheme !== "file") {
          state = S_RELATIVE;
          p--;
        } else {
          state = S_FILE;
          p--;
        }
        break;

      case S_SPECIAL_RELATIVE_OR_AUTHORITY:
        if (c === 0x2f && input.charCodeAt(p + 1) === 0x2f) {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = S_RELATIVE;
          p--;
        }
        break;

      case S_PATH_OR_AUTHORITY:
        if (c === 0x2f) {
          state = S_AUTHORITY;
        } else {
          state = S_PATH;
          p--;
        }
        break;

      case S_RELATIVE:
        url.scheme = base.scheme;
        if (c === 0x2f || (c === 0x5c && urlIsSpecial(url.scheme))) {
          state = S_RELATIVE_SLASH;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === 0x3f) {
            url.query = "";
            state = S_QUERY;
          } else if (c === 0x23) {
            url.fragment = "";
            state = S_FRAGMENT;
          } else if (c !== -1) {
            url.query = null;
            urlShortenPath(url);
            state = S_PATH;
            p--;
          }
        }
        break;

      case S_RELATIVE_SLASH:
        if (urlIsSpecial(url.scheme) && (c === 0x2f || c === 0x5c)) {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
        } else if (c === 0x2f) {
          state = S_AUTHORITY;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = S_PATH;
          p--;
        }
        break;

      case S_SPECIAL_AUTHORITY_SLASHES:
        if (c === 0x2f && input.charCodeAt(p + 1) === 0x2f) {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p--;
        }
        break;

      case S_SPECIAL_AUTHORITY_IGNORE_SLASHES:
        if (c !== 0x2f && c !== 0x5c) {
          state = S_AUTHORITY;
          p--;
        }
        break;

      case S_AUTHORITY: {
        // Take the authority whole: up to its end, the last "@" splits the
        // credentials (an earlier "@" is encoded as %40 with them) from the
        // host, which the host state reads next.
        const special = urlIsSpecial(url.scheme);
        let end = p;
        while (end < len) {
          const d = input.charCodeAt(end);
          if (d === 0x2f || d === 0x3f || d === 0x23 || (special && d === 0x5c)) break;
          end++;
        }
        const at = input.lastIndexOf("@", end - 1);
        if (at >= p) {
          const credentials = input.slice(p, at);
          const colon = credentials.indexOf(":");
          if (colon >= 0) {
            url.username = urlEncode(credentials.slice(0, colon), URL_SET_USERINFO);
            url.password = urlEncode(credentials.slice(colon + 1), URL_SET_USERINFO);
          } else {
            url.username = urlEncode(credentials, URL_SET_USERINFO);
          }
          if (at + 1 === end) return URL_FAILURE;
          p = at;
        } else {
          p--;
        }
        state = S_HOST;
        break;
      }

      case S_HOST:
      case S_HOSTNAME:
        if (stateOverride && url.scheme === "file") {
          p--;
          state = S_FILE_HOST;
        } else if (c === 0x3a && !insideBrackets) {
          if (buffer === "") return URL_FAILURE;
          if (stateOverride === S_HOSTNAME) return URL_FAILURE;
          const host = urlParseHost(buffer, !urlIsSpecial(url.scheme));
          if (host === null) return URL_FAILURE;
          url.host = host;
          buffer = "";
          state = S_PORT;
        } else if (c === -1 || c === 0x2f || c === 0x3f || c === 0x23 || (c === 0x5c && urlIsSpecial(url.scheme))) {
          p--;
          if (urlIsSpecial(url.scheme) && buffer === "") return URL_FAILURE;
          if (stateOverride && buffer === "" && (url.username !== "" || url.password !== "" || url.port !== null)) return URL_FAILURE;
          const host = urlParseHost(buffer, !urlIsSpecial(url.scheme));
          if (host === null) return URL_FAILURE;
          url.host = host;
          buffer = "";
          state = S_PATH_START;
          if (stateOverride) return;
        } else {
          if (c === 0x5b) insideBrackets = true;
          if (c === 0x5d) insideBrackets = false;
          buffer += input[p];
        }
        break;

      case S_PORT:
        if (c >= 0x30 && c <= 0x39) {
          buffer += input[p];
        } else if (c === -1 || c === 0x2f || c === 0x3f || c === 0x23 || (c === 0x5c && urlIsSpecial(url.scheme)) || stateOverride) {
          if (buffer !== "") {
            const port = parseInt(buffer, 10);
            if (port > 65535) return URL_FAILURE;
            url.port = port === URL_DEFAULT_PORTS[url.scheme] ? null : port;
            buffer = "";
          }
          if (stateOverride) return;
          state = S_PATH_START;
          p--;
        } else {
          return URL_FAILURE;
        }
        break;

      case S_FILE:
        url.scheme = "file";
        url.host = "";
        if (c === 0x2f || c === 0x5c) {
          state = S_FILE_SLASH;
        } else if (base && base.scheme === "file") {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === 0x3f) {
            url.query = "";
            state = S_QUERY;
          } else if (c === 0x23) {
            url.fragment = "";
            state = S_FRAGMENT;
          } else if (c !== -1) {
            url.query = null;
            if (!urlStartsWithDriveLetter(input, p)) urlShortenPath(url);
            else url.path = [];
            state = S_PATH;
            p--;
          }
        } else {
          state = S_PATH;
          p--;
        }
        break;

      case S_FILE_SLASH:
        if (c === 0x2f || c === 0x5c) {
          state = S_FILE_HOST;
        } else {
          if (base && base.scheme === "file") {
            url.host = base.host;
            if (!urlStartsWithDriveLetter(input, p) && base.path.length > 0 && urlIsDriveLetter(base.path[0], true)) {
              url.path.push(base.path[0]);
            }
          }
          state = S_PATH;
          p--;
        }
        break;

      case S_FILE_HOST:
        if (c === -1 || c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23) {
          p--;
          if (!stateOverride && urlIsDriveLetter(buffer, false)) {
            // Not a host but the path's first segment: the buffer stays.
            state = S_PATH;
          } else if (buffer === "") {
            url.host = "";
            if (stateOverride) return;
            state = S_PATH_START;
          } else {
            let host = urlParseHost(buffer, !urlIsSpecial(url.scheme));
            if (host === null) return URL_FAILURE;
            if (host === "localhost") host = "";
            url.host = host;
            if (stateOverride) return;
            buffer = "";
            state = S_PATH_START;
          }
        } else {
          buffer += input[p];
        }
        break;

      case S_PATH_START:
        if (urlIsSpecial(url.scheme)) {
          state = S_PATH;
          if (c !== 0x2f && c !== 0x5c) p--;
        } else if (!stateOverride && c === 0x3f) {
          url.query = "";
          state = S_QUERY;
        } else if (!stateOverride && c === 0x23) {
          url.fragment = "";
          state = S_FRAGMENT;
        } else if (c !== -1) {
          state = S_PATH;
          if (c !== 0x2f) p--;
        } else if (stateOverride && url.host === null) {
          url.path.push("");
        }
        break;

      case S_PATH: {
        const special = urlIsSpecial(url.scheme);
        const slash = c === 0x2f || (special && c === 0x5c);
        if (c === -1 || slash || (!stateOverride && (c === 0x3f || c === 0x23))) {
          if (URL_DOUBLE_DOT.test(buffer)) {
            urlShortenPath(url);
            if (!slash) url.path.push("");
          } else if (URL_SINGLE_DOT.test(buffer)) {
            if (!slash) url.path.push("");
          } else {
            if (url.scheme === "file" && url.path.length === 0 && urlIsDriveLetter(buffer, false)) {
              buffer = buffer[0] + ":";
            }
            url.path.push(urlEncode(buffer, URL_SET_PATH));
          }
          buffer = "";
          if (c === 0x3f) {
            url.query = "";
            state = S_QUERY;
          } else if (c === 0x23) {
            url.fragment = "";
            state = S_FRAGMENT;
          }
        } else {
          // Take the run up to the next delimiter at once.
          let end = p + 1;
          while (end < len) {
            const d = input.charCodeAt(end);
            if (d === 0x2f || (special && d === 0x5c) || (!stateOverride && (d === 0x3f || d === 0x23))) break;
            end++;
          }
          buffer += input.slice(p, end);
          p = end - 1;
        }
        break;
      }

      case S_OPAQUE_PATH: {
        if (c === 0x3f) {
          url.query = "";
          state = S_QUERY;
        } else if (c === 0x23) {
          url.fragment = "";
          state = S_FRAGMENT;
        } else if (c !== -1) {
          let end = p + 1;
          while (end < len) {
            const d = input.charCodeAt(end);
            if (d === 0x3f || d === 0x23) break;
            end++;
          }
          let run = urlEncode(input.slice(p, end), URL_SET_C0);
          // A space just before "?" or "#" is encoded, so that it survives
          // when a setter later drops the query or fragment.
          if (end < len && run.endsWith(" ")) run = run.slice(0, -1) + "%20";
          url.path += run;
          p = end - 1;
        }
        break;
      }

      case S_QUERY: {
        // The query runs to "#" (unless a setter gave it) or the end.
        let end = stateOverride ? len : input.indexOf("#", p);
        if (end < 0) end = len;
        const set = urlIsSpecial(url.scheme) ? URL_SET_SPECIAL_QUERY : URL_SET_QUERY;
        url.query += urlEncode(input.slice(p, end), set);
        p = end;
        if (p < len) {
          url.fragment = "";
          state = S_FRAGMENT;
        }
        break;
      }

      case S_FRAGMENT:
        if (c !== -1) {
          url.fragment += urlEncode(input.slice(p), URL_SET_FRAGMENT);
          p = len;
        }
        break;
    }
    // Done once a state has run with the pointer on the end of input; one
    // that stepped back leaves the end to be seen again by the next state.
    if (p >= len) break;
  }
  return url;
}

function urlSerializePath(url) {
  const path = url.path;
  if (typeof path === "string") return path;
  // One native join, not a loop of concatenations: pathname is read on
  // nearly every request (url.pathname === "/api").
  return path.length === 0 ? "" : "/" + path.join("/");
}

function urlSerialize(url, excludeFragment = false) {
  let out = url.scheme + ":";
  if (url.host !== null) {
    out += "//";
    if (url.username !== "" || url.password !== "") {
      out += url.username;
      if (url.password !== "") out += ":" + url.password;
      out += "@";
    }
    out += url.host;
    if (url.port !== null) out += ":" + url.port;
  } else if (typeof url.path !== "string" && url.path.length > 1 && url.path[0] === "") {
    // Keep "//" at the start of a path from reading as a host.
    out += "/.";
  }
  out += urlSerializePath(url);
  if (url.query !== null) out += "?" + url.query;
  if (!excludeFragment && url.fragment !== null) out += "#" + url.fragment;
  return out;
}

function urlOrigin(url) {
  switch (url.scheme) {
    case "blob": {
      const inner = urlParse(urlSerializePath(url));
      if (inner !== null && (inner.scheme === "http" || inner.scheme === "https")) return urlOrigin(inner);
      return "null";
    }
    case "ftp":
    case "http":
    case "https":
    case "ws":
    case "wss":
      return url.scheme + "://" + url.host + (url.port !== null ? ":" + url.port : "");
    default:
      return "null";
  }
}

function urlParse(input, base = null) {
  return urlBasicParse(input, base);
}

function urlCannotHaveCredentialsOrPort(url) {
  return url.host === null || url.host === "" || url.scheme === "file";
}

// An opaque path loses trailing spaces once no query or fragment follows
// it, so that serializing and reparsing gives the same URL.
function urlStripTrailingSpaces(url) {
  if (typeof url.path !== "string" || url.fragment !== null || url.query !== null) return;
  url.path = url.path.replace(/ +$/, "");
}

// ---- application/x-www-form-urlencoded ----

// A list entry is [name, value] or, when the query held bytes that are not
// UTF-8, [name, value, rawName, rawValue]: name and value are what scripts
// see (U+FFFD for the bad bytes), while the raw byte strings (one char a
// byte, null when the text was UTF-8) are what workerd keeps. Those bytes
// serialize back unchanged and are what names and values compare by, so a
// legacy "%E9" survives a round trip through URLSearchParams.

function urlFormParse(input) {
  const list = [];
  if (input === "") return list;
  for (const sequence of input.split("&")) {
    if (sequence === "") continue;
    const eq = sequence.indexOf("=");
    let name = eq >= 0 ? sequence.slice(0, eq) : sequence;
    let value = eq >= 0 ? sequence.slice(eq + 1) : "";
    if (name.indexOf("+") >= 0) name = name.replace(/\+/g, " ");
    if (value.indexOf("+") >= 0) value = value.replace(/\+/g, " ");
    const rawName = urlFormRaw(name), rawValue = urlFormRaw(value);
    if (rawName === null && rawValue === null) {
      list.push([urlPercentDecodeToString(name), urlPercentDecodeToString(value)]);
    } else {
      list.push([urlPercentDecodeToString(name), urlPercentDecodeToString(value), rawName, rawValue]);
    }
  }
  return list;
}

// urlFormRaw returns the percent-decoded bytes of s when they are not UTF-8,
// else null.
function urlFormRaw(s) {
  if (s.indexOf("%") < 0) return null;
  try {
    decodeURIComponent(s);
    return null;
  } catch {
    // A stray "%" or bytes that are not UTF-8: look at the bytes.
  }
  const bytes = urlPercentDecodeBytes(encUtf8Encode(s));
  try {
    encUtf8DecodeAll(bytes, true);
    return null;
  } catch {
    return encBytesToLatin1(bytes);
  }
}

// urlFormMatches compares an entry's name (i 0) or value (i 1) with text.
function urlFormMatches(entry, i, text) {
  const raw = entry[i + 2];
  if (raw === undefined || raw === null) return entry[i] === text;
  return raw === unescape(encodeURIComponent(text));
}

// urlFormSortKey is the name sort() compares. For raw bytes workerd reads
// the UTF-8 in them and takes any other byte as the code unit of its value.
const URL_UTF8_SEQUENCE = /[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}/g;

function urlFormSortKey(entry) {
  const raw = entry[2];
  if (raw === undefined || raw === null) return entry[0];
  return raw.replace(URL_UTF8_SEQUENCE, (m) => decodeURIComponent(escape(m)));
}

function urlFormEncode(s) {
  URL_SET_FORM.lastIndex = 0;
  if (!URL_SET_FORM.test(s)) return s;
  URL_SET_FORM.lastIndex = 0;
  return s.replace(URL_SET_FORM, (ch) => (ch === " " ? "+" : urlEncodeMatch(ch)));
}

// urlFormEncodeRaw encodes a byte string (one char a byte).
function urlFormEncodeRaw(raw) {
  return raw.replace(/[^*\-.0-9A-Z_a-z]/g, (ch) => {
    const c = ch.charCodeAt(0);
    return c === 0x20 ? "+" : (c < 0x10 ? "%0" : "%") + c.toString(16).toUpperCase();
  });
}

function urlFormSerialize(list) {
  let out = "";
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (i > 0) out += "&";
    out += (typeof e[2] === "string" ? urlFormEncodeRaw(e[2]) : urlFormEncode(e[0])) + "=" +
      (typeof e[3] === "string" ? urlFormEncodeRaw(e[3]) : urlFormEncode(e[1]));
  }
  return out;
}

// ---- URL ----

let urlIsURL;
let uspCreateForURL;
let uspResetFromQuery;
let uspEntry;
let uspIsParams;

class URL {
  #url;
  #searchParams = null;

  constructor(url, base = undefined) {
    if (url === undefined && arguments.length === 0) {
      throw new TypeError("Failed to construct 'URL': constructor parameter 1 is not of type 'USVString'.");
    }
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = urlBasicParse(encToUSV(base), null);
      if (baseRecord === null) throw urlInvalid();
    }
    const record = urlBasicParse(encToUSV(url), baseRecord);
    if (record === null) throw urlInvalid();
    this.#url = record;
  }

  static canParse(url, base = undefined) {
    if (url === undefined && arguments.length === 0) {
      throw new TypeError("Failed to execute 'canParse' on 'URL': parameter 1 is not of type 'USVString'.");
    }
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = urlBasicParse(encToUSV(base), null);
      if (baseRecord === null) return false;
    }
    return urlBasicParse(encToUSV(url), baseRecord) !== null;
  }

  static parse(url, base = undefined) {
    if (url === undefined && arguments.length === 0) {
      throw new TypeError("Failed to execute 'parse' on 'URL': parameter 1 is not of type 'USVString'.");
    }
    try {
      return new URL(url, base);
    } catch (e) {
      if (e instanceof TypeError) return null;
      throw e;
    }
  }

  static createObjectURL() {
    throw new Error("URL.createObjectURL() is not implemented");
  }

  static revokeObjectURL() {
    throw new Error("URL.revokeObjectURL() is not implemented");
  }

  static #check(u) {
    if (typeof u !== "object" || u === null || !(#url in u)) throw webIllegalInvocation();
    return u.#url;
  }

  static {
    urlIsURL = (v) => typeof v === "object" && v !== null && #url in v;
  }

  get href() { return urlSerialize(URL.#check(this)); }
  set href(value) {
    URL.#check(this);
    const record = urlBasicParse(encToUSV(value), null);
    if (record === null) {
      throw new TypeError("Failed to set the 'href' property on 'URL': the provided value is not of type 'valid URL string'.");
    }
    // Edited in place: the searchParams object holds on to this record.
    Object.assign(this.#url, record);
    if (this.#searchParams !== null) uspResetFromQuery(this.#searchParams, record.query);
  }

  toString() { return urlSerialize(URL.#check(this)); }
  toJSON() { return urlSerialize(URL.#check(this)); }

  get origin() { return urlOrigin(URL.#check(this)); }

  get protocol() { return URL.#check(this).scheme + ":"; }
  set protocol(value) {
    urlBasicParse(encToUSV(value) + ":", null, URL.#check(this), S_SCHEME_START);
  }

  get username() { return URL.#check(this).username; }
  set username(value) {
    const url = URL.#check(this);
    if (urlCannotHaveCredentialsOrPort(url)) return;
    url.username = urlEncode(encToUSV(value), URL_SET_USERINFO);
  }

  get password() { return URL.#check(this).password; }
  set password(value) {
    const url = URL.#check(this);
    if (urlCannotHaveCredentialsOrPort(url)) return;
    url.password = urlEncode(encToUSV(value), URL_SET_USERINFO);
  }

  get host() {
    const url = URL.#check(this);
    if (url.host === null) return "";
    return url.port === null ? url.host : url.host + ":" + url.port;
  }
  set host(value) {
    const url = URL.#check(this);
    if (typeof url.path === "string") return;
    urlSetterParse(url, encToUSV(value), S_HOST);
  }

  get hostname() { return URL.#check(this).host ?? ""; }
  set hostname(value) {
    const url = URL.#check(this);
    if (typeof url.path === "string") return;
    urlSetterParse(url, encToUSV(value), S_HOSTNAME);
  }

  get port() {
    const port = URL.#check(this).port;
    return port === null ? "" : String(port);
  }
  set port(value) {
    const url = URL.#check(this);
    if (urlCannotHaveCredentialsOrPort(url)) return;
    value = encToUSV(value);
    if (value === "") url.port = null;
    else urlSetterParse(url, value, S_PORT);
  }

  get pathname() { return urlSerializePath(URL.#check(this)); }
  set pathname(value) {
    const url = URL.#check(this);
    if (typeof url.path === "string") return;
    const saved = url.path;
    url.path = [];
    if (urlBasicParse(encToUSV(value), null, url, S_PATH_START) === URL_FAILURE) url.path = saved;
  }

  get search() {
    const query = URL.#check(this).query;
    return query === null || query === "" ? "" : "?" + query;
  }
  set search(value) {
    const url = URL.#check(this);
    value = encToUSV(value);
    if (value === "") {
      url.query = null;
      urlStripTrailingSpaces(url);
    } else {
      const input = value[0] === "?" ? value.slice(1) : value;
      url.query = "";
      urlBasicParse(input, null, url, S_QUERY);
    }
    if (this.#searchParams !== null) uspResetFromQuery(this.#searchParams, url.query);
  }

  get searchParams() {
    const url = URL.#check(this);
    if (this.#searchParams === null) this.#searchParams = uspCreateForURL(url, this);
    return this.#searchParams;
  }

  get hash() {
    const fragment = URL.#check(this).fragment;
    return fragment === null || fragment === "" ? "" : "#" + fragment;
  }
  set hash(value) {
    const url = URL.#check(this);
    value = encToUSV(value);
    if (value === "") {
      url.fragment = null;
      urlStripTrailingSpaces(url);
      return;
    }
    url.fragment = "";
    urlBasicParse(value[0] === "#" ? value.slice(1) : value, null, url, S_FRAGMENT);
  }

}
// urlEnumerable makes a class's members (static ones too) enumerable, as
// Web IDL and workerd have them.
function urlEnumerable(cls) {
  for (const key of Object.getOwnPropertyNames(cls.prototype)) {
    if (key !== "constructor") Object.defineProperty(cls.prototype, key, { enumerable: true });
  }
  for (const key of Object.getOwnPropertyNames(cls)) {
    if (key !== "length" && key !== "name" && key !== "prototype") Object.defineProperty(cls, key, { enumerable: true });
  }
}

urlEnumerable(URL);
Object.defineProperty(URL.prototype, Symbol.toStringTag, { value: "URL", configurable: true });

// urlSetterParse runs a setter's state-override parse on a copy, so that a
// failure halfway leaves the URL as it was.
function urlSetterParse(url, value, state) {
  const copy = urlCopyRecord(url);
  if (urlBasicParse(value, null, copy, state) === URL_FAILURE) return;
  Object.assign(url, copy);
}

// ---- URLSearchParams ----

function uspToUSV(v) {
  return `${v}`.toWellFormed();
}

class URLSearchParams {
  #list = [];
  // The URL record this object belongs to, kept in step with it.
  #url = null;

  constructor(init = "") {
    if (init !== null && (typeof init === "object" || typeof init === "function")) {
      const iterator = init[Symbol.iterator];
      if (iterator !== undefined && iterator !== null) {
        if (typeof iterator !== "function") {
          throw new TypeError("Incorrect type: the provided value is not of type 'Sequence'.");
        }
        for (const pair of init) {
          if (pair === null || (typeof pair !== "object" && typeof pair !== "function") || typeof pair[Symbol.iterator] !== "function") {
            throw new TypeError("Incorrect type: the provided value is not of type 'Sequence'.");
          }
          const items = Array.from(pair);
          if (items.length !== 2) throw new TypeError("Invalid URL search params sequence.");
          this.#list.push([uspToUSV(items[0]), uspToUSV(items[1])]);
        }
      } else {
        // workerd skips symbol keys, which Web IDL would reject.
        for (const key of Object.getOwnPropertyNames(init)) {
          const desc = Reflect.getOwnPropertyDescriptor(init, key);
          if (desc === undefined || !desc.enumerable) continue;
          this.#list.push([uspToUSV(key), uspToUSV(init[key])]);
        }
      }
    } else {
      const s = uspToUSV(init);
      this.#list = urlFormParse(s[0] === "?" ? s.slice(1) : s);
    }
  }

  static #check(p) {
    if (typeof p !== "object" || p === null || !(#list in p)) throw webIllegalInvocation();
    return p;
  }

  // Web IDL would convert a missing argument to "undefined"; workerd refuses.
  static #args(n, method, count) {
    if (n < count) {
      throw new TypeError(`Failed to execute '${method}' on 'URLSearchParams': parameter ${n + 1} is not of type 'USVString'.`);
    }
  }

  // The URL Standard's "update": write the list back into the URL's query.
  #update() {
    const url = this.#url;
    if (url === null) return;
    const serialized = urlFormSerialize(this.#list);
    url.query = serialized === "" ? null : serialized;
    if (url.query === null) urlStripTrailingSpaces(url);
  }

  get size() { return URLSearchParams.#check(this).#list.length; }

  append(name, value) {
    URLSearchParams.#check(this);
    URLSearchParams.#args(arguments.length, "append", 2);
    this.#list.push([uspToUSV(name), uspToUSV(value)]);
    this.#update();
  }

  delete(name, value = undefined) {
    URLSearchParams.#check(this);
    URLSearchParams.#args(arguments.length, "delete", 1);
    name = uspToUSV(name);
    if (value === undefined) {
      this.#list = this.#list.filter((e) => !urlFormMatches(e, 0, name));
    } else {
      value = uspToUSV(value);
      this.#list = this.#list.filter((e) => !urlFormMatches(e, 0, name) || !urlFormMatches(e, 1, value));
    }
    this.#update();
  }

  get(name) {
    URLSearchParams.#check(this);
    URLSearchParams.#args(arguments.length, "get", 1);
    name = uspToUSV(name);
    for (const e of this.#list) if (urlFormMatches(e, 0, name)) return e[1];
    return null;
  }

  getAll(name) {
    URLSearchParams.#check(this);
    URLSearchParams.#args(arguments.length, "getAll", 1);
    name = uspToUSV(name);
    const out = [];
    for (const e of this.#list) if (urlFormMatches(e, 0, name)) out.push(e[1]);
    return out;
  }

  has(name, value = undefined) {
    URLSearchParams.#check(this);
    URLSearchParams.#args(arguments.length, "has", 1);
    name = uspToUSV(name);
    if (value === undefined) return this.#list.some((e) => urlFormMatches(e, 0, name));
    value = uspToUSV(value);
    return this.#list.some((e) => urlFormMatches(e, 0, name) && urlFormMatches(e, 1, value));
  }

  set(name, value) {
    URLSearchParams.#check(this);
    URLSearchParams.#args(arguments.length, "set", 2);
    name = uspToUSV(name);
    value = uspToUSV(value);
    const i = this.#list.findIndex((e) => urlFormMatches(e, 0, name));
    if (i < 0) {
      this.#list.push([name, value]);
    } else {
      const e = this.#list[i];
      this.#list[i] = e.length > 2 ? [e[0], value, e[2], null] : [e[0], value];
      this.#list = this.#list.filter((e, j) => j <= i || !urlFormMatches(e, 0, name));
    }
    this.#update();
  }

  sort() {
    URLSearchParams.#check(this);
    // Stable by name in UTF-16 code units, whatever sort() the engine has:
    // ties fall back to the original position.
    const indexed = this.#list.map((e, i) => [urlFormSortKey(e), i, e]);
    indexed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    this.#list = indexed.map((x) => x[2]);
    this.#update();
  }

  forEach(callback, thisArg = undefined) {
    URLSearchParams.#check(this);
    if (typeof callback !== "function") {
      throw new TypeError("Failed to execute 'forEach' on 'URLSearchParams': parameter 1 is not of type 'Function'.");
    }
    for (let i = 0; i < this.#list.length; i++) {
      const [name, value] = this.#list[i];
      callback.call(thisArg, value, name, this);
    }
  }

  entries() { return new URLSearchParamsIterator(URLSearchParams.#check(this), "entries"); }
  keys() { return new URLSearchParamsIterator(URLSearchParams.#check(this), "keys"); }
  values() { return new URLSearchParamsIterator(URLSearchParams.#check(this), "values"); }

  toString() {
    return urlFormSerialize(URLSearchParams.#check(this).#list);
  }

  static {
    uspCreateForURL = (record) => {
      const params = new URLSearchParams();
      params.#url = record;
      params.#list = record.query === null ? [] : urlFormParse(record.query);
      return params;
    };
    uspResetFromQuery = (params, query) => {
      params.#list = query === null ? [] : urlFormParse(query);
    };
    uspEntry = (params, i) => params.#list[i];
    uspIsParams = (v) => typeof v === "object" && v !== null && #list in v;
  }
}
urlEnumerable(URLSearchParams);
Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, { value: URLSearchParams.prototype.entries, writable: true, configurable: true });
Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, { value: "URLSearchParams", configurable: true });

// Iterators walk the live list by index, as Web IDL's pair iterators do.
// workerd names them EntryIterator, KeyIterator and ValueIterator.
class URLSearchParamsIterator {
  #params;
  #kind;
  #index = 0;

  constructor(params, kind) {
    this.#params = params;
    this.#kind = kind;
  }

  get [Symbol.toStringTag]() {
    return this.#kind === "keys" ? "KeyIterator" : this.#kind === "values" ? "ValueIterator" : "EntryIterator";
  }

  next() {
    if (typeof this !== "object" || this === null || !(#params in this)) throw webIllegalInvocation();
    const entry = uspEntry(this.#params, this.#index);
    if (entry === undefined) return { value: undefined, done: true };
    this.#index++;
    const value = this.#kind === "keys" ? entry[0] : this.#kind === "values" ? entry[1] : [entry[0], entry[1]];
    return { value, done: false };
  }
}
Object.setPrototypeOf(URLSearchParamsIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));

// urlIsPlatform tells structuredClone what it must refuse.
function urlIsPlatform(v) {
  return urlIsURL(v) || uspIsParams(v);
}

defineGlobal("URL", URL);
defineGlobal("URLSearchParams", URLSearchParams);
