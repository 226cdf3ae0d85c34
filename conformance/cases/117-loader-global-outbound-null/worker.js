// globalOutbound: null cuts the dynamic worker off the network: fetch()
// rejects (from an RPC method and from its fetch handler), while everything
// that needs no network still works.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  globalOutbound: null,
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        async tryFetch(url) {
          try {
            const r = await fetch(url);
            return "fetched " + r.status;
          } catch (e) {
            return "threw " + e.name + ": " + e.message;
          }
        }
        async tryFetchRequest() {
          try {
            await fetch(new Request("https://example.com/", { method: "POST", body: "x" }));
            return "fetched";
          } catch (e) {
            return "threw " + e.name + ": " + e.message;
          }
        }
        fetchIsFunction() { return typeof fetch; }
        offline() { return new Response("built locally").text(); }
        fetch(request) { return fetch("https://example.com/from-handler"); }
      }
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("no-network", () => code).getEntrypoint();
    return Response.json({
      fetchIsFunction: await probe(() => ep.fetchIsFunction()),
      httpUrl: await probe(() => ep.tryFetch("http://example.com/x")),
      httpsUrl: await probe(() => ep.tryFetch("https://example.com/")),
      localhost: await probe(() => ep.tryFetch("http://127.0.0.1:1/")),
      request: await probe(() => ep.tryFetchRequest()),
      offline: await probe(() => ep.offline()),
      handlerFetch: await probe(async () => (await ep.fetch("http://x/")).status),
    });
  },
};
