// atob/btoa: round trips, whitespace and padding tolerance, and the
// InvalidCharacterError DOMException.
export default {
  async fetch() {
    const err = (fn) => { try { return fn(); } catch (e) { return `${e.name} (DOMException: ${e instanceof DOMException}, code ${e.code})`; } };
    return Response.json({
      btoa: btoa("Hello, world!"),
      btoaBinary: btoa("\x00\x01\xff"),
      btoaEmpty: btoa(""),
      btoaUnicode: err(() => btoa("☃")),
      btoaNumber: btoa(123),
      atob: atob("SGVsbG8sIHdvcmxkIQ=="),
      atobNoPadding: atob("SGk"),
      atobWhitespace: atob(" SG Vs\nbG8= "),
      atobBinary: [...atob("AAH/")].map((c) => c.charCodeAt(0)),
      atobInvalidChar: err(() => atob("SGV$sbG8=")),
      atobBadLength: err(() => atob("A")),
      atobBadPadding: err(() => atob("SGk==")),
      atobUrlSafe: err(() => atob("-_8")),
      atobNull: err(() => atob(null)),
      roundTrip: atob(btoa("round\ttrip\u00e9")),
    });
  },
};
