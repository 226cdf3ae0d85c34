// Calling what the other side does not expose: unknown methods, non-function
// properties, Object.prototype members, the constructor, private-looking
// names and the lifecycle handlers of a WorkerEntrypoint.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        exists() { return "exists"; }
        _underscore() { return "underscore methods are callable"; }
        get notAFunction() { return 5; }
      }
      export const plain = {
        exists() { return "plain exists"; },
        value: 3,
      };
      export class NoFetch extends WorkerEntrypoint {
        method() { return "NoFetch.method"; }
      }
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
    const stub = env.LOADER.get("missing", () => code);
    const ep = stub.getEntrypoint();
    const plain = stub.getEntrypoint("plain");
    return Response.json({
      exists: await probe(() => ep.exists()),
      stubPropertyType: typeof ep.nope,
      missing: await probe(() => ep.nope()),
      missingRead: await probe(() => ep.nope),
      underscore: await probe(() => ep._underscore()),
      getterCalled: await probe(() => ep.notAFunction()),
      toStringCalled: await probe(() => ep.toString()),
      hasOwnProperty: await probe(() => ep.hasOwnProperty("exists")),
      constructorCalled: await probe(() => ep.constructor()),
      protoRead: await probe(async () => typeof (await ep.__proto__)),
      envRead: await probe(async () => typeof (await ep.env)),
      ctxRead: await probe(async () => typeof (await ep.ctx)),
      plainMissing: await probe(() => plain.nope({})),
      plainValueCalled: await probe(() => plain.value({})),
      fetchNotDefined: await probe(async () => (await stub.getEntrypoint("NoFetch").fetch("http://x/")).status),
      noFetchMethod: await probe(() => stub.getEntrypoint("NoFetch").method()),
      afterErrors: await probe(() => ep.exists()),
    });
  },
};
