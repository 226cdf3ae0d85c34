// env.SELF (a service binding to this worker's own named entrypoint, with
// props): RPC methods, this.ctx.props, fetch(), and RPC semantics (errors,
// callbacks, RpcTarget) over a service binding.
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";

class Tally extends RpcTarget {
  constructor() { super(); this.n = 0; }
  add(k) { this.n += k; return this.n; }
}

export class Named extends WorkerEntrypoint {
  props() { return this.ctx.props; }
  add(a, b) { return a + b; }
  envKeys() { return Object.keys(this.env).sort(); }
  async callBack(cb) { return await cb("from Named"); }
  fail() { throw new RangeError("Named failed"); }
  tally() { return new Tally(); }
  async fetch(request) {
    return new Response("Named.fetch " + new URL(request.url).pathname + " props=" + JSON.stringify(this.ctx.props));
  }
}

export const plain = {
  fetch(request, env, ctx) { return new Response("plain.fetch props=" + JSON.stringify(ctx.props)); },
  describe(arg, env, ctx) { return { arg, props: ctx.props }; },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/inner") {
      return new Response("default.fetch props=" + JSON.stringify(ctx.props));
    }
    const out = {};
    out.bindingType = typeof env.SELF;
    out.add = await probe(() => env.SELF.add(1, 2));
    out.props = await probe(() => env.SELF.props());
    out.bareProps = await probe(() => env.BARE.props());
    out.envKeys = await probe(() => env.SELF.envKeys());
    out.callback = await probe(() => env.SELF.callBack((s) => "callback got " + s));
    out.error = await probe(() => env.SELF.fail());
    out.tally = await probe(async () => { const t = await env.SELF.tally(); return [await t.add(2), await t.add(3)]; });
    out.pipelined = await probe(() => env.SELF.tally().add(7));
    out.missing = await probe(() => env.SELF.nope());
    out.fetch = await probe(async () => (await env.SELF.fetch("http://self/path")).text());
    out.plainFetch = await probe(async () => (await env.PLAIN.fetch("http://self/")).text());
    out.plainRpc = await probe(() => env.PLAIN.describe({ x: 1 }));
    out.defaultFetch = await probe(async () => (await env.DEFAULT.fetch("http://self/inner")).text());
    out.ownProps = ctx.props;
    return Response.json(out);
  },
};
