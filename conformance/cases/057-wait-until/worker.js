// ctx.waitUntil keeps work going after the response; its effect on global
// state is visible to the next request.
const log = [];
export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/schedule") {
      ctx.waitUntil(new Promise((resolve) => setTimeout(() => { log.push("background done"); resolve(); }, 20)));
      ctx.waitUntil(Promise.resolve().then(() => log.push("microtask done")));
      log.push("responded");
      return new Response("scheduled");
    }
    if (path === "/wait") {
      // Give the background timer time to finish before reading the log.
      await new Promise((r) => setTimeout(r, 100));
    }
    return Response.json({ log });
  },
};
