// A dynamic worker whose default export is a plain object (not a
// WorkerEntrypoint class): its fetch handler and its other methods, called
// over RPC, receive (arg, env, ctx); exactly one argument is allowed.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  env: { NAME: "dyn-env" },
  modules: {
    "main.js": `
      export default {
        greet(name, env, ctx) {
          return { hello: name, envName: env.NAME, props: ctx.props, hasWaitUntil: typeof ctx.waitUntil };
        },
        async fetch(request, env, ctx) {
          return new Response("default object fetch " + new URL(request.url).pathname + " " + env.NAME);
        },
        value: "a plain property",
      };
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const stub = env.LOADER.get("default-object", () => code);
    const ep = stub.getEntrypoint();
    return Response.json({
      greet: await probe(() => ep.greet("Alice")),
      greetWithProps: await probe(() => stub.getEntrypoint(null, { props: { p: 1 } }).greet({ nested: true })),
      greetNoArgs: await probe(() => ep.greet()),
      greetTwoArgs: await probe(() => ep.greet("a", "b")),
      fetch: await probe(async () => (await ep.fetch("http://x/path")).text()),
      value: await probe(() => ep.value),
    });
  },
};
