// Invalid modules: module objects with an unknown key, two keys or none,
// plain strings for names that are not .js, non-string content, a syntax
// error, an import that resolves to nothing, and a module that throws while
// it is evaluated.
const good = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint { ping() { return "pong"; } }
`;

// Parser and linker messages are the JS engine's own wording, and line and
// column numbers depend on it too, so those parts are masked; what workerd
// itself says ("Failed to start Worker", the error class, the module) stays.
const normalise = (message) => message
  .replace(/(Uncaught SyntaxError): [^\n]*/, "$1: <engine message>")
  .replace(/(\.js):\d+(:\d+)?/g, "$1:<line>");

const probe = async (fn) => {
  try {
    return "ok: " + (await fn());
  } catch (e) {
    return "threw " + e.name + ": " + normalise(e.message);
  }
};

export default {
  async fetch(request, env) {
    const tryModules = (modules, mainModule = "main.js") => probe(() =>
      env.LOADER.load({ compatibilityDate: "2026-11-01", mainModule, modules }).getEntrypoint().ping());
    return Response.json({
      valid: await tryModules({ "main.js": good }),
      unknownKey: await tryModules({ "main.js": { esm: good } }),
      twoKeys: await tryModules({ "main.js": { js: good, text: "also text" } }),
      emptyObject: await tryModules({ "main.js": {} }),
      plainStringTxt: await tryModules({ "main.js": good, "a.txt": "text as a plain string" }),
      plainStringJson: await tryModules({ "main.js": good, "a.json": "{}" }),
      plainStringMjs: await tryModules({ "main.js": good, "a.mjs": "export default 1" }),
      plainStringCjs: await tryModules({ "main.js": good, "a.cjs": "module.exports = 1" }),
      textMain: await tryModules({ "main.txt": { text: "not code" } }, "main.txt"),
      syntaxError: await tryModules({ "main.js": "export default {" }),
      syntaxErrorInImport: await tryModules({ "main.js": "import './lib.js';\n" + good, "lib.js": "let = ;" }),
      missingImport: await tryModules({ "main.js": "import { x } from './nope.js';\n" + good }),
      missingExport: await tryModules({ "main.js": "import { nothere } from './lib.js';\n" + good, "lib.js": "export const x = 1;" }),
      topLevelThrow: await tryModules({ "main.js": "throw new RangeError('top level');\n" + good }),
      bareSpecifier: await tryModules({ "main.js": "import 'some-package';\n" + good }),
      dataNotBytes: await tryModules({ "main.js": good, "d.bin": { data: "a string" } }),
    });
  },
};
