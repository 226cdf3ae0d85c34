// The object's ctx (DurableObjectState) and this: which members exist, the
// props and env an object gets, ctx.exports inside it; ctx.abort(reason)
// resetting the object: the calling stub then throws the reason (an Error
// made from it) and a new stub reaches a new instance.
import { DurableObject, env as importedEnv } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

// WebSocket hibernation members are left to a case of their own.
const MEMBERS = ["id", "storage", "props", "exports", "facets", "waitUntil", "blockConcurrencyWhile", "abort"];

export class Obj extends DurableObject {
  shape() {
    const ctx = this.ctx;
    return {
      string: String(ctx),
      constructorName: ctx.constructor.name,
      members: Object.fromEntries(MEMBERS.map((k) => [k, typeof ctx[k]])),
      props: ctx.props,
      env: [this.env.GREETING, importedEnv.GREETING, typeof this.env.OBJ.idFromName],
      exports: Object.keys(ctx.exports).sort(),
      exportsReachSelf: typeof ctx.exports.Obj.getByName,
      thisKeys: Object.keys(this).sort(),
      instanceOfDurableObject: this instanceof DurableObject,
    };
  }
  mark() { this.marked = "kept"; }
  marker() { return this.marked ?? "reset"; }
  abortNow(reason) {
    this.ctx.abort(reason);
    return "returned after abort";
  }
  async abortAfterAwait(reason) {
    await null;
    this.ctx.abort(reason);
  }
}

export default {
  async fetch(request, env) {
    const out = {};
    const stub = env.OBJ.getByName("o");
    out.shape = await stub.shape();
    await stub.mark();
    out.abort = await probe(() => stub.abortNow("stop now"));
    out.sameStubAfterAbort = await probe(() => stub.marker());
    out.newStubAfterAbort = await probe(() => env.OBJ.getByName("o").marker());
    out.errorReason = await probe(() => env.OBJ.getByName("o2").abortNow(new TypeError("typed reason")));
    out.noReason = await probe(() => env.OBJ.getByName("o3").abortNow());
    out.afterAwait = await probe(() => env.OBJ.getByName("o4").abortAfterAwait("after an await"));
    out.constructDirectly = await probe(() => {
      new DurableObject({}, {});
      return "constructed";
    });
    return Response.json(out);
  },
};
