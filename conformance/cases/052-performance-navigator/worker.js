// performance.now is a non-decreasing number; navigator.userAgent is
// "Cloudflare-Workers". Clock values are not printed (they differ per run).
export default {
  async fetch() {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      samples.push(performance.now());
      await new Promise((r) => setTimeout(r, 2));
    }
    const monotonic = samples.every((v, i) => i === 0 || v >= samples[i - 1]);
    return Response.json({
      nowType: typeof performance.now(),
      monotonic,
      nonNegative: samples.every((v) => v >= 0),
      timeOriginType: typeof performance.timeOrigin,
      userAgent: navigator.userAgent,
      dateNowType: typeof Date.now(),
    });
  },
};
