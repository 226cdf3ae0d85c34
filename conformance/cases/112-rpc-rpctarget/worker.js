// RpcTarget instances cross RPC by reference: methods called through the
// stub run on the original object (state is shared), in both directions;
// private fields and own instance properties stay hidden.
import { RpcTarget } from "cloudflare:workers";

const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
      class Counter extends RpcTarget {
        #secret = "hidden";
        constructor(start) { super(); this.count = start; }
        increment(by = 1) { this.count += by; return this.count; }
        get current() { return this.count; }
        get label() { return "counter@" + this.count; }
        child() { return new Counter(100); }
        secret() { return this.#secret; }
      }
      export default class extends WorkerEntrypoint {
        makeCounter(start) { return new Counter(start); }
        async useTarget(t) {
          const a = await t.greet("dynamic");
          const b = await t.bump();
          const c = await t.bump();
          const v = await t.value;
          return [a, b, c, v];
        }
        async targetInObject(o) { return await o.t.greet("in object"); }
      }
    `,
  },
};

class ParentTarget extends RpcTarget {
  constructor() { super(); this.n = 0; }
  greet(who) { return "hello " + who + " from the parent"; }
  bump() { return ++this.n; }
  get value() { return "getter value " + this.n; }
}

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("targets", () => code).getEntrypoint();
    const out = {};
    const counter = await ep.makeCounter(5);
    out.stubType = typeof counter;
    out.increment = [await counter.increment(), await counter.increment(10)];
    out.getter = await probe(() => counter.current);
    out.getterLabel = await probe(() => counter.label);
    out.ownProperty = await probe(async () => String(await counter.count));
    out.privateViaMethod = await probe(() => counter.secret());
    out.missingMethod = await probe(() => counter.nope());
    out.child = await probe(async () => { const c = await counter.child(); return await c.increment(); });
    out.pipelinedChild = await probe(() => counter.child().increment(2));
    const parentTarget = new ParentTarget();
    out.passedTarget = await probe(() => ep.useTarget(parentTarget));
    out.parentStateAfter = parentTarget.n;
    out.targetInObject = await probe(() => ep.targetInObject({ t: new ParentTarget() }));
    return Response.json(out);
  },
};
