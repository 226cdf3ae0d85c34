// TextEncoder / TextDecoder: UTF-8 both ways, BOM handling, fatal mode,
// streaming decode, encodeInto.
export default {
  async fetch() {
    const enc = new TextEncoder();
    const errName = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    const into = new Uint8Array(5);
    const intoResult = enc.encodeInto("a☃b", into);
    const streaming = new TextDecoder();
    const snow = enc.encode("☃");
    const s1 = streaming.decode(snow.slice(0, 2), { stream: true });
    const s2 = streaming.decode(snow.slice(2));
    return Response.json({
      encoding: [enc.encoding, new TextDecoder().encoding, new TextDecoder("UTF8").encoding],
      encoded: [...enc.encode("aé☃𝄞")],
      encodeEmpty: enc.encode().length,
      loneSurrogate: [...enc.encode("\ud800")],
      into: { ...intoResult, bytes: [...into] },
      decode: new TextDecoder().decode(new Uint8Array([0x68, 0xc3, 0xa9, 0xe2, 0x98, 0x83])),
      decodeInvalid: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])),
      fatal: errName(() => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff]))),
      fatalFlag: new TextDecoder("utf-8", { fatal: true }).fatal,
      bomStripped: new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])),
      bomKept: new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).length,
      streamed: [s1, s2],
      fromArrayBuffer: new TextDecoder().decode(enc.encode("buf").buffer),
      fromDataView: new TextDecoder().decode(new DataView(enc.encode("xview").buffer, 1)),
      decodeNothing: new TextDecoder().decode(),
      unknownLabel: errName(() => new TextDecoder("no-such-encoding")),
      utf16le: new TextDecoder("utf-16le").decode(new Uint8Array([0x68, 0x00, 0x69, 0x00])),
      latin1: new TextDecoder("latin1").decode(new Uint8Array([0xe9, 0x41])),
    });
  },
};
