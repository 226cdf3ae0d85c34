// A timer's delay counts from the setTimeout call, not from when the event
// began: an event that sets a 30 ms timer, works for 40 ms, then sets a 10 ms
// one sees the 30 ms timer fire first (workerd's clock moves while code runs
// here; a frozen clock would order them the other way).
function busy(ms) {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x++;
  return x;
}

export default {
  async fetch() {
    const log = [];
    await new Promise((done) => {
      setTimeout(() => log.push("30"), 30);
      busy(40);
      setTimeout(() => log.push("10"), 10);
      setTimeout(done, 80);
    });
    return Response.json({ log });
  },
};
