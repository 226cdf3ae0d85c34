// WritableStream with an underlying sink: write order, close and abort
// callbacks, desiredSize with a high-water mark, and pipeTo.
export default {
  async fetch() {
    const log = [];
    const ws = new WritableStream({
      start() { log.push("start"); },
      async write(chunk) { await new Promise((r) => setTimeout(r, 1)); log.push(`write ${chunk}`); },
      close() { log.push("close"); },
    }, { highWaterMark: 2 });
    const writer = ws.getWriter();
    const desired = [writer.desiredSize];
    writer.write("a");
    desired.push(writer.desiredSize);
    writer.write("b");
    desired.push(writer.desiredSize);
    await writer.ready;
    await writer.close();
    desired.push(writer.desiredSize);

    let abortReason;
    const aborted = new WritableStream({ abort(reason) { abortReason = reason; } });
    await aborted.abort("giving up");

    const collected = [];
    const source = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.enqueue(3); c.close(); } });
    await source.pipeTo(new WritableStream({ write(chunk) { collected.push(chunk * 10); } }));

    let writeAfterClose;
    try { await writer.write("late"); writeAfterClose = "no error"; } catch (e) { writeAfterClose = e.name; }
    return Response.json({ log, desired, abortReason, collected, writeAfterClose, locked: ws.locked });
  },
};
