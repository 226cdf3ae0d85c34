// 70_crypto.js: the Web Crypto API — the crypto global, Crypto, SubtleCrypto
// and CryptoKey. JS validates arguments, normalizes algorithms and keeps key
// state; the crypto itself happens in Go (internal/webcrypto) through
// host.crypto(op, paramsJSON, ...buffers) -> [result, "Name: message" | null].
//
// A CryptoKey's material lives in a WeakMap slot, never on the object:
// raw bytes for secret keys, PKCS #8 for private keys, SPKI for public keys.
// Binary members inside the JSON that crosses to Go are hex strings.
//
// Error names and messages follow workerd's where it has them.

// ---- errors and host calls ----

function cryptoError(name, message) {
  // hostError turns "SyntaxError" into the JS SyntaxError; Web Crypto's
  // SyntaxError is a DOMException.
  if (name === "SyntaxError" && typeof DOMException === "function") return new DOMException(message, name);
  return hostError(name + ": " + message);
}

function cryptoCall(op, params, ...buffers) {
  if (typeof host.crypto !== "function") {
    throw cryptoError("NotSupportedError", "Web Crypto is not available in this runtime.");
  }
  const pair = host.crypto(op, JSON.stringify(params), ...buffers.map((b) => exactBuffer(b)));
  const err = pair[1];
  if (err !== null && err !== undefined && err !== "") {
    const i = err.indexOf(": ");
    throw i > 0 ? cryptoError(err.slice(0, i), err.slice(i + 2)) : cryptoError("OperationError", err);
  }
  return pair[0];
}

const cryptoHexDigits = "0123456789abcdef";

function cryptoToHex(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += cryptoHexDigits[bytes[i] >> 4] + cryptoHexDigits[bytes[i] & 15];
  return s;
}

