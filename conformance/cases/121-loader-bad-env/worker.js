// What env may not hold: functions, symbols, class instances, WeakMaps,
// uninvoked ctx.exports loopbacks, and the entrypoint of another dynamic
// worker. Each mistake surfaces as an exception in the caller; an RpcTarget
// and an invoked loopback are accepted.
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";

export class Helper extends WorkerEntrypoint {
  help() { return "helped with " + JSON.stringify(this.ctx.props); }
}

const source = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint {
    keys() { return Object.keys(this.env); }
    async callValue() { return await this.env.value.help(); }
  }
`;

class Point { constructor() { this.x = 1; } }
class Target extends RpcTarget { help() { return "target helped"; } }

const probe = async (fn) => {
  try {
    return "ok: " + JSON.stringify(await fn());
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const maskSource = (r) => r.replace(/^(threw DataCloneError: ).* (could not be cloned\.)$/s, "$1<source> $2");

export default {
  async fetch(request, env, ctx) {
    const tryEnv = (value, method = "keys") => probe(() => env.LOADER.load({
      compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": source }, env: { value },
    }).getEntrypoint()[method]());
    const other = env.LOADER.load({ compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": source } });
    return Response.json({
      plain: await tryEnv("fine"),
      // The message quotes the function's source text, which Isola's bundler
      // may reprint, so it is masked.
      func: maskSource(await tryEnv(() => 1)),
      funcNested: maskSource(await tryEnv({ deep: { f() {} } })),
      symbol: await tryEnv(Symbol("s")),
      classInstance: await tryEnv(new Point()),
      weakMap: await tryEnv(new WeakMap()),
      rpcTarget: await tryEnv(new Target(), "callValue"),
      loopbackUninvoked: await tryEnv(ctx.exports.Helper, "callValue"),
      loopbackInvoked: await tryEnv(ctx.exports.Helper({ props: { who: "env" } }), "callValue"),
      dynamicEntrypoint: await tryEnv(other.getEntrypoint(), "keys"),
      envNotObject: await probe(() => env.LOADER.load({
        compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": source }, env: "a string",
      }).getEntrypoint().keys()),
    });
  },
};
