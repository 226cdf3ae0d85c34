// Timer ordering: by delay, then by scheduling order; clearTimeout cancels;
// setInterval repeats until cleared; timers run after microtasks.
export default {
  async fetch() {
    const log = [];
    await new Promise((done) => {
      setTimeout(() => log.push("timeout 50"), 50);
      setTimeout(() => log.push("timeout 0 a"), 0);
      setTimeout(() => log.push("timeout 30"), 30);
      setTimeout(() => log.push("timeout 0 b"));
      const cancelled = setTimeout(() => log.push("cancelled!"), 5);
      clearTimeout(cancelled);
      clearTimeout(undefined); // harmless
      clearTimeout(123456);    // unknown id: harmless
      let n = 0;
      const iv = setInterval(() => {
        n++;
        log.push(`interval ${n}`);
        if (n === 3) clearInterval(iv);
      }, 20); // fires at 20, 40, 60: 10ms clear of the timeouts
      setTimeout((a, b) => log.push(`args ${a} ${b}`), 1, "x", "y");
      Promise.resolve().then(() => log.push("microtask"));
      log.push("sync");
      setTimeout(done, 100);
    });
    return Response.json({
      log,
      // Nested zero-delay timers still run in order.
      nested: await new Promise((resolve) => {
        const seq = [];
        setTimeout(() => { seq.push(1); setTimeout(() => { seq.push(3); resolve(seq); }, 0); }, 0);
        setTimeout(() => seq.push(2), 0);
      }),
    });
  },
};
