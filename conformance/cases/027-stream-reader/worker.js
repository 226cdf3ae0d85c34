// Reading streams by hand: getReader, read results, locked, tee, cancel,
// async iteration, and errors from a stream.
export default {
  async fetch() {
    const make = (chunks) => new ReadableStream({
      start(c) { for (const x of chunks) c.enqueue(x); c.close(); },
    });
    const out = {};

    const s1 = make(["a", "b"]);
    const reader = s1.getReader();
    out.locked = s1.locked;
    out.reads = [await reader.read(), await reader.read(), await reader.read()];
    reader.releaseLock();
    out.lockedAfterRelease = s1.locked;
    out.secondReader = (() => { const s = make([]); s.getReader(); try { s.getReader(); return "no error"; } catch (e) { return e.name; } })();

    const [t1, t2] = make(["x", "y"]).tee();
    const collect = async (s) => { const r = []; for await (const c of s) r.push(c); return r; };
    out.tee = [await collect(t1), await collect(t2)];

    let cancelReason;
    const s3 = new ReadableStream({ cancel(reason) { cancelReason = reason; } });
    await s3.cancel("stop please");
    out.cancelReason = cancelReason;

    const failing = new ReadableStream({ start(c) { c.enqueue("ok"); c.error(new RangeError("stream broke")); } });
    try {
      await collect(failing);
      out.errored = "no error";
    } catch (e) {
      out.errored = `${e.name}: ${e.message}`;
    }

    const bytes = new Response("byte body").body.getReader();
    const first = await bytes.read();
    out.bodyChunkType = Object.prototype.toString.call(first.value);

    let pulls = 0;
    const counted = new ReadableStream({
      pull(c) { pulls++; c.enqueue(pulls); if (pulls === 3) c.close(); },
    }, { highWaterMark: 0 });
    out.pulled = await collect(counted);
    return Response.json(out);
  },
};
