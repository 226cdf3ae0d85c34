// One live instance per object id: in-memory state is shared by every stub
// of an id (bindings, getByName, idFromString, ctx.exports, concurrent
// calls), and other ids, unique ids included,
// have their own instances. The second request finds the same instances.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.count = 0;
    this.hasEnv = env === this.env && typeof env.COUNTER === "object";
    this.hasCtx = ctx === this.ctx;
  }
  increment(by = 1) { this.count += by; return this.count; }
  async slowIncrement(ms) {
    const before = this.count;
    await new Promise((r) => setTimeout(r, ms));
    this.count += 1;
    return before;
  }
  state() { return { count: this.count, hasEnv: this.hasEnv, hasCtx: this.hasCtx }; }
}

export default {
  async fetch(request, env, ctx) {
    const ns = env.COUNTER;
    const path = new URL(request.url).pathname;
    if (path === "/again") {
      return Response.json({ a: await ns.getByName("a").state(), b: await ns.getByName("b").state() });
    }
    const viaName = ns.getByName("a");
    const viaId = ns.get(ns.idFromName("a"));
    const viaString = ns.get(ns.idFromString(ns.idFromName("a").toString()));
    const viaExports = ctx.exports.Counter.getByName("a");
    const other = ns.getByName("b");
    const unique = ns.get(ns.newUniqueId());
    const steps = [
      await viaName.increment(),
      await viaId.increment(10),
      await viaString.increment(100),
      await viaExports.increment(1000),
      await other.increment(),
      await unique.increment(5),
    ];
    // Calls interleave in one instance at awaits: both see the count before
    // either increments.
    const concurrent = await Promise.all([viaName.slowIncrement(30), viaId.slowIncrement(10)]);
    return Response.json({
      steps,
      concurrent,
      a: await viaName.state(),
      b: await other.state(),
      unique: await unique.state(),
    });
  },
};
