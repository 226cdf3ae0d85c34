// Which Web-platform globals exist and what they are. Limited to the APIs
// Isola aims at; workerd-only extras (caches, HTMLRewriter, WebSocket...)
// are left out.
const names = [
  "fetch", "Request", "Response", "Headers", "FormData", "Blob", "File",
  "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "TextEncoderStream", "TextDecoderStream",
  "ReadableStream", "WritableStream", "TransformStream", "ReadableStreamDefaultReader",
  "ByteLengthQueuingStrategy", "CountQueuingStrategy",
  "atob", "btoa", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask",
  "structuredClone", "crypto", "Crypto", "SubtleCrypto", "CryptoKey",
  "AbortController", "AbortSignal", "Event", "EventTarget", "CustomEvent", "DOMException",
  "performance", "navigator", "console", "globalThis", "self",
];
export default {
  async fetch() {
    return Response.json({
      types: Object.fromEntries(names.map((n) => [n, typeof globalThis[n]])),
      selfIsGlobal: self === globalThis,
      cryptoSubtle: crypto.subtle instanceof SubtleCrypto,
      cryptoIsCrypto: crypto instanceof Crypto,
      noWindow: typeof window,
      noProcess: typeof process,
      // Through globalThis: a bare `typeof require` is rewritten by esbuild
      // (which Isola and wrangler both bundle with) into its require shim.
      noRequire: typeof globalThis.require,
    });
  },
};
