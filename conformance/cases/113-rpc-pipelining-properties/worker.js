// Property reads through stubs and pending results: `await stub.prop`,
// `await ep.getObj().name` and method calls on a result that has not
// arrived yet (promise pipelining).
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
      class Box extends RpcTarget {
        constructor(v) { super(); this.v = v; }
        get value() { return this.v; }
        open() { return { content: this.v, nested: { deeper: [this.v, this.v] } }; }
        box() { return new Box(this.v + "+"); }
      }
      export default class extends WorkerEntrypoint {
        instanceField = "instance field";
        get computed() { return "getter on the entrypoint"; }
        getObj() {
          return {
            name: "obj",
            nested: { list: [1, 2, 3], deep: { x: "deep x" } },
            fn: (a) => "fn called with " + a,
            box: new Box("in obj"),
          };
        }
        getBox(v) { return new Box(v); }
        getArray() { return ["zero", { one: 1 }]; }
        getPrimitive() { return "just a string"; }
        async slow() { await new Promise((r) => setTimeout(r, 5)); return { late: "arrived" }; }
      }
      export const plain = {
        constant: "plain constant",
        method() { return "plain method"; },
      };
    `,
  },
};

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export default {
  async fetch(request, env) {
    const stub = env.LOADER.get("pipelining", () => code);
    const ep = stub.getEntrypoint();
    const out = {};
    out.pendingType = typeof ep.getObj();
    out.pendingHasThen = typeof ep.getObj().then;
    out.name = await probe(() => ep.getObj().name);
    out.nested = await probe(() => ep.getObj().nested.deep.x);
    out.arrayIndex = await probe(() => ep.getObj().nested.list[1]);
    out.arrayElementType = typeof ep.getArray()[1];
    out.arrayLength = await probe(() => ep.getArray().length);
    out.missingProp = await probe(() => ep.getObj().nothing);
    out.missingDeep = await probe(() => ep.getObj().nothing.deeper);
    out.pipelinedFunction = await probe(() => ep.getObj().fn("pipelined"));
    out.pipelinedTarget = await probe(() => ep.getObj().box.value);
    out.pipelinedTargetMethod = await probe(() => ep.getObj().box.open());
    out.pipelinedTargetDeep = await probe(() => ep.getBox("b").open().nested.deeper[1]);
    out.chainedTargets = await probe(() => ep.getBox("x").box().box().value);
    out.slowPipelined = await probe(() => ep.slow().late);
    out.primitiveProp = await probe(() => ep.getPrimitive().length);
    // Reads on the entrypoint stub itself.
    out.entrypointGetter = await probe(() => ep.computed);
    out.entrypointInstanceField = await probe(() => ep.instanceField);
    out.entrypointMethodAsProperty = await probe(async () => typeof (await ep.getObj));
    out.plainConstant = await probe(() => stub.getEntrypoint("plain").constant);
    out.plainMethod = await probe(() => stub.getEntrypoint("plain").method());
    return Response.json(out);
  },
};
