// Response.json: serialises, sets application/json unless told otherwise.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/plain") return Response.json({ a: 1, b: [true, null, "x"], c: { d: 1.5 } });
    if (path === "/init") return Response.json([1, 2, 3], { status: 418, headers: { "X-Extra": "yes" } });
    if (path === "/own-type") return Response.json("just a string", { headers: { "content-type": "application/vnd.custom+json" } });
    const errName = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    return Response.json({
      undefinedBody: await Response.json(undefined).text().catch((e) => e.name),
      nullBody: await Response.json(null).text(),
      number: await Response.json(42).text(),
      bigint: errName(() => Response.json({ n: 1n })),
      cyclic: errName(() => { const o = {}; o.o = o; Response.json(o); }),
      toJSON: await Response.json({ toJSON() { return "custom"; } }).text(),
    });
  },
};
