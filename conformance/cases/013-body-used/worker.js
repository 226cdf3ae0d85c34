// A body can be read once: bodyUsed flips and a second read is a TypeError.
export default {
  async fetch(request) {
    const errName = async (fn) => { try { await fn(); return "no error"; } catch (e) { return `${e.constructor.name}`; } };
    const r = new Response("once");
    const before = r.bodyUsed;
    const text = await r.text();
    const out = {
      before,
      text,
      after: r.bodyUsed,
      secondText: await errName(() => r.text()),
      secondArrayBuffer: await errName(() => r.arrayBuffer()),
      secondJson: await errName(() => r.json()),
      nullBodyUsed: (() => { const n = new Response(null); return n.bodyUsed; })(),
      nullBodyTwice: await (async () => { const n = new Response(null); return [await n.text(), await n.text()]; })(),
    };
    // Locking the stream with a reader also makes reads fail.
    const locked = new Response("locked");
    locked.body.getReader();
    out.lockedRead = await errName(() => locked.text());
    out.lockedBodyUsed = locked.bodyUsed;
    // Using a used body to construct a new Response fails too.
    out.reuseUsed = await errName(() => new Response(r.body));
    // Incoming request bodies behave the same way.
    out.incoming = await request.text();
    out.incomingUsed = request.bodyUsed;
    out.incomingSecond = await errName(() => request.text());
    return Response.json(out);
  },
};
