// Facets cannot set alarms (the failure resets the facet and breaks the stub
// that made the call; a new get() starts it again), while getAlarm and deleteAlarm answer; the
// parent still can. Facets nest: a facet's own facets have their own
// storage and ids default down the chain; depth is limited to 4 including
// the root object.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export class Child extends DurableObject {
  facet(name) {
    return this.ctx.facets.get(name, () => ({ class: this.ctx.exports.Child({ props: { depth: (this.ctx.props.depth ?? 1) + 1 } }) }));
  }
  async alarm() {}
  setAlarm() { return this.ctx.storage.setAlarm(Date.now() + 60_000); }
  getAlarm() { return this.ctx.storage.getAlarm(); }
  deleteAlarm() { return this.ctx.storage.deleteAlarm(); }
  hello() { return "hello"; }
  mark() { this.marked = "kept"; }
  marker() { return this.marked ?? "reset"; }

  put(k, v) { this.ctx.storage.kv.put(k, v); }
  info() { return { depth: this.ctx.props.depth, idName: this.ctx.id.name ?? "undefined", kv: [...this.ctx.storage.kv.list()] }; }
  async chainInfo(levels) {
    const own = this.info();
    if (levels === 0) return [own];
    const inner = this.facet("inner");
    await inner.put("key at depth " + (own.depth + 1), true);
    return [own, ...(await inner.chainInfo(levels - 1))];
  }
}

export class Parent extends DurableObject {
  async alarm() {}

  async run() {
    const out = {};
    const child = () => this.ctx.facets.get("child", () => ({ class: this.ctx.exports.Child({ props: { depth: 2 } }) }));
    const first = child();
    await first.mark();
    out.alarms = {
      get: await probe(() => first.getAlarm()),
      delete: await probe(() => first.deleteAlarm()),
      set: await probe(() => first.setAlarm()),
      sameStubAfter: await probe(() => first.hello()),
      newStub: await probe(() => child().hello()),
      newStubInstance: await probe(() => child().marker()),
      parentCanSet: await probe(async () => {
        await this.ctx.storage.setAlarm(Date.now() + 60_000);
        const set = typeof (await this.ctx.storage.getAlarm());
        await this.ctx.storage.deleteAlarm();
        return set;
      }),
    };

    this.ctx.storage.kv.put("root key", true);
    const top = this.ctx.facets.get("top", () => ({ class: this.ctx.exports.Child({ props: { depth: 2 } }) }));
    await top.put("key at depth 2", true);
    out.nesting = await probe(() => top.chainInfo(2));
    out.rootKv = [...this.ctx.storage.kv.list()];
    out.tooDeep = await probe(() => top.chainInfo(3));
    return out;
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.PARENT.getByName("root").run());
  },
};
