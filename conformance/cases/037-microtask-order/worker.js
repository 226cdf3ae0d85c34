// queueMicrotask vs promise reactions vs timers: microtasks run FIFO
// before any timer.
export default {
  async fetch() {
    const log = [];
    await new Promise((done) => {
      setTimeout(() => { log.push("timeout"); done(); }, 0);
      queueMicrotask(() => log.push("microtask 1"));
      Promise.resolve().then(() => {
        log.push("then 1");
        queueMicrotask(() => log.push("microtask from then"));
      }).then(() => log.push("then 2"));
      queueMicrotask(() => {
        log.push("microtask 2");
        Promise.resolve().then(() => log.push("then from microtask"));
      });
      (async () => {
        log.push("async start");
        await null;
        log.push("async after await");
      })();
      log.push("sync end");
    });
    let typeError = "no error";
    try { queueMicrotask("not a function"); } catch (e) { typeError = e.name; }
    return Response.json({ log, typeError });
  },
};
