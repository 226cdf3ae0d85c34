// `import { env } from "cloudflare:workers"` gives the same bindings at
// module scope and inside handlers.
import { env } from "cloudflare:workers";

const atImport = env.GREETING;

export default {
  async fetch(request, handlerEnv) {
    return Response.json({
      atImport,
      inHandler: env.GREETING,
      json: env.SETTINGS,
      sameValues: env.GREETING === handlerEnv.GREETING && JSON.stringify(env.SETTINGS) === JSON.stringify(handlerEnv.SETTINGS),
    });
  },
};
