// ctx.storage.sql: exec with bindings (and how JavaScript values bind), the
// cursor (next, iteration, toArray, one, raw, columnNames, rowsRead,
// rowsWritten), the types that come back, multi-statement queries (only the
// last may have bindings and gives the cursor), and databaseSize. The
// second request reads the table back.
import { DurableObject } from "cloudflare:workers";

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const bytes = (v) => (v instanceof ArrayBuffer ? ["ArrayBuffer", [...new Uint8Array(v)]] : v);
const row = (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, bytes(v)]));

export class Store extends DurableObject {
  run() {
    const sql = this.ctx.storage.sql;
    const out = {};
    out.string = String(sql);
    out.databaseSizeType = typeof sql.databaseSize;
    sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)");
    out.databaseSizePositive = sql.databaseSize > 0;

    const insert = sql.exec("INSERT INTO t (name, score, data) VALUES (?, ?, ?), (?, ?, ?)",
      "a", 1.5, new Uint8Array([1, 2]).buffer, "b", 2, null);
    out.insert = {
      string: String(insert),
      rows: insert.toArray(),
      columnNames: insert.columnNames,
      rowsWritten: insert.rowsWritten,
      rowsRead: insert.rowsRead,
    };
    sql.exec("INSERT INTO t (name, score) VALUES (?, ?)", "c", 3);
    out.runsWithoutReading = sql.exec("SELECT count(*) AS n FROM t").one().n;

    const c = sql.exec("SELECT * FROM t ORDER BY id");
    out.cursor = {
      columnNames: c.columnNames,
      rowsReadBefore: c.rowsRead,
      first: probe(() => {
        const r = c.next();
        return [r.done, row(r.value)];
      }),
      rowsReadAfterFirst: c.rowsRead,
      rawContinues: probe(() => [...c.raw()].map((r) => r.map(bytes))),
      nextWhenDone: c.next(),
      rowsReadAtEnd: c.rowsRead,
      iterateAgain: [...c].length,
    };
    out.iterate = [];
    for (const r of sql.exec("SELECT id, name FROM t ORDER BY id")) out.iterate.push(r);
    out.toArray = sql.exec("SELECT name FROM t WHERE score > ? ORDER BY id", 1.6).toArray();
    out.toArrayAfterNext = probe(() => {
      const cur = sql.exec("SELECT id FROM t ORDER BY id");
      cur.next();
      return cur.toArray();
    });
    out.one = probe(() => sql.exec("SELECT name FROM t WHERE id = ?", 1).one());
    out.oneAfterNext = probe(() => {
      const cur = sql.exec("SELECT id FROM t ORDER BY id LIMIT 2");
      cur.next();
      return cur.one();
    });
    out.oneOfNone = probe(() => sql.exec("SELECT name FROM t WHERE id = 99").one());
    out.oneOfMany = probe(() => sql.exec("SELECT name FROM t").one());
    out.raw = probe(() => {
      const it = sql.exec("SELECT 1 AS x, 'y' AS y").raw();
      return [Object.prototype.toString.call(it), typeof it.next, it.toArray()];
    });
    out.rawSharesPosition = probe(() => {
      const cur = sql.exec("SELECT id FROM t ORDER BY id");
      const r = cur.raw();
      return [r.next().value, cur.next().value, [...r]];
    });
    out.duplicateColumns = probe(() => [sql.exec("SELECT 1 AS x, 2 AS x").toArray(), sql.exec("SELECT 1 AS x, 2 AS x").raw().toArray()]);
    out.returning = probe(() => sql.exec("INSERT INTO t (name) VALUES ('r') RETURNING name").toArray());
    out.update = probe(() => {
      const cur = sql.exec("UPDATE t SET score = score + 1");
      return [cur.rowsWritten, cur.rowsRead, cur.toArray()];
    });

    out.values = probe(() => sql.exec(
      "SELECT 1 AS i, 1.5 AS f, 'x' AS s, NULL AS n, x'0102' AS b, 9007199254740993 AS big, 7/2 AS idiv, typeof(5) AS tint"
    ).raw().toArray()[0].map(bytes));
    out.bindings = {
      number: probe(() => sql.exec("SELECT ? AS v, typeof(?) AS t", 3, 3).one()),
      string: probe(() => sql.exec("SELECT ? AS v, typeof(?) AS t", "12", "12").one()),
      null: probe(() => sql.exec("SELECT ? AS v, typeof(?) AS t", null, null).one()),
      arrayBuffer: probe(() => row(sql.exec("SELECT ? AS v", new Uint8Array([8]).buffer).one())),
      uint8Array: probe(() => row(sql.exec("SELECT ? AS v", new Uint8Array([7])).one())),
      boolean: probe(() => sql.exec("SELECT ? AS v, typeof(?) AS t", true, false).one()),
      undefined: probe(() => sql.exec("SELECT ? AS v", undefined).one()),
      nan: probe(() => sql.exec("SELECT ? AS v", NaN).one()),
      object: probe(() => sql.exec("SELECT ? AS v", { a: 1 }).one()),
      array: probe(() => sql.exec("SELECT ? AS v", [1, 2]).one()),
      bigint: probe(() => sql.exec("SELECT ? AS v", 5n).one()),
      numbered: probe(() => sql.exec("SELECT ?2 AS a, ?1 AS b", 1, 2).one()),
      named: probe(() => sql.exec("SELECT :x AS a", 1).one()),
      tooFew: probe(() => sql.exec("SELECT ? AS a, ? AS b", 1).one()),
      tooMany: probe(() => sql.exec("SELECT ? AS a", 1, 2).one()),
    };

    out.multi = probe(() => {
      const cur = sql.exec("INSERT INTO t (name) VALUES ('m1'); INSERT INTO t (name) VALUES ('m2'); SELECT count(*) AS n FROM t WHERE name LIKE ?", "m%");
      return [cur.toArray(), cur.columnNames, cur.rowsWritten];
    });
    out.multiLastWrites = probe(() => {
      const cur = sql.exec("SELECT 1 AS a; INSERT INTO t (name) VALUES (?)", "m3");
      return [cur.toArray(), cur.columnNames, cur.rowsWritten];
    });
    out.multiEmptyStatements = probe(() => sql.exec("SELECT 1 AS a;;; SELECT 2 AS b;").toArray());
    out.multiBindingNotLast = probe(() => sql.exec("SELECT ? AS a; SELECT 2 AS b", 1));
    out.multiCommentAtEnd = probe(() => sql.exec("SELECT 2 AS b; -- trailing comment").toArray());
    out.empty = probe(() => sql.exec(""));
    out.commentOnly = probe(() => sql.exec("-- nothing"));
    return out;
  }

  readBack() {
    return this.ctx.storage.sql.exec("SELECT * FROM t ORDER BY id").toArray().map(row);
  }
}

export default {
  async fetch(request, env) {
    const stub = env.STORE.getByName("s");
    if (new URL(request.url).pathname === "/again") return Response.json(await stub.readBack());
    return Response.json(await stub.run());
  },
};
