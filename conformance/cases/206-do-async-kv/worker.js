// Asynchronous KV (ctx.storage.get/put/delete/list/deleteAll/sync) on a
// SQLite-backed object: single keys, arrays of keys and entry objects,
// list options, results and their types, the errors for bad arguments and
// unstorable values (a failed batch writes nothing), batches past 128 keys
// (workerd accepts them), and that sync KV, async KV and SQL share the data
// but user SQL cannot read _cf_KV.
import { DurableObject } from "cloudflare:workers";

const show = (v) => (v === undefined ? "undefined" : v instanceof Map ? ["Map", [...v]] : v);

const probe = async (fn) => {
  try {
    return show(await fn());
  } catch (e) {
    // The message quotes a function's source, which a bundler may reprint.
    return "threw " + e.name + ": " + e.message.replace(/^\(.*\) => .* (could not be cloned\.)$/s, "<source> $1");
  }
};

// Whether an error comes as a synchronous throw or a rejected promise.
const how = (fn) => {
  try {
    const p = fn();
    if (p instanceof Promise) {
      p.catch(() => {});
      return "promise";
    }
    return "value";
  } catch {
    return "throws";
  }
};

export class Store extends DurableObject {
  async run() {
    const st = this.ctx.storage;
    const out = {};
    out.string = String(st);
    out.methods = ["get", "put", "delete", "list", "deleteAll", "sync", "transaction", "transactionSync", "getAlarm", "setAlarm", "deleteAlarm"]
      .map((m) => typeof st[m]);
    out.putResult = await probe(() => st.put("a", 1));
    out.returnsPromises = [st.put("z", 0), st.get("a"), st.list(), st.delete("nope"), st.sync()].map((p) => p instanceof Promise);
    out.putEntries = await probe(() => st.put({ b: 2, c: 3, d: new Date(0) }));
    out.putEntriesWithOptions = await probe(() => st.put({ e: 5 }, { noCache: true }));
    out.putWithOptions = await probe(() => st.put("f", 6, { allowUnconfirmed: true, noCache: true, allowConcurrency: true }));
    out.get = await probe(() => st.get("b"));
    out.getDate = await probe(async () => (await st.get("d")) instanceof Date);
    out.getMissing = await probe(() => st.get("nope"));
    out.getArray = await probe(() => st.get(["a", "nope", "c", "b"]));
    out.getEmptyArray = await probe(() => st.get([]));
    out.getNumberKey = await probe(async () => { await st.put(7, "seven"); return [await st.get(7), await st.get("7")]; });

    out.list = {
      all: await probe(() => st.list()),
      startEndReverse: await probe(() => st.list({ start: "b", end: "d", reverse: true })),
      limitReverse: await probe(() => st.list({ limit: 2, reverse: true })),
      prefix: await probe(() => st.list({ prefix: "c" })),
      startAfter: await probe(() => st.list({ startAfter: "e" })),
      options: await probe(() => st.list({ allowConcurrency: true, noCache: true, limit: 1 })),
      startAndStartAfter: await probe(() => st.list({ start: "a", startAfter: "b" })),
      limitZero: await probe(() => st.list({ limit: 0 })),
    };

    out.delete = await probe(() => st.delete("a"));
    out.deleteMissing = await probe(() => st.delete("a"));
    out.deleteArray = await probe(() => st.delete(["b", "c", "nope"]));
    out.deleteEmptyArray = await probe(() => st.delete([]));

    const many = {};
    for (let i = 0; i < 129; i++) many["k" + String(i).padStart(3, "0")] = i;
    out.batch129 = {
      put: await probe(() => st.put(many)),
      get: await probe(async () => (await st.get(Object.keys(many))).size),
      delete: await probe(() => st.delete(Object.keys(many))),
    };

    out.errors = {
      putNoArguments: await probe(() => st.put()),
      putNoValue: await probe(() => st.put("x")),
      putUndefined: await probe(() => st.put("x", undefined)),
      putArray: await probe(() => st.put([1, 2])),
      putBadOptions: await probe(() => st.put("x", 1, 5)),
      getNoArguments: await probe(() => st.get()),
      deleteNoArguments: await probe(() => st.delete()),
      putFunction: await probe(() => st.put("f", () => 1)),
      putEntriesWithSymbol: await probe(() => st.put({ ok: 1, bad: Symbol() })),
      failedBatchWroteNothing: await probe(() => st.get("ok")),
    };
    out.errorDelivery = {
      putNoArguments: how(() => st.put()),
      putNoValue: how(() => st.put("x")),
      getNoArguments: how(() => st.get()),
      putFunction: how(() => st.put("f", () => 1)),
      listLimitZero: how(() => st.list({ limit: 0 })),
    };

    out.shared = {
      asyncThenSync: await probe(async () => { await st.put("shared", "async"); return st.kv.get("shared"); }),
      syncThenAsync: await probe(async () => { st.kv.put("shared2", "sync"); return st.get("shared2"); }),
      sqlCannotRead: await probe(() => st.sql.exec("SELECT count(*) AS n FROM _cf_KV").one()),
    };

    out.deleteAll = await probe(() => st.deleteAll());
    out.afterDeleteAll = await probe(() => st.list());
    out.deleteAllOptions = await probe(() => st.deleteAll({ allowUnconfirmed: true }));
    out.sync = await probe(() => st.sync());
    return out;
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.STORE.getByName("s").run());
  },
};