function cryptoFromHex(s) {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

function cryptoIsBufferSource(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

// cryptoCopyBytes snapshots a BufferSource, so later writes by the caller
// cannot reach a key or an operation in flight.
function cryptoCopyBytes(v, what) {
  if (!cryptoIsBufferSource(v)) throw new TypeError(what + " must be an ArrayBuffer or ArrayBufferView.");
  return toBytes(v).slice();
}

// ---- algorithms ----

const cryptoUsageOrder = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
const cryptoPrivateUsages = ["sign", "decrypt", "unwrapKey", "deriveKey", "deriveBits"];
const cryptoPublicUsages = ["verify", "encrypt", "wrapKey"];

const cryptoCipherUsages = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
const cryptoSignUsages = ["sign", "verify"];
const cryptoDeriveUsages = ["deriveKey", "deriveBits"];

// Registered algorithms by canonical name. secret: symmetric keys;
// generate: generateKey supports it.
const cryptoAlgorithmTable = {
  "AES-CTR": { secret: true, generate: true, usages: cryptoCipherUsages },
  "AES-CBC": { secret: true, generate: true, usages: cryptoCipherUsages },
  "AES-GCM": { secret: true, generate: true, usages: cryptoCipherUsages },
  "AES-KW": { secret: true, generate: true, usages: ["wrapKey", "unwrapKey"] },
  "HMAC": { secret: true, generate: true, usages: cryptoSignUsages },
  "PBKDF2": { secret: true, generate: false, usages: cryptoDeriveUsages },
  "HKDF": { secret: true, generate: false, usages: cryptoDeriveUsages },
  "RSASSA-PKCS1-v1_5": { generate: true, usages: cryptoSignUsages },
  "RSA-PSS": { generate: true, usages: cryptoSignUsages },
  "RSA-OAEP": { generate: true, usages: cryptoCipherUsages },
  "ECDSA": { generate: true, usages: cryptoSignUsages },
  "ECDH": { generate: true, usages: cryptoDeriveUsages },
  "NODE-ED25519": { generate: true, usages: cryptoSignUsages },
  "Ed25519": { generate: true, usages: cryptoSignUsages },
  "X25519": { generate: true, usages: cryptoDeriveUsages },
};

// Algorithm names match case-insensitively, as in workerd.
function cryptoCanonicalName(name) {
  const upper = String(name).toUpperCase();
  for (const k of Object.keys(cryptoAlgorithmTable)) {
    if (k.toUpperCase() === upper) return k;
  }
  return undefined;
}

function cryptoHashName(hash, member) {
  if (typeof hash === "string") return hash;
  if (hash !== null && typeof hash === "object") {
    if (hash.name === undefined) throw new TypeError("Missing field \"name\" in \"" + member + "\".");
    return String(hash.name);
  }
  throw new TypeError("\"" + member + "\" must be a string or an object with a \"name\".");
}

// WebIDL-ish integer conversion: non-finite becomes 0, fractions truncate,
// and the result stays within what Go's int can read from JSON.
function cryptoInteger(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return 0;
  return Math.max(Math.min(Math.trunc(n), Number.MAX_SAFE_INTEGER), Number.MIN_SAFE_INTEGER);
}

const cryptoBufferMembers = ["iv", "additionalData", "counter", "label", "salt", "info", "publicExponent"];
const cryptoIntegerMembers = ["length", "tagLength", "saltLength", "iterations", "modulusLength"];

// cryptoNormalize reads an AlgorithmIdentifier into the plain object Go
// expects. The peer key of ECDH/X25519 comes back separately as .public.
function cryptoNormalize(algorithm) {
  if (typeof algorithm === "string") return { params: { name: algorithm }, public: undefined };
  if (algorithm === null || (typeof algorithm !== "object" && typeof algorithm !== "function")) {
    throw new TypeError("Algorithm must be a string or an object with a \"name\" property.");
  }
  if (algorithm.name === undefined) throw new TypeError("Missing field \"name\" in \"algorithm\".");
  const params = { name: String(algorithm.name) };
  if (algorithm.hash !== undefined) params.hash = cryptoHashName(algorithm.hash, "hash");
  if (algorithm.namedCurve !== undefined) params.namedCurve = String(algorithm.namedCurve);
  for (const m of cryptoIntegerMembers) {
    if (algorithm[m] !== undefined) params[m] = cryptoInteger(algorithm[m]);
  }
  for (const m of cryptoBufferMembers) {
    const v = algorithm[m];
    if (v === undefined) continue;
    if (!cryptoIsBufferSource(v)) throw new TypeError("\"" + m + "\" in \"algorithm\" must be an ArrayBuffer or ArrayBufferView.");
    params[m] = cryptoToHex(toBytes(v));
  }
  return { params, public: algorithm.public };
}

function cryptoUsageList(keyUsages) {
  if (keyUsages === null || typeof keyUsages !== "object" || typeof keyUsages[Symbol.iterator] !== "function") {
    throw new TypeError("Key usages must be a sequence of strings.");
  }
  return Array.from(keyUsages, String);
}

// cryptoValidateUsages checks the requested usages against those allowed and
// returns them deduplicated, in the platform's order.
function cryptoValidateUsages(name, context, usages, allowed) {
  for (const u of usages) {
    if (!allowed.includes(u)) {
      throw cryptoError("SyntaxError", "Attempt to " + context + " " + name + " key with invalid usage \"" + u + "\".");
    }
  }
  return cryptoUsageOrder.filter((u) => usages.includes(u));
}

// ---- CryptoKey ----

const cryptoKeySlots = new WeakMap();
const cryptoToken = Symbol("crypto");

class CryptoKey {
  constructor(token) {
    if (token !== cryptoToken) throw new TypeError("Illegal constructor");
  }
  get type() { return cryptoSlot(this).type; }
  get extractable() { return cryptoSlot(this).extractable; }
  get algorithm() { return cryptoPublicAlgorithm(cryptoSlot(this).algorithm); }
  get usages() { return cryptoSlot(this).usages.slice(); }
}
for (const name of ["type", "extractable", "algorithm", "usages"]) {
  Object.defineProperty(CryptoKey.prototype, name, { enumerable: true });
}
Object.defineProperty(CryptoKey.prototype, Symbol.toStringTag, { value: "CryptoKey", configurable: true });

function cryptoSlot(key) {
  const slot = cryptoKeySlots.get(key);
  if (slot === undefined) throw new TypeError("Illegal invocation");
  return slot;
}

function cryptoKeySlot(key, what) {
  const slot = key !== null && typeof key === "object" ? cryptoKeySlots.get(key) : undefined;
  if (slot === undefined) throw new TypeError(what + " must be a CryptoKey.");
  return slot;
}

// algorithm is the internal form Go returns: hash as a name, publicExponent
// as hex.
function cryptoNewKey(type, extractable, algorithm, usages, data) {
  const key = new CryptoKey(cryptoToken);
  cryptoKeySlots.set(key, { type, extractable, algorithm, usages, data });
  return key;
}

function cryptoPublicAlgorithm(a) {
  const out = { name: a.name };
  if (a.modulusLength !== undefined) {
    out.modulusLength = a.modulusLength;
    out.publicExponent = cryptoFromHex(a.publicExponent || "");
  }
  if (a.hash !== undefined) out.hash = { name: a.hash };
  if (a.length !== undefined) out.length = a.length;
  if (a.namedCurve !== undefined) out.namedCurve = a.namedCurve;
  return out;
}

// cryptoKeyInfo is the description of a key that travels with its material.
function cryptoKeyInfo(slot) {
  return { type: slot.type, algorithm: slot.algorithm, usages: slot.usages };
}

// cryptoCheckKey is workerd's validateOperation: the requested algorithm must
// be the key's, and the key must allow the usage.
function cryptoCheckKey(slot, requested, usage) {
  if (String(requested).toUpperCase() !== slot.algorithm.name.toUpperCase()) {
    throw cryptoError("InvalidAccessError", "Requested algorithm \"" + requested +
      "\" does not match this CryptoKey's algorithm \"" + slot.algorithm.name + "\".");
  }
  if (!slot.usages.includes(usage)) {
    throw cryptoError("InvalidAccessError", "Requested key usage \"" + usage +
      "\" does not match any usage listed in this CryptoKey.");
  }
}

// ---- import and export, shared by importKey, deriveKey and unwrapKey ----

const cryptoBufferFormats = ["raw", "pkcs8", "spki"];
const cryptoJWKStrings = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"];

function cryptoReadJWK(keyData) {
  const jwk = {};
  for (const m of cryptoJWKStrings) {
    if (keyData[m] !== undefined) jwk[m] = String(keyData[m]);
  }
  if (jwk.kty === undefined) throw new TypeError("Missing field \"kty\" in \"keyData\".");
  if (keyData.key_ops !== undefined) jwk.key_ops = cryptoUsageList(keyData.key_ops);
  if (keyData.ext !== undefined) jwk.ext = !!keyData.ext;
  if (keyData.oth !== undefined) jwk.oth = keyData.oth;
  return jwk;
}

function cryptoImport(format, keyData, normalized, extractable, usages) {
  const params = normalized.params;
  let jwk, bytes;
  format = String(format);
  if (cryptoBufferFormats.includes(format)) {
    if (!cryptoIsBufferSource(keyData)) {
      throw new TypeError("Import data provided for buffer-based import formats must be a buffer source.");
    }
    bytes = toBytes(keyData);
  } else if (format === "jwk") {
    if (keyData === null || typeof keyData !== "object" || cryptoIsBufferSource(keyData)) {
      throw new TypeError("Import data provided for \"jwk\" import format must be a JsonWebKey.");
    }
    jwk = cryptoReadJWK(keyData);
    if (jwk.ext === false && extractable) {
      throw cryptoError("DataError", "JWK ext field for \"" + params.name + "\" is set to false but extractable is true");
    }
  } else {
    throw cryptoError("NotSupportedError", "Unrecognized key import format \"" + format + "\".");
  }
  const name = cryptoCanonicalName(params.name);
  if (name === undefined) {
    throw cryptoError("NotSupportedError", "Unrecognized key import algorithm \"" + params.name + "\" requested.");
  }
  const def = cryptoAlgorithmTable[name];
  let type = "secret", context = "import secret", allowed = def.usages;
  if (!def.secret) {
    const isPrivate = format === "pkcs8" || (format === "jwk" && jwk.d !== undefined);
    type = isPrivate ? "private" : "public";
    context = "import " + type;
    const mask = isPrivate ? cryptoPrivateUsages : cryptoPublicUsages;
    allowed = allowed.filter((u) => mask.includes(u));
  }
  const valid = cryptoValidateUsages(name, context, usages, allowed);
  params.name = name;
  const request = { format, alg: params, extractable, usages: valid };
  if (jwk !== undefined) request.jwk = jwk;
  const res = JSON.parse(bytes === undefined ? cryptoCall("importKey", request) : cryptoCall("importKey", request, bytes));
  if (valid.length === 0 && (res.type === "secret" || res.type === "private")) {
    throw cryptoError("SyntaxError", "Secret/private CryptoKeys must have at least one usage.");
  }
  return cryptoNewKey(res.type, extractable, res.algorithm, valid, cryptoFromHex(res.data));
}

// cryptoExport returns an ArrayBuffer, or the JWK as JSON text.
function cryptoExport(format, slot) {
  if (!slot.extractable) {
    throw cryptoError("InvalidAccessError", "Attempt to export non-extractable " + slot.algorithm.name + " key.");
  }
  return cryptoCall("exportKey", { format: String(format), key: cryptoKeyInfo(slot) }, slot.data);
}

// cryptoDerivedKeyLength is the spec's "get key length" for deriveKey.
function cryptoDerivedKeyLength(params) {
  const name = cryptoCanonicalName(params.name);
  if (name === undefined || !["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW", "HMAC", "HKDF", "PBKDF2"].includes(name)) {
    throw cryptoError("NotSupportedError", "Unrecognized derived key type \"" + params.name + "\" requested.");
  }
  if (name.startsWith("AES-")) {
    if (params.length === undefined) throw new TypeError("Missing field \"length\" in \"derivedKeyParams\".");
    if (params.length !== 128 && params.length !== 192 && params.length !== 256) {
      throw cryptoError("OperationError", "Derived AES key must be 128, 192, or 256 bits in length but provided " + params.length + ".");
    }
    return params.length;
  }
  if (name === "HMAC") {
    if (params.length !== undefined) {
      if (params.length > 0) return params.length;
      throw new TypeError("HMAC key length must be a non-zero unsigned long integer.");
    }
    if (params.hash === undefined) throw new TypeError("Missing field \"hash\" in \"derivedKeyParams\".");
    const hash = params.hash.toUpperCase();
    if (hash === "SHA-384" || hash === "SHA-512") return 1024;
    if (hash === "SHA-1" || hash === "SHA-256" || hash === "MD5") return 512;
    throw cryptoError("NotSupportedError", "Unrecognized or unimplemented digest algorithm requested.");
  }
  return null;
}

function cryptoDeriveBits(normalized, slot, length) {
  const request = { alg: normalized.params, key: cryptoKeyInfo(slot), length };
  const name = slot.algorithm.name;
  if (name === "ECDH" || name === "X25519") {
    const peer = normalized.public;
    if (peer === undefined || peer === null) throw new TypeError("Missing field \"public\" in \"derivedKeyParams\".");
    const peerSlot = cryptoKeySlot(peer, "\"public\" in \"derivedKeyParams\"");
    request.public = cryptoKeyInfo(peerSlot);
    return cryptoCall("deriveBits", request, slot.data, peerSlot.data);
  }
  return cryptoCall("deriveBits", request, slot.data);
}

function cryptoArgs(count, needed, method) {
  if (count < needed) {
    throw new TypeError("Failed to execute '" + method + "' on 'SubtleCrypto': " + needed +
      " arguments required, but only " + count + " present.");
  }
}

function cryptoLatin1(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return s;
}

function cryptoUTF8(text) {
  if (typeof TextEncoder === "function") return new TextEncoder().encode(text);
  // Exported JWKs are ASCII, so this fallback is exact for them.
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function cryptoDecodeUTF8(bytes) {
  if (typeof TextDecoder === "function") return new TextDecoder().decode(bytes);
  return cryptoLatin1(bytes);
}

// ---- SubtleCrypto ----

class SubtleCrypto {
  constructor(token) {
    if (token !== cryptoToken) throw new TypeError("Illegal constructor");
  }

  async digest(algorithm, data) {
    cryptoArgs(arguments.length, 2, "digest");
    const { params } = cryptoNormalize(algorithm);
    const bytes = cryptoCopyBytes(data, "data");
    return cryptoCall("digest", { name: params.name }, bytes);
  }

  async importKey(format, keyData, algorithm, extractable, keyUsages) {
    cryptoArgs(arguments.length, 5, "importKey");
    const normalized = cryptoNormalize(algorithm);
    return cryptoImport(format, keyData, normalized, !!extractable, cryptoUsageList(keyUsages));
  }

  async exportKey(format, key) {
    cryptoArgs(arguments.length, 2, "exportKey");
    const slot = cryptoKeySlot(key, "key");
    const out = cryptoExport(format, slot);
    return typeof out === "string" ? JSON.parse(out) : out;
  }

  async generateKey(algorithm, extractable, keyUsages) {
    cryptoArgs(arguments.length, 3, "generateKey");
    const { params } = cryptoNormalize(algorithm);
    extractable = !!extractable;
    const usages = cryptoUsageList(keyUsages);
    const name = cryptoCanonicalName(params.name);
    const def = name === undefined ? undefined : cryptoAlgorithmTable[name];
    if (def === undefined || !def.generate) {
      throw cryptoError("NotSupportedError", "Unrecognized key generation algorithm \"" + params.name + "\" requested.");
    }
    params.name = name;
    const valid = cryptoValidateUsages(name, "generate", usages, def.usages);
    // Checked before generating, not after as workerd does, so that a doomed
    // request does not first pay for an RSA key.
    if (def.secret && valid.length === 0) {
      throw cryptoError("SyntaxError", "Secret/private CryptoKeys must have at least one usage.");
    }
    const privateUsages = valid.filter((u) => cryptoPrivateUsages.includes(u));
    if (!def.secret && privateUsages.length === 0) {
      throw cryptoError("SyntaxError", "Attempt to generate asymmetric keys with no valid private key usages.");
    }
    const res = JSON.parse(cryptoCall("generateKey", { alg: params }));
    if (res.secret !== undefined) {
      return cryptoNewKey("secret", extractable, res.algorithm, valid, cryptoFromHex(res.secret));
    }
    const publicUsages = valid.filter((u) => cryptoPublicUsages.includes(u));
    return {
      // Public keys are always extractable.
      publicKey: cryptoNewKey("public", true, res.algorithm, publicUsages, cryptoFromHex(res.public)),
      privateKey: cryptoNewKey("private", extractable, res.algorithm, privateUsages, cryptoFromHex(res.private)),
    };
  }

  async sign(algorithm, key, data) {
    cryptoArgs(arguments.length, 3, "sign");
    const { params } = cryptoNormalize(algorithm);
    const slot = cryptoKeySlot(key, "key");
    const bytes = cryptoCopyBytes(data, "data");
    cryptoCheckKey(slot, params.name, "sign");
    return cryptoCall("sign", { alg: params, key: cryptoKeyInfo(slot) }, slot.data, bytes);
  }

  async verify(algorithm, key, signature, data) {
    cryptoArgs(arguments.length, 4, "verify");
    const { params } = cryptoNormalize(algorithm);
    const slot = cryptoKeySlot(key, "key");
    const sig = cryptoCopyBytes(signature, "signature");
    const bytes = cryptoCopyBytes(data, "data");
    cryptoCheckKey(slot, params.name, "verify");
    return cryptoCall("verify", { alg: params, key: cryptoKeyInfo(slot) }, slot.data, sig, bytes);
  }

  async encrypt(algorithm, key, data) {
    cryptoArgs(arguments.length, 3, "encrypt");
    const { params } = cryptoNormalize(algorithm);
    const slot = cryptoKeySlot(key, "key");
    const bytes = cryptoCopyBytes(data, "data");
    cryptoCheckKey(slot, params.name, "encrypt");
    return cryptoCall("encrypt", { alg: params, key: cryptoKeyInfo(slot) }, slot.data, bytes);
  }

  async decrypt(algorithm, key, data) {
    cryptoArgs(arguments.length, 3, "decrypt");
    const { params } = cryptoNormalize(algorithm);
    const slot = cryptoKeySlot(key, "key");
    const bytes = cryptoCopyBytes(data, "data");
    cryptoCheckKey(slot, params.name, "decrypt");
    return cryptoCall("decrypt", { alg: params, key: cryptoKeyInfo(slot) }, slot.data, bytes);
  }

  async deriveBits(algorithm, baseKey, length) {
    cryptoArgs(arguments.length, 2, "deriveBits");
    const normalized = cryptoNormalize(algorithm);
    const slot = cryptoKeySlot(baseKey, "baseKey");
    let bits = null;
    if (length !== undefined && length !== null) {
      bits = cryptoInteger(length);
      if (bits < 0) throw new TypeError("deriveBits length must be an unsigned long integer.");
    }
    cryptoCheckKey(slot, normalized.params.name, "deriveBits");
    return cryptoDeriveBits(normalized, slot, bits);
  }

  async deriveKey(algorithm, baseKey, derivedKeyAlgorithm, extractable, keyUsages) {
    cryptoArgs(arguments.length, 5, "deriveKey");
    const normalized = cryptoNormalize(algorithm);
    const slot = cryptoKeySlot(baseKey, "baseKey");
    const derived = cryptoNormalize(derivedKeyAlgorithm);
    const usages = cryptoUsageList(keyUsages);
    cryptoCheckKey(slot, normalized.params.name, "deriveKey");
    const length = cryptoDerivedKeyLength(derived.params);
    const secret = cryptoDeriveBits(normalized, slot, length);
    return cryptoImport("raw", secret, derived, !!extractable, usages);
  }

  async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    cryptoArgs(arguments.length, 4, "wrapKey");
    const slot = cryptoKeySlot(key, "key");
    const wrapping = cryptoKeySlot(wrappingKey, "wrappingKey");
    const { params } = cryptoNormalize(wrapAlgorithm);
    cryptoCheckKey(wrapping, params.name, "wrapKey");
    const exported = cryptoExport(format, slot);
    const bytes = typeof exported === "string" ? cryptoUTF8(exported) : exported;
    return cryptoCall("wrapKey", { alg: params, key: cryptoKeyInfo(wrapping) }, wrapping.data, bytes);
  }

  async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    cryptoArgs(arguments.length, 7, "unwrapKey");
    const bytes = cryptoCopyBytes(wrappedKey, "wrappedKey");
    const unwrapping = cryptoKeySlot(unwrappingKey, "unwrappingKey");
    const { params } = cryptoNormalize(unwrapAlgorithm);
    const target = cryptoNormalize(unwrappedKeyAlgorithm);
    const usages = cryptoUsageList(keyUsages);
    cryptoCheckKey(unwrapping, params.name, "unwrapKey");
    const plain = new Uint8Array(cryptoCall("unwrapKey", { alg: params, key: cryptoKeyInfo(unwrapping) }, unwrapping.data, bytes));
    let keyData = plain;
    if (String(format) === "jwk") {
      try {
        keyData = JSON.parse(cryptoDecodeUTF8(plain));
      } catch {
        keyData = undefined;
      }
      if (keyData === null || typeof keyData !== "object" || keyData.kty === undefined) {
        throw cryptoError("DataError", "Missing \"kty\" field or corrupt JSON unwrapping key?");
      }
    }
    return cryptoImport(format, keyData, target, !!extractable, usages);
  }

  // Not standard: workerd's constant-time comparison of two buffers.
  timingSafeEqual(a, b) {
    const x = toBytes(a), y = toBytes(b);
    if (x.byteLength !== y.byteLength) throw new TypeError("Input buffers must have the same byte length.");
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }
}
Object.defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: "SubtleCrypto", configurable: true });

