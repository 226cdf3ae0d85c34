// A default-exported WorkerEntrypoint subclass: a fresh instance per
// request, with this.env and this.ctx set.
import { WorkerEntrypoint } from "cloudflare:workers";

let constructed = 0;

export default class Main extends WorkerEntrypoint {
  constructor(ctx, env) {
    super(ctx, env);
    constructed++;
  }
  async fetch(request) {
    return Response.json({
      path: new URL(request.url).pathname,
      isEntrypoint: this instanceof WorkerEntrypoint,
      envVar: this.env.MESSAGE,
      hasWaitUntil: typeof this.ctx.waitUntil,
      constructed,
      helper: this.helper(),
    });
  }
  helper() {
    return "method on the class";
  }
}
