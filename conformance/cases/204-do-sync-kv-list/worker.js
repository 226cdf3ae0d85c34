// Synchronous KV (ctx.storage.kv) on a SQLite-backed object: get, put,
// delete and their results, list with start, startAfter, end, prefix,
// reverse and limit, the order of keys (by UTF-8 bytes), the iterator list
// returns, and its option errors. The second request reads the data back
// from a new stub.
import { DurableObject } from "cloudflare:workers";

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const codePoints = (s) => [...s].map((c) => c.codePointAt(0).toString(16)).join(" ");

export class Store extends DurableObject {
  fill() {
    const kv = this.ctx.storage.kv;
    const out = {};
    out.string = String(kv);
    out.methods = Object.getOwnPropertyNames(Object.getPrototypeOf(kv)).sort();
    out.getMissing = probe(() => kv.get("missing"));
    out.putResult = probe(() => kv.put("a", 1));
    for (const k of ["b", "c", "d", "aa", "ab", "b/1", "b/2"]) kv.put(k, k.toUpperCase());
    kv.put("c", "C again");
    out.overwritten = kv.get("c");

    const keys = (opts) => probe(() => [...kv.list(opts)].map(([k]) => k));
    out.list = {
      all: keys(),
      start: keys({ start: "b" }),
      startAfter: keys({ startAfter: "b" }),
      end: keys({ end: "b" }),
      startEnd: keys({ start: "aa", end: "b/2" }),
      endBeforeStart: keys({ start: "z", end: "a" }),
      prefix: keys({ prefix: "b" }),
      prefixWithSlash: keys({ prefix: "b/" }),
      emptyPrefix: keys({ prefix: "" }),
      prefixAndStart: keys({ prefix: "b", start: "b/" }),
      prefixAndEnd: keys({ prefix: "b", end: "b/2" }),
      reverse: keys({ reverse: true }),
      reverseLimit: keys({ reverse: true, limit: 2 }),
      reverseStartEnd: keys({ reverse: true, start: "aa", end: "c" }),
      reversePrefix: keys({ reverse: true, prefix: "a" }),
      limit: keys({ limit: 3 }),
      limitAsString: keys({ limit: "2" }),
      null: keys(null),
      unknownOption: keys({ unknown: 1 }),
      limitZero: keys({ limit: 0 }),
      limitNegative: keys({ limit: -1 }),
      startAndStartAfter: keys({ start: "a", startAfter: "b" }),
    };
    out.entries = [...kv.list({ prefix: "a" })];
    const it = kv.list({ limit: 2 });
    out.iterator = {
      string: Object.prototype.toString.call(it),
      next: typeof it.next,
      iterable: it[Symbol.iterator]() === it,
      first: it.next(),
      rest: [...it],
      again: [...it],
    };

    out.deleteResult = kv.delete("a");
    out.deleteMissing = kv.delete("a");
    out.afterDelete = probe(() => kv.get("a"));

    for (const k of ["B", "é", "\u{1F600}", "\uFFFD", "a\u0000b", "a\u0000", "~"]) kv.put("order:" + k, 1);
    out.order = [...kv.list({ prefix: "order:" })].map(([k]) => codePoints(k.slice(6)));
    return out;
  }

  readBack() {
    return [...this.ctx.storage.kv.list()].map(([k, v]) => [codePoints(k), v]);
  }
}

export default {
  async fetch(request, env) {
    const stub = env.STORE.getByName("s");
    if (new URL(request.url).pathname === "/again") return Response.json(await stub.readBack());
    return Response.json(await stub.fill());
  },
};
