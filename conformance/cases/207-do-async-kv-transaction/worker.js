// ctx.storage.transaction(): the transaction object, commit on return,
// rollback when the callback throws or calls txn.rollback(), what a rolled
// back transaction still allows, deleteAll refused inside, nesting, and
// writes through ctx.storage inside the callback sharing its fate.
import { DurableObject } from "cloudflare:workers";

const show = (v) => (v === undefined ? "undefined" : v instanceof Map ? ["Map", [...v]] : v);

const probe = async (fn) => {
  try {
    return show(await fn());
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export class Store extends DurableObject {
  async run() {
    const st = this.ctx.storage;
    const out = {};
    await st.put("x", 0);
    out.commit = await probe(() => st.transaction(async (txn) => {
      await txn.put("x", 1);
      await txn.put({ y: 2 });
      return [await txn.get("x"), Object.prototype.toString.call(txn), ["get", "put", "delete", "list", "rollback", "deleteAll", "getAlarm", "setAlarm", "deleteAlarm"].map((m) => typeof txn[m])];
    }));
    out.afterCommit = await probe(() => st.get(["x", "y"]));
    out.seesOwnWrites = await probe(() => st.transaction(async (txn) => {
      await txn.put("l1", 1);
      await txn.delete("y");
      return [show(await txn.list({ prefix: "l" })), await txn.get("y") === undefined, show(await txn.get(["x", "y"]))];
    }));
    out.afterSeesOwnWrites = await probe(() => st.get(["y", "l1"]));

    out.throwing = await probe(() => st.transaction(async (txn) => {
      await txn.put("x", 100);
      await txn.delete("l1");
      throw new Error("abandon");
    }));
    out.afterThrowing = await probe(() => st.get(["x", "l1"]));

    out.rollback = await probe(() => st.transaction(async (txn) => {
      await txn.put("x", 200);
      txn.rollback();
      return "returned after rollback";
    }));
    out.afterRollback = await probe(() => st.get("x"));
    out.putAfterRollback = await probe(() => st.transaction(async (txn) => {
      txn.rollback();
      await txn.put("x", 300);
    }));
    out.getAfterRollback = await probe(() => st.transaction(async (txn) => {
      txn.rollback();
      return txn.get("x");
    }));
    out.rollbackTwice = await probe(() => st.transaction(async (txn) => {
      txn.rollback();
      txn.rollback();
      return "ok";
    }));
    out.afterRollbacks = await probe(() => st.get("x"));

    out.deleteAllInside = await probe(() => st.transaction((txn) => txn.deleteAll()));
    out.nested = await probe(() => st.transaction(async (txn) => {
      await txn.put("n", 1);
      return st.transaction(async (inner) => {
        await inner.put("n2", 2);
        return "nested ok";
      });
    }));
    out.afterNested = await probe(() => st.get(["n", "n2"]));
    out.storageWriteInsideRolledBack = await probe(() => st.transaction(async () => {
      await st.put("outer", 1);
      throw new Error("undo");
    }));
    out.afterStorageWriteInside = await probe(() => st.get("outer"));
    out.syncCallback = await probe(() => st.transaction(() => "sync return"));
    out.notAFunction = await probe(() => st.transaction());
    return out;
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.STORE.getByName("s").run());
  },
};
