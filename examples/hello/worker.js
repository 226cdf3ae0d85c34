// The smallest useful worker: `isola dev examples/hello`, then curl it.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/json") {
      return Response.json({ greeting: env.GREETING, path: url.pathname });
    }
    return new Response(`${env.GREETING} from Isola! You asked for ${url.pathname}\n`);
  },
};
