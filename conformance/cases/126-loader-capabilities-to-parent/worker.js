// Capabilities handed to a dynamic worker: invoked ctx.exports loopbacks in
// its env and in an entrypoint's props let it call back into the parent
// (RPC and fetch). Uninvoked loopbacks and dynamic entrypoints cannot be
// handed over (DataCloneError).
import { WorkerEntrypoint } from "cloudflare:workers";

export class Greeter extends WorkerEntrypoint {
  greet(name) { return this.ctx.props.greeting + ", " + name + "!"; }
  async fetch(request) {
    return new Response("Greeter.fetch " + request.method + " " + new URL(request.url).pathname + " " + await request.text());
  }
}

const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        async viaEnv(name) { return await this.env.GREETER.greet(name); }
        async fetchViaEnv() {
          const r = await this.env.GREETER.fetch("http://parent/from-dynamic", { method: "POST", body: "dyn body" });
          return await r.text();
        }
        envTypes() { return { GREETER: typeof this.env.GREETER, plain: this.env.plain }; }
      }
      export class FancyProps extends WorkerEntrypoint {
        async run() {
          const a = await this.ctx.props.greeter.greet("Dave");
          const b = await this.ctx.props.greeter2.greet("Eve");
          return [a, b].join(" | ");
        }
      }
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env, ctx) {
    const stub = env.LOADER.get("caps", () => ({
      ...code,
      env: { GREETER: ctx.exports.Greeter({ props: { greeting: "Hi" } }), plain: "value" },
    }));
    const ep = stub.getEntrypoint();
    const out = {};
    out.envTypes = await probe(() => ep.envTypes());
    out.viaEnv = await probe(() => ep.viaEnv("Carol"));
    out.fetchViaEnv = await probe(() => ep.fetchViaEnv());
    out.props = await probe(() => stub.getEntrypoint("FancyProps", {
      props: {
        greeter: ctx.exports.Greeter({ props: { greeting: "G'day" } }),
        greeter2: ctx.exports.Greeter({ props: { greeting: "Sup" } }),
      },
    }).run());
    out.uninvokedLoopbackInProps = await probe(() => stub.getEntrypoint("FancyProps", {
      props: { greeter: ctx.exports.Greeter, greeter2: ctx.exports.Greeter },
    }).run());
    out.dynamicEntrypointInProps = await probe(() => stub.getEntrypoint("FancyProps", {
      props: { greeter: ep, greeter2: ep },
    }).run());
    out.functionInProps = (await probe(() => stub.getEntrypoint("FancyProps", {
      props: { greeter: () => 1 },
    }).run())).replace(/^(threw DataCloneError: ).* (could not be cloned\.)$/s, "$1<source> $2");
    return Response.json(out);
  },
};