// ---- Crypto and the crypto global ----

const cryptoMaxRandomBytes = 65536;

function cryptoIsIntegerView(v) {
  return v instanceof Int8Array || v instanceof Uint8Array || v instanceof Uint8ClampedArray ||
    v instanceof Int16Array || v instanceof Uint16Array || v instanceof Int32Array ||
    v instanceof Uint32Array || v instanceof BigInt64Array || v instanceof BigUint64Array;
}

function cryptoRandomFill(bytes) {
  if (bytes.byteLength > 0) bytes.set(new Uint8Array(host.randomBytes(bytes.byteLength)));
}

const cryptoSubtle = new SubtleCrypto(cryptoToken);

class Crypto {
  constructor(token) {
    if (token !== cryptoToken) throw new TypeError("Illegal constructor");
  }

  get subtle() { return cryptoSubtle; }

  getRandomValues(array) {
    checkGlobalScope();
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.");
    }
    if (!ArrayBuffer.isView(array)) {
      throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
    }
    if (!cryptoIsIntegerView(array)) {
      throw cryptoError("TypeMismatchError", "ArrayBufferView argument to getRandomValues() must be an integer-typed view.");
    }
    if (array.byteLength > cryptoMaxRandomBytes) {
      throw cryptoError("QuotaExceededError", "getRandomValues() only accepts buffers of size <= 64K but provided " +
        array.byteLength + " bytes.");
    }
    cryptoRandomFill(toBytes(array));
    return array;
  }

  randomUUID() {
    checkGlobalScope();
    return hostResult(host.crypto("randomUUID", ""));
  }
}
Object.defineProperty(Crypto.prototype, Symbol.toStringTag, { value: "Crypto", configurable: true });

