// The module-worker shape: export default { fetch(request, env, ctx) },
// called with `this` bound to the exported object.
const handler = {
  greeting: "from the exported object",
  async fetch(request, env, ctx) {
    return Response.json({
      thisIsHandler: this === handler,
      greeting: this.greeting,
      args: [request instanceof Request, typeof env, typeof ctx],
      ctxMethods: [typeof ctx.waitUntil, typeof ctx.passThroughOnException],
    });
  },
};
export default handler;
