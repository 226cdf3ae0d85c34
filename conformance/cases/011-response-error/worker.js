// Response.error(): a network error response, status 0, type "error".
export default {
  async fetch() {
    const r = Response.error();
    const errName = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    return Response.json({
      type: r.type,
      status: r.status,
      statusText: r.statusText,
      ok: r.ok,
      bodyNull: r.body === null,
      headerCount: [...r.headers].length,
      immutable: errName(() => r.headers.set("x", "y")),
    });
  },
};