// crypto.DigestStream is workerd's: a WritableStream whose digest (a
// promise) settles with the hash of all that was written once it closes, or
// with the abort's reason. It hashes as the bytes arrive, in Go (the "stream"
// host functions, runtime/streamhost.go); a stream dropped unclosed frees its
// hash when its state is collected.
const digestAlgorithms = { "sha-1": "SHA-1", "sha-256": "SHA-256", "sha-384": "SHA-384", "sha-512": "SHA-512", md5: "MD5" };
const digestRegistry = new FinalizationRegistry((h) => host.byteStreamFree(h));

class DigestStream extends WritableStream {
  #digest;
  #state;
  constructor(algorithm) {
    if (algorithm === undefined || algorithm === null || (typeof algorithm !== "string" && typeof algorithm !== "object")) {
      throw new TypeError("Failed to construct 'DigestStream': constructor parameter 1 is not of type 'string or HashAlgorithm'.");
    }
    const name = digestAlgorithms[String(typeof algorithm === "string" ? algorithm : algorithm.name).toLowerCase()];
    if (name === undefined) throw cryptoError("NotSupportedError", "Unrecognized or unimplemented digest algorithm requested.");
    hostNeed("stream");
    const state = { h: hostResult(host.digestOpen(name)), bytes: 0n };
    let settle;
    const digest = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    super({
      write(chunk) {
        let bytes;
        if (typeof chunk === "string") bytes = new TextEncoder().encode(chunk);
        else if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) bytes = toBytes(chunk);
        else throw new TypeError("DigestStream is a byte stream but received an object of non-ArrayBuffer/ArrayBufferView/string type on its writable side.");
        hostResult(host.digestWrite(state.h, exactBuffer(bytes)));
        state.bytes += BigInt(bytes.byteLength);
      },
      close() {
        digestRegistry.unregister(state);
        settle.resolve(hostResult(host.digestEnd(state.h)));
      },
      abort(reason) {
        digestRegistry.unregister(state);
        host.byteStreamFree(state.h);
        settle.reject(reason);
      },
    });
    digest.catch(() => {}); // an abort's reason is the writer's to report
    digestRegistry.register(state, state.h, state);
    this.#digest = digest;
    this.#state = state;
  }
  get digest() { return this.#digest; }
  get bytesWritten() { return this.#state.bytes; }
}
Object.defineProperty(DigestStream.prototype, Symbol.toStringTag, { value: "DigestStream", configurable: true });
Object.defineProperty(Crypto.prototype, "DigestStream", { value: DigestStream, writable: true, configurable: true });

defineGlobal("crypto", new Crypto(cryptoToken));
defineGlobal("Crypto", Crypto);
defineGlobal("SubtleCrypto", SubtleCrypto);
defineGlobal("CryptoKey", CryptoKey);
