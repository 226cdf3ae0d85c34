// Timer ordering: by delay, then by scheduling order; clearTimeout cancels;
// setInterval repeats until cleared; timers run after microtasks.
export default {
  async fetch() {
    const log = [];
    await new Promise((done) => {
      setTimeout(() => log.push("timeout 250"), 250);
      setTimeout(() => log.push("timeout 0 a"), 0);
      setTimeout(() => log.push("timeout 150"), 150);
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
      }, 100); // fires at 100, 200, 300: 50 ms clear of the timeouts, as a
      // busy machine can hold a timer back, or this block, by more than 10 ms
      setTimeout((a, b) => log.push(`args ${a} ${b}`), 1, "x", "y");
      Promise.resolve().then(() => log.push("microtask"));
      log.push("sync");
      setTimeout(done, 400);
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
