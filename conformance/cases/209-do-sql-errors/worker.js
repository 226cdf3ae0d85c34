// SQL errors and what the authorizer refuses: syntax errors (with their
// offset), missing tables, constraints, BEGIN/COMMIT/SAVEPOINT and friends,
// _cf_ names in any case, the hidden _cf_KV table, ATTACH and pragmas, bad
// arguments to exec, and a multi-statement query failing part way (the
// statements before the failure stay applied).
import { DurableObject } from "cloudflare:workers";

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

export class Store extends DurableObject {
  run() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    sql.exec("INSERT INTO t VALUES (1, 'one')");
    const out = {};
    out.beforeKvExists = probe(() => sql.exec("SELECT * FROM _cf_KV"));
    this.ctx.storage.kv.put("k", "v");
    out.syntax = {
      misspelled: probe(() => sql.exec("SELEC 1")),
      later: probe(() => sql.exec("SELECT 1 FROM t WHERE")),
      notAString: probe(() => sql.exec(5)),
      missing: probe(() => sql.exec()),
    };
    out.schema = {
      noTable: probe(() => sql.exec("SELECT * FROM nope")),
      noColumn: probe(() => sql.exec("SELECT nope FROM t")),
      noFunction: probe(() => sql.exec("SELECT nope(1)")),
      tableExists: probe(() => sql.exec("CREATE TABLE t (x)")),
    };
    out.constraints = {
      primaryKey: probe(() => sql.exec("INSERT INTO t VALUES (1, 'again')")),
      notNull: probe(() => sql.exec("INSERT INTO t (id) VALUES (2)")),
    };
    out.transactions = {
      begin: probe(() => sql.exec("BEGIN")),
      beginTransaction: probe(() => sql.exec("BEGIN TRANSACTION")),
      commit: probe(() => sql.exec("COMMIT")),
      rollback: probe(() => sql.exec("ROLLBACK")),
      savepoint: probe(() => sql.exec("SAVEPOINT a")),
      release: probe(() => sql.exec("RELEASE a")),
      inMulti: probe(() => sql.exec("SELECT 1; BEGIN")),
    };
    out.reserved = {
      createCf: probe(() => sql.exec("CREATE TABLE _cf_mine (x)")),
      createCfUpper: probe(() => sql.exec("CREATE TABLE _CF_mine (x)")),
      createCfIndex: probe(() => sql.exec("CREATE INDEX _cf_idx ON t(name)")),
      createCfView: probe(() => sql.exec("CREATE VIEW _cf_v AS SELECT 1")),
      createCfTrigger: probe(() => sql.exec("CREATE TRIGGER _cf_trg AFTER INSERT ON t BEGIN SELECT 1; END")),
      cfColumnAllowed: probe(() => sql.exec("CREATE TABLE t2 (_cf_col)").toArray()),
      countKv: probe(() => sql.exec("SELECT count(*) AS n FROM _cf_KV")),
      selectKvColumns: probe(() => sql.exec("SELECT * FROM _CF_kv")),
      insertKv: probe(() => sql.exec("INSERT INTO _cf_KV VALUES ('a', 'b')")),
      dropKv: probe(() => sql.exec("DROP TABLE _cf_KV")),
      schemaListsKv: probe(() => sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray()),
    };
    out.other = {
      attach: probe(() => sql.exec("ATTACH DATABASE 'x.db' AS x")),
      vacuum: probe(() => sql.exec("VACUUM")),
      pragmaUserVersion: probe(() => sql.exec("PRAGMA user_version")),
      pragmaTableInfo: probe(() => sql.exec("PRAGMA table_info(t)").toArray().map((r) => r.name)),
      pragmaForeignKeys: probe(() => sql.exec("PRAGMA foreign_keys").toArray()),
      loadExtension: probe(() => sql.exec("SELECT load_extension('x')")),
      json: probe(() => sql.exec("SELECT json_extract('{\"a\":1}', '$.a') AS a").one()),
    };
    out.partial = {
      failsLater: probe(() => sql.exec("INSERT INTO t VALUES (10, 'before'); SELEC 2")),
      earlierApplied: probe(() => sql.exec("SELECT name FROM t WHERE id = 10").toArray()),
      bindingsNotLast: probe(() => sql.exec("INSERT INTO t VALUES (11, ?); SELECT 1", "x")),
      nothingApplied: probe(() => sql.exec("SELECT count(*) AS n FROM t WHERE id = 11").one()),
    };
    out.stillUsable = probe(() => sql.exec("SELECT name FROM t ORDER BY id").toArray());
    return out;
  }
}

export default {
  async fetch(request, env) {
    return Response.json(await env.STORE.getByName("s").run());
  },
};
