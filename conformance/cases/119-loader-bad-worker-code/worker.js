// Invalid WorkerCode: each mistake surfaces as an exception in the caller
// (from load() itself or from the first use of the entrypoint).
const good = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint { ping() { return "pong"; } }
`;

const probe = async (fn) => {
  try {
    return "ok: " + (await fn());
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export default {
  async fetch(request, env) {
    const tryCode = (code) => probe(() => env.LOADER.load(code).getEntrypoint().ping());
    const tryGet = (getCode) => probe(() => env.LOADER.get(null, getCode).getEntrypoint().ping());
    return Response.json({
      valid: await tryCode({ compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": good } }),
      noMainModule: await tryCode({ compatibilityDate: "2026-11-01", modules: { "main.js": good } }),
      mainModuleMissing: await tryCode({ compatibilityDate: "2026-11-01", mainModule: "other.js", modules: { "main.js": good } }),
      emptyModules: await tryCode({ compatibilityDate: "2026-11-01", mainModule: "main.js", modules: {} }),
      noModules: await tryCode({ compatibilityDate: "2026-11-01", mainModule: "main.js" }),
      noCompatibilityDate: await tryCode({ mainModule: "main.js", modules: { "main.js": good } }),
      badDateFormat: await tryCode({ compatibilityDate: "2026-1-1", mainModule: "main.js", modules: { "main.js": good } }),
      notADate: await tryCode({ compatibilityDate: "yesterday", mainModule: "main.js", modules: { "main.js": good } }),
      futureDate: await tryCode({ compatibilityDate: "2999-01-01", mainModule: "main.js", modules: { "main.js": good } }),
      flagsNotArray: await tryCode({ compatibilityDate: "2026-11-01", compatibilityFlags: "nodejs_compat", mainModule: "main.js", modules: { "main.js": good } }),
      modulesArray: await tryCode({ compatibilityDate: "2026-11-01", mainModule: "main.js", modules: [good] }),
      codeNull: await tryCode(null),
      codeString: await tryCode("export default {}"),
      getCodeReturnsNull: await tryGet(() => null),
      getCodeThrows: await tryGet(() => { throw new RangeError("getCode failed"); }),
      getCodeRejects: await tryGet(async () => { throw new TypeError("getCode rejected"); }),
      getCodeNotFunction: await probe(() => env.LOADER.get("x", "not a function").getEntrypoint().ping()),
      getNoArgs: await probe(() => env.LOADER.get().getEntrypoint().ping()),
      loadNoArgs: await probe(() => env.LOADER.load().getEntrypoint().ping()),
      afterErrors: await tryCode({ compatibilityDate: "2026-11-01", mainModule: "main.js", modules: { "main.js": good } }),
    });
  },
};
