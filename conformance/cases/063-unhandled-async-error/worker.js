// Errors that escape the request's promise chain: an unhandled rejection,
// a throwing timer callback, and a throwing microtask. The runtime logs
// them; the response, and later requests, are unaffected.
let background = [];
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/fire") {
      Promise.reject(new Error("nobody handles this rejection"));
      setTimeout(() => { background.push("timer ran"); throw new Error("thrown in a timer"); }, 0);
      queueMicrotask(() => { throw new TypeError("thrown in a microtask"); });
      (async () => { await null; throw new RangeError("thrown in a detached async function"); })();
      await new Promise((r) => setTimeout(r, 20));
      return Response.json({ responded: true, background });
    }
    return Response.json({ stillServing: true, background });
  },
};
