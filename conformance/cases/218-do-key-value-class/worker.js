// A class from `new_classes` (key-value storage, not SQLite-backed): the
// async KV API and transactionSync work, while ctx.storage.sql and
// ctx.storage.kv exist but throw, with messages saying how to switch.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v instanceof Map ? ["Map", [...v]] : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export class Store extends DurableObject {
  async run() {
    const st = this.ctx.storage;
    return {
      types: [typeof st.sql, typeof st.kv, typeof this.ctx.facets],
      sqlExec: await probe(() => st.sql.exec("SELECT 1 AS x").one()),
      sqlDatabaseSize: await probe(() => st.sql.databaseSize),
      kvGet: await probe(() => st.kv.get("a")),
      kvPut: await probe(() => st.kv.put("a", 1)),
      put: await probe(() => st.put({ b: 2, c: new Date(0) })),
      get: await probe(() => st.get(["b", "c", "a"])),
      list: await probe(() => st.list({ reverse: true })),
      transaction: await probe(() => st.transaction(async (txn) => { await txn.put("d", 4); txn.rollback(); })),
      transactionSync: await probe(() => st.transactionSync(() => "sync result")),
      afterTransactions: await probe(() => st.get("d")),
    };
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.STORE.getByName("s").run());
  },
};
