// `using` declarations on RPC stubs (explicit resource management syntax):
// the stub is disposed at the end of the block, also when the block throws,
// and `await using` works too.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
      class Res extends RpcTarget {
        constructor(name) { super(); this.name = name; }
        hello() { return "hello from " + this.name; }
      }
      export default class extends WorkerEntrypoint {
        make(name) { return new Res(name); }
      }
    `,
  },
};

const after = async (stub) => {
  try { return await stub.hello(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("using", () => code).getEntrypoint();
    const out = {};
    let escaped;
    {
      using r = await ep.make("block");
      out.inside = await r.hello();
      escaped = r;
    }
    out.afterBlock = await after(escaped);
    try {
      using r = await ep.make("throwing");
      escaped = r;
      throw new Error("block failed");
    } catch (e) {
      out.thrown = e.message;
    }
    out.afterThrow = await after(escaped);
    {
      await using r = await ep.make("await-using");
      out.awaitInside = await r.hello();
      escaped = r;
    }
    out.afterAwaitUsing = await after(escaped);
    return Response.json(out);
  },
};
