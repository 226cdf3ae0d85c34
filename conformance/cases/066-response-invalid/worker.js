// Invalid Response construction: out-of-range statuses are RangeErrors; a
// body with a null-body status is a TypeError.
export default {
  async fetch() {
    const err = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    return Response.json({
      status99: err(() => new Response("x", { status: 99 })),
      status600: err(() => new Response("x", { status: 600 })),
      status101: err(() => new Response(null, { status: 101 })),
      status0: err(() => new Response(null, { status: 0 })),
      bodyWith204: err(() => new Response("x", { status: 204 })),
      bodyWith304: err(() => new Response("x", { status: 304 })),
      emptyBodyWith204: err(() => new Response("", { status: 204 })),
      nullWith204: err(() => new Response(null, { status: 204 })),
      badStatusText: err(() => new Response("x", { statusText: "bad\ntext" })),
      badHeaders: err(() => new Response("x", { headers: { "bad header": "x" } })),
      headersNotIterable: err(() => new Response("x", { headers: 42 })),
    });
  },
};
