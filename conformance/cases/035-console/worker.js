// console methods must accept anything without throwing or changing the
// response (their output goes to the runtime's log, which is not compared).
export default {
  async fetch() {
    const cyclic = { name: "cyclic" };
    cyclic.self = cyclic;
    const results = [];
    const calls = {
      log: () => console.log("plain", 1, true, null, undefined, { a: [1, 2] }, [3], 4n, Symbol("s")),
      info: () => console.info("info %s %d %o", "str", 42, { o: 1 }),
      warn: () => console.warn(new Error("a warning error")),
      error: () => console.error(cyclic),
      debug: () => console.debug(new Map([[1, 2]]), new Set([3]), new Uint8Array([1, 2])),
      noArgs: () => console.log(),
      function: () => console.log(function named() {}, () => {}),
      request: () => console.log(new Request("https://example.com/"), new Headers({ a: "1" })),
      table: () => typeof console.table === "function" && console.table([{ a: 1 }]),
      time: () => { console.time("t"); console.timeEnd("t"); },
      assert: () => console.assert(false, "assertion message"),
    };
    for (const [name, fn] of Object.entries(calls)) {
      try { fn(); results.push([name, "ok"]); } catch (e) { results.push([name, e.name]); }
    }
    return Response.json({ results, typeofConsole: typeof console, logIsFunction: typeof console.log });
  },
};
