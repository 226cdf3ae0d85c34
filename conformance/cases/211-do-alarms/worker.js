// Alarms: getAlarm / setAlarm / deleteAlarm results and argument errors,
// an alarm in the past and one shortly in the future firing (the request
// awaits them inside the object), the info the handler gets, getAlarm
// inside the handler, deleteAlarm cancelling, deleteAll removing the alarm
// (compatibility date after 2026-02-24), and a class without alarm().
// The second request sees the alarm fired while no request was running.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const compare = (actual, set) => (actual === set ? "as set" : actual > set ? "later than set" : "earlier than set");

export class Alarmed extends DurableObject {
  fired = [];
  waiters = [];

  async alarm(info) {
    const inside = await this.ctx.storage.getAlarm();
    this.fired.push({
      arguments: arguments.length,
      infoKeys: Object.keys(info).sort(),
      retryCount: info.retryCount,
      isRetry: info.isRetry,
      // A time in the past is reported as when the alarm was set.
      scheduledTime: compare(info.scheduledTime, this.ctx.storage.kv.get("scheduled")),
      getAlarmInside: inside,
    });
    this.ctx.storage.kv.put("firedCount", this.fired.length);
    for (const w of this.waiters.splice(0)) w("fired");
  }

  // Resolves when alarm() next runs, or after ms.
  nextAlarm(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve("timed out"), ms);
      this.waiters.push((v) => { clearTimeout(t); resolve(v); });
    });
  }

  async schedule(when) {
    const ms = when instanceof Date ? when.getTime() : when;
    this.ctx.storage.kv.put("scheduled", ms);
    await this.ctx.storage.setAlarm(when);
  }

  async run() {
    const st = this.ctx.storage;
    const out = {};
    const base = Date.now() + 3600_000;
    out.initial = await st.getAlarm();
    out.set = await probe(() => st.setAlarm(base));
    out.get = (await st.getAlarm()) === base;
    out.setDate = await probe(async () => { await st.setAlarm(new Date(base + 5)); return (await st.getAlarm()) - base; });
    out.overwrite = await probe(async () => { await st.setAlarm(base + 10); return (await st.getAlarm()) - base; });
    out.fractionTruncated = await probe(async () => { await st.setAlarm(base + 20.7); return (await st.getAlarm()) - base; });
    out.delete = await probe(() => st.deleteAlarm());
    out.afterDelete = await st.getAlarm();
    out.deleteAgain = await probe(() => st.deleteAlarm());
    out.errors = {
      string: await probe(() => st.setAlarm("soon")),
      numericString: await probe(() => st.setAlarm(String(base))),
      object: await probe(() => st.setAlarm({})),
      missing: await probe(() => st.setAlarm()),
      nan: await probe(() => st.setAlarm(NaN)),
      invalidDate: await probe(() => st.setAlarm(new Date(NaN))),
      zero: await probe(() => st.setAlarm(0)),
      negative: await probe(() => st.setAlarm(-1)),
    };
    out.afterErrors = await st.getAlarm();

    let next = this.nextAlarm(3000);
    await this.schedule(Date.now() - 1000);
    out.past = await next;
    out.afterPast = await st.getAlarm();

    next = this.nextAlarm(3000);
    await this.schedule(new Date(Date.now() + 150));
    out.future = await next;
    out.afterFuture = await st.getAlarm();

    next = this.nextAlarm(400);
    await st.setAlarm(Date.now() + 100);
    await st.deleteAlarm();
    out.cancelled = await next;

    await st.setAlarm(Date.now() + 3600_000);
    await st.deleteAll();
    out.afterDeleteAll = await st.getAlarm();

    // Fires after this request has answered; /later looks.
    await this.schedule(Date.now() + 100);
    out.fired = this.fired;
    return out;
  }

  async later() {
    if (this.fired.length < 3) await this.nextAlarm(3000);
    return { firedCount: this.ctx.storage.kv.get("firedCount"), last: this.fired.at(-1), alarm: await this.ctx.storage.getAlarm() };
  }
}

export class NoAlarm extends DurableObject {
  async run() {
    return {
      set: await probe(() => this.ctx.storage.setAlarm(Date.now() + 1000)),
      get: await probe(() => this.ctx.storage.getAlarm()),
      delete: await probe(() => this.ctx.storage.deleteAlarm()),
    };
  }
}

export default {
  async fetch(request, env) {
    const stub = env.ALARMED.getByName("a");
    if (new URL(request.url).pathname === "/later") {
      await new Promise((r) => setTimeout(r, 200));
      return Response.json(await stub.later());
    }
    return Response.json({ alarmed: await stub.run(), noAlarm: await env.NOALARM.getByName("n").run() });
  },
};
