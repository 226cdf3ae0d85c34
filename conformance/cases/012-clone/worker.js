// clone() tees the body: both copies read the full content independently.
export default {
  async fetch(request) {
    const errName = async (fn) => { try { await fn(); return "no error"; } catch (e) { return e.name; } };
    const r1 = new Response("response body", { status: 202, headers: { "x-h": "v" } });
    const r2 = r1.clone();
    const a = await r1.text();
    const b = await r2.text();

    const streamed = new Response(new ReadableStream({
      start(c) { c.enqueue(new TextEncoder().encode("streamed")); c.close(); },
    }));
    const streamedClone = streamed.clone();

    const req = new Request("https://example.com/x", { method: "POST", body: "request body", headers: { "x-r": "1" } });
    const reqClone = req.clone();

    const used = new Response("x");
    await used.text();

    return Response.json({
      a, b,
      cloneStatus: r2.status,
      cloneHeader: r2.headers.get("x-h"),
      headersIndependent: (() => { const c = new Response("x", { headers: { k: "1" } }); const d = c.clone(); d.headers.set("k", "2"); return c.headers.get("k"); })(),
      streamedBoth: [await streamedClone.text(), await streamed.text()],
      reqBoth: [await reqClone.text(), await req.text()],
      reqCloneMethod: reqClone.method,
      reqCloneHeader: reqClone.headers.get("x-r"),
      incomingClone: await request.clone().text(),
      incomingAfterClone: await request.text(),
      cloneOfUsed: await errName(() => used.clone()),
    });
  },
};
