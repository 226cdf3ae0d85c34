// Concurrency control inside a Durable Object: blockConcurrencyWhile in the
// constructor and in a method holds other calls back until it settles (a
// timer await alone does not), its result and argument errors, a throwing
// callback resetting the object (the stub that saw it stays broken, a new
// stub gets a new instance); storage awaits do not let calls interleave
// while timer awaits do; writes without an await between them are seen
// together; ctx.waitUntil keeps work going after a call returns.
import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export class Gated extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.log = ["constructor"];
    this.constructorBlock = ctx.blockConcurrencyWhile(async () => {
      this.log.push("constructor block start");
      await sleep(50);
      this.log.push("constructor block end");
      return "constructor block value";
    });
  }

  record(what) { this.log.push(what); return what; }
  take() { const l = this.log; this.log = []; return l; }
  constructorBlockValue() { return this.constructorBlock; }

  block(ms, value, fail) {
    return this.ctx.blockConcurrencyWhile(async () => {
      this.log.push("block start");
      await sleep(ms);
      this.log.push("block end");
      if (fail) throw new Error("block failed");
      return value;
    });
  }
  async slow(name, ms) {
    this.log.push(name + " start");
    await sleep(ms);
    this.log.push(name + " end");
  }
  blockSyncCallback() { return this.ctx.blockConcurrencyWhile(() => "sync callback value"); }
  blockNotAFunction() { return this.ctx.blockConcurrencyWhile(5); }
  blockNested() { return this.ctx.blockConcurrencyWhile(async () => this.ctx.blockConcurrencyWhile(async () => "nested value")); }
  setMarker() { this.marker = "kept"; }
  getMarker() { return this.marker ?? "reset"; }

  async incrementAwaitingStorage() {
    const v = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", v + 1);
  }
  async incrementAwaitingTimer() {
    const v = this.ctx.storage.kv.get("m") ?? 0;
    await sleep(10);
    this.ctx.storage.kv.put("m", v + 1);
  }
  counters() { return { awaitingStorage: this.ctx.storage.kv.get("n"), awaitingTimer: this.ctx.storage.kv.get("m") }; }

  async writeBatch(value) {
    for (let i = 0; i < 10; i++) this.ctx.storage.put("batch" + i, value);
    await sleep(30);
  }
  async readBatch() {
    return [...new Set((await this.ctx.storage.list({ prefix: "batch" })).values())];
  }

  startBackgroundWrite() {
    const result = this.ctx.waitUntil(sleep(50).then(() => this.ctx.storage.kv.put("background", "written by waitUntil")));
    return [result === undefined, typeof this.ctx.waitUntil];
  }
  backgroundWrite() { return this.ctx.storage.kv.get("background") ?? "not yet"; }
}

export default {
  async fetch(request, env) {
    const out = {};
    const stub = env.GATED.getByName("g");
    out.firstCall = await stub.record("first call");
    out.constructorLog = await stub.take();
    out.constructorBlockValue = await stub.constructorBlockValue();

    const blocked = stub.block(60, "block value");
    await sleep(10);
    const during = [stub.record("call during block 1"), stub.record("call during block 2")];
    out.blockValue = await blocked;
    await Promise.all(during);
    out.blockLog = await stub.take();

    const slow = stub.slow("timer", 40);
    await sleep(10);
    await Promise.all([slow, stub.record("call during timer")]);
    out.timerLog = await stub.take();

    out.syncCallback = await probe(() => stub.blockSyncCallback());
    out.notAFunction = await probe(() => stub.blockNotAFunction());
    out.nested = await probe(() => stub.blockNested());

    const failing = env.GATED.getByName("h");
    await failing.setMarker();
    await failing.take();
    out.failure = {
      thrown: await probe(() => failing.block(10, "unused", true)),
      sameStubAfter: await probe(() => failing.getMarker()),
      sameStubAgain: await probe(() => failing.record("x")),
    };
    const fresh = env.GATED.getByName("h");
    out.failure.newStubMarker = await probe(() => fresh.getMarker());
    out.failure.newStubLog = await probe(() => fresh.take());

    await Promise.all([1, 2, 3, 4, 5].map(() => stub.incrementAwaitingStorage()));
    await Promise.all([1, 2, 3, 4, 5].map(() => stub.incrementAwaitingTimer()));
    out.counters = await stub.counters();

    await stub.writeBatch("one");
    const writing = stub.writeBatch("two");
    await sleep(10);
    out.batchSeenMidway = await stub.readBatch();
    await writing;

    out.waitUntil = await stub.startBackgroundWrite();
    out.backgroundNow = await stub.backgroundWrite();
    await sleep(120);
    out.backgroundLater = await stub.backgroundWrite();
    return Response.json(out);
  },
};
