// A throwing alarm handler is retried (workerd waits about 2 s before the
// first retry) with retryCount 1 and isRetry true; between the attempts
// getAlarm() still shows the failed alarm's time, and the failed attempt's
// writes stay.
import { DurableObject } from "cloudflare:workers";

export class Alarmed extends DurableObject {
  attempts = [];
  waiters = [];

  async alarm(info) {
    const kv = this.ctx.storage.kv;
    this.attempts.push({ retryCount: info.retryCount, isRetry: info.isRetry, sawWriteOfFailedAttempt: kv.get("written") ?? "none" });
    kv.put("written", "attempt " + this.attempts.length);
    for (const w of this.waiters.splice(0)) w("ran");
    if (this.attempts.length === 1) throw new Error("alarm failed on purpose");
  }

  nextAttempt(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve("timed out"), ms);
      this.waiters.push((v) => { clearTimeout(t); resolve(v); });
    });
  }

  async run() {
    let next = this.nextAttempt(3000);
    await this.ctx.storage.setAlarm(Date.now());
    const first = await next;
    next = this.nextAttempt(6000);
    await new Promise((r) => setTimeout(r, 50));
    const pending = await this.ctx.storage.getAlarm();
    // workerd keeps showing the failed alarm's own (past) time.
    const between = pending === null ? null : typeof pending + (pending <= Date.now() ? " in the past" : " in the future");
    const second = await next;
    await new Promise((r) => setTimeout(r, 50));
    return {
      first,
      between,
      second,
      attempts: this.attempts,
      finalWrite: this.ctx.storage.kv.get("written"),
      alarmAfter: await this.ctx.storage.getAlarm(),
    };
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.ALARMED.getByName("r").run());
  },
};
