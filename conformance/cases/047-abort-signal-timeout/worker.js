// AbortSignal.timeout: aborts after the delay with a TimeoutError
// DOMException, firing the abort event.
export default {
  async fetch() {
    const signal = AbortSignal.timeout(10);
    const before = signal.aborted;
    const fired = await new Promise((resolve) => {
      signal.addEventListener("abort", () => resolve("abort event"));
      setTimeout(() => resolve("timed out waiting"), 500);
    });
    const r = signal.reason;
    const long = AbortSignal.timeout(60000);
    // Not covered: workerd accepts a negative delay (WebIDL says TypeError).
    return Response.json({
      before,
      fired,
      after: signal.aborted,
      reason: [r instanceof DOMException, r.name, r.code],
      longNotAborted: long.aborted,
    });
  },
};
