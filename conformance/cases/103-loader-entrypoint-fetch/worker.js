// stub.getEntrypoint().fetch(): the request (method, URL, headers, body)
// reaches the dynamic worker and its response (status, statusText, headers,
// body) comes back.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      export default {
        async fetch(request, env, ctx) {
          const body = await request.text();
          return new Response(JSON.stringify({
            method: request.method,
            url: request.url,
            header: request.headers.get("x-test"),
            contentType: request.headers.get("content-type"),
            body,
            props: ctx.props,
          }), {
            status: 201,
            statusText: "Made",
            headers: { "content-type": "application/json", "x-from": "dynamic" },
          });
        },
      };
    `,
  },
};

const describe = async (resp) => ({
  status: resp.status,
  statusText: resp.statusText,
  xFrom: resp.headers.get("x-from"),
  isResponse: resp instanceof Response,
  json: await resp.json(),
});

export default {
  async fetch(request, env) {
    const stub = env.LOADER.get("fetcher", () => code);
    const out = {};
    out.plainUrl = await describe(await stub.getEntrypoint().fetch("https://example.com/a?b=1"));
    out.requestObject = await describe(await stub.getEntrypoint().fetch(new Request("https://example.com/post", {
      method: "POST", headers: { "x-test": "yes", "content-type": "text/plain" }, body: "hello body",
    })));
    out.urlAndInit = await describe(await stub.getEntrypoint().fetch("http://h/put", { method: "PUT", body: "put body" }));
    out.defaultByName = await describe(await stub.getEntrypoint("default").fetch("http://h/default"));
    out.defaultByNull = await describe(await stub.getEntrypoint(null).fetch("http://h/null"));
    // The incoming request is forwarded as is (its origin holds the test's
    // random port, so it is masked).
    const origin = new URL(request.url).origin;
    out.incoming = await describe(await stub.getEntrypoint().fetch(request));
    out.incoming.json.url = out.incoming.json.url.replace(origin, "<origin>");
    return Response.json(out);
  },
};
