// URLSearchParams: construction forms, mutation, sorting, encoding.
export default {
  async fetch() {
    const p = new URLSearchParams("?a=1&b=2&a=3&sp=a+b&pct=%26%3D&empty=&flag");
    const out = {
      get: p.get("a"),
      getAll: p.getAll("a"),
      sp: p.get("sp"),
      pct: p.get("pct"),
      empty: p.get("empty"),
      flag: p.get("flag"),
      missing: p.get("missing"),
      has: [p.has("a"), p.has("a", "3"), p.has("a", "9"), p.has("zzz")],
      size: p.size,
    };
    p.append("c", "x y+z&é");
    p.set("a", "only");
    p.delete("b");
    p.delete("flag", "nope");
    out.afterMutation = p.toString();
    p.sort();
    out.sorted = p.toString();
    out.fromObject = new URLSearchParams({ x: "1", y: "two words" }).toString();
    out.fromPairs = new URLSearchParams([["k", "v"], ["k", "w"]]).toString();
    out.fromParams = new URLSearchParams(new URLSearchParams("q=1")).toString();
    out.encoding = new URLSearchParams({ chars: "*-._~!'()@:/?#[]$,;=+ %" }).toString();
    out.entries = [...new URLSearchParams("z=1&a=2")];
    out.keysValues = [[...p.keys()], [...p.values()]];
    out.forEach = (() => { const r = []; new URLSearchParams("m=1&n=2").forEach((v, k) => r.push(k + "=" + v)); return r; })();
    out.stableSort = (() => { const s = new URLSearchParams("b=1&a=2&b=0&a=1"); s.sort(); return s.toString(); })();
    out.badPair = (() => { try { new URLSearchParams([["only"]]); return "no error"; } catch (e) { return e.name; } })();
    return Response.json(out);
  },
};
