// ctx.storage.transactionSync(): commit on return with the callback's
// value, rollback of SQL and KV writes when it throws, nesting (an inner
// failure caught by the outer callback undoes only the inner writes), and
// SQL inside an async transaction(). The second request shows what was
// committed.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export class Store extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (name TEXT)");
  }

  names() {
    return this.ctx.storage.sql.exec("SELECT name FROM t ORDER BY rowid").toArray().map((r) => r.name);
  }

  async run() {
    const st = this.ctx.storage;
    const sql = st.sql;
    const out = {};
    out.commit = await probe(() => st.transactionSync(() => {
      sql.exec("INSERT INTO t VALUES ('committed')");
      st.kv.put("k", "committed");
      return { value: "returned", rows: this.names() };
    }));
    out.throwing = await probe(() => st.transactionSync(() => {
      sql.exec("INSERT INTO t VALUES ('rolled back')");
      st.kv.put("k", "rolled back");
      throw new Error("undo");
    }));
    out.afterThrowing = [this.names(), st.kv.get("k")];
    out.sqlErrorInside = await probe(() => st.transactionSync(() => {
      sql.exec("INSERT INTO t VALUES ('before error')");
      sql.exec("INSERT INTO nope VALUES (1)");
    }));
    out.afterSqlError = this.names();
    out.nested = await probe(() => st.transactionSync(() => {
      sql.exec("INSERT INTO t VALUES ('outer')");
      let inner;
      try {
        st.transactionSync(() => {
          sql.exec("INSERT INTO t VALUES ('inner')");
          throw new Error("inner failed");
        });
      } catch (e) {
        inner = e.message;
      }
      return [inner, this.names()];
    }));
    out.nestedCommitted = await probe(() => st.transactionSync(() => {
      st.transactionSync(() => sql.exec("INSERT INTO t VALUES ('inner ok')"));
      return this.names().length;
    }));
    out.notAFunction = await probe(() => st.transactionSync());
    out.returnsValueNotPromise = st.transactionSync(() => 5);

    out.asyncTransaction = await probe(() => st.transaction(async (txn) => {
      sql.exec("INSERT INTO t VALUES ('async txn')");
      await txn.put("k2", 1);
      throw new Error("async undo");
    }));
    out.afterAsyncTransaction = [this.names(), st.kv.get("k2") ?? "undefined"];
    out.asyncRollback = await probe(() => st.transaction(async (txn) => {
      sql.exec("INSERT INTO t VALUES ('async rollback')");
      txn.rollback();
      return "rolled back";
    }));
    out.final = this.names();
    return out;
  }

  again() {
    return { rows: this.names(), k: this.ctx.storage.kv.get("k") };
  }
}

export default {
  async fetch(request, env) {
    const stub = env.STORE.getByName("s");
    if (new URL(request.url).pathname === "/again") return Response.json(await stub.again());
    return Response.json(await stub.run());
  },
};
