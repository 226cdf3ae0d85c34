// Response constructor: status, statusText and the three forms of headers init.
export default {
  async fetch() {
    const describe = (r) => ({
      status: r.status,
      statusText: r.statusText,
      ok: r.ok,
      type: r.type,
      url: r.url,
      redirected: r.redirected,
      bodyNull: r.body === null,
      headers: [...r.headers],
    });
    const out = {
      plain: describe(new Response("x")),
      noBody: describe(new Response()),
      created: describe(new Response("x", { status: 201, statusText: "Made It" })),
      objectHeaders: describe(new Response("x", { headers: { "X-One": "1", "x-two": "2" } })),
      arrayHeaders: describe(new Response("x", { headers: [["X-A", "a"], ["X-A", "b"]] })),
      headersObject: describe(new Response("x", { headers: new Headers({ "Content-Type": "text/html" }) })),
      notFound: describe(new Response("nope", { status: 404 })),
      status599: describe(new Response(null, { status: 599 })),
    };
    return new Response(JSON.stringify(out, null, 2), {
      status: 203,
      statusText: "Custom Text",
      headers: { "X-Case": "response-init", "content-type": "application/json" },
    });
  },
};
