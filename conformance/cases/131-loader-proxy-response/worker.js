// The parent forwards the client's request to a dynamic worker and returns
// its Response as is: status, headers and a streamed body reach the client.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      export default {
        async fetch(request) {
          const url = new URL(request.url);
          if (url.pathname === "/stream") {
            const enc = new TextEncoder();
            const parts = ["one ", "two ", "three"];
            const body = new ReadableStream({
              async pull(c) {
                await new Promise((r) => setTimeout(r, 2));
                if (parts.length) c.enqueue(enc.encode(parts.shift())); else c.close();
              },
            });
            return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8", "x-dynamic": "stream" } });
          }
          if (url.pathname === "/echo") {
            return new Response(request.body, { status: 203, headers: { "content-type": request.headers.get("content-type") ?? "none", "x-dynamic": "echo" } });
          }
          if (url.pathname === "/redirect") {
            return Response.redirect("https://example.com/elsewhere", 307);
          }
          return new Response("not found in dynamic worker", { status: 404, headers: { "x-dynamic": "404" } });
        },
      };
    `,
  },
};

export default {
  async fetch(request, env) {
    return env.LOADER.get("proxy", () => code).getEntrypoint().fetch(request);
  },
};
