// A platform worker for the Worker Loader benchmark. The same file runs on
// workerd and on Isola.
//   GET /cold        load a never-seen id and call its fetch
//   GET /warm        call a cached dynamic worker
//   GET /fill?n=N    load N new ids (each answers once), for memory per isolate
const tenant = (id) => ({
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": "export default { fetch() { return new Response('hello from tenant') } };",
  },
});

let seq = 0;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/cold") {
      const id = "cold-" + seq++;
      return env.LOADER.get(id, () => tenant(id)).getEntrypoint().fetch(request);
    }
    if (url.pathname === "/warm") {
      return env.LOADER.get("warm", () => tenant("warm")).getEntrypoint().fetch(request);
    }
    if (url.pathname === "/fill") {
      const n = Number(url.searchParams.get("n") || "100");
      for (let i = 0; i < n; i++) {
        const id = "fill-" + seq++;
        const r = await env.LOADER.get(id, () => tenant(id)).getEntrypoint().fetch("http://x/");
        await r.text();
      }
      return new Response("filled " + n);
    }
    return new Response("not found", { status: 404 });
  },
};
