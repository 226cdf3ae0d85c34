// Module-scope state persists across requests to the same worker instance.
let counter = 0;
const seen = [];
globalThis.globalCounter = globalThis.globalCounter || 0;
export default {
  async fetch(request) {
    counter++;
    globalThis.globalCounter++;
    seen.push(new URL(request.url).pathname);
    return Response.json({ counter, globalCounter: globalThis.globalCounter, seen });
  },
};
