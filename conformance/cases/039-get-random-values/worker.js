// crypto.getRandomValues: fills integer typed arrays in place and returns
// them; rejects float arrays and more than 65536 bytes. Values are random,
// so only shapes and errors are printed.
export default {
  async fetch() {
    const err = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    const u8 = new Uint8Array(16);
    const ret = crypto.getRandomValues(u8);
    const big = new Uint8Array(65536);
    crypto.getRandomValues(big);
    return Response.json({
      returnsSameArray: ret === u8,
      length: u8.length,
      notAllZero: big.some((b) => b !== 0),
      types: ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array", "Float32Array", "Float64Array"]
        .map((t) => [t, err(() => crypto.getRandomValues(new globalThis[t](4)))]),
      zeroLength: crypto.getRandomValues(new Uint8Array(0)).length,
      max: err(() => crypto.getRandomValues(new Uint8Array(65536))),
      tooBig: err(() => crypto.getRandomValues(new Uint8Array(65537))),
      tooBigUint32: err(() => crypto.getRandomValues(new Uint32Array(16385))),
      dataView: err(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4)))),
      plainArray: err(() => crypto.getRandomValues([1, 2, 3])),
      subarray: (() => { const a = new Uint8Array(8); crypto.getRandomValues(a.subarray(4)); return a.slice(0, 4).every((b) => b === 0); })(),
    });
  },
};
