// Storage micro-operations and many-object touches, for bench/objects.
// /?op=get|put|sql|nop&n=N runs N operations inside one object and
// answers when done: the benchmark times N large against N = 1 from
// outside, because workerd's clocks stand still inside a request.
// /touch?i=I writes one key in object "o<I>".
import { DurableObject } from "cloudflare:workers";

export class Ops extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.kv.put("k", 42);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)");
    ctx.storage.sql.exec("INSERT OR REPLACE INTO t VALUES ('k', 1)");
  }
  run(op, n) {
    const kv = this.ctx.storage.kv;
    const sql = this.ctx.storage.sql;
    let x = 0;
    switch (op) {
      case "get": for (let i = 0; i < n; i++) x += kv.get("k"); break;
      case "put": for (let i = 0; i < n; i++) kv.put("k", i); break;
      case "sql": for (let i = 0; i < n; i++) x += sql.exec("SELECT v FROM t WHERE k = ?", "k").one().v; break;
      default: for (let i = 0; i < n; i++) x += i;
    }
    return x;
  }
}

export class Touched extends DurableObject {
  touch() {
    this.ctx.storage.kv.put("touched", true);
    return 1;
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/touch") {
      return new Response(String(await ctx.exports.Touched.getByName("o" + url.searchParams.get("i")).touch()));
    }
    const n = Number(url.searchParams.get("n") || 1);
    return new Response(String(await ctx.exports.Ops.getByName("ops").run(url.searchParams.get("op"), n)));
  },
};
