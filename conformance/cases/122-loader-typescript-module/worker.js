// TypeScript module names. workerd rejects plain-string modules named
// .ts/.tsx/.jsx and points at @cloudflare/worker-bundler; a {js} object named
// .ts is parsed as plain JavaScript (so type annotations are a SyntaxError).
// Isola deliberately compiles .ts, so only the status is compared (see
// case.json). The body shows workerd's messages for reference.
const probe = async (fn) => {
  try {
    return "ok: " + (await fn());
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const ts = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint {
    ping(): string { return "pong from ts"; }
  }
`;

export default {
  async fetch(request, env) {
    const tryModules = (modules, mainModule) => probe(() =>
      env.LOADER.load({ compatibilityDate: "2026-11-01", mainModule, modules }).getEntrypoint().ping());
    return Response.json({
      tsString: await tryModules({ "main.ts": ts }, "main.ts"),
      tsAsJs: await tryModules({ "main.ts": { js: ts } }, "main.ts"),
      tsxString: await tryModules({ "main.tsx": ts }, "main.tsx"),
      jsxString: await tryModules({ "main.jsx": "export default {}" }, "main.jsx"),
      importedTs: await tryModules({ "main.js": "import './lib.ts';\nexport default { fetch() { return new Response('x'); } }", "lib.ts": "export const x: number = 1;" }, "main.js"),
    });
  },
};
