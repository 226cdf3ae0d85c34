// Headers: names are case-insensitive and stored lower-case; values are
// trimmed of surrounding whitespace.
export default {
  async fetch() {
    const h = new Headers({ "Content-Type": "text/plain", "X-Mixed-Case": "  padded value \t" });
    const out = {};
    out.getLower = h.get("content-type");
    out.getUpper = h.get("CONTENT-TYPE");
    out.trimmed = JSON.stringify(h.get("x-mixed-case"));
    out.hasMixed = h.has("X-MIXED-case");
    out.missing = h.get("nope");
    h.set("X-Mixed-Case", "replaced");
    out.afterSet = h.get("x-mixed-case");
    h.delete("CONTENT-type");
    out.afterDelete = h.has("content-type");
    out.deleteMissing = h.delete("never-there") === undefined;
    out.keys = [...h.keys()];
    out.fromPairs = [...new Headers([["B", "2"], ["a", "1"]])];
    out.fromHeaders = [...new Headers(new Headers({ Z: "z" }))];
    out.emptyValue = JSON.stringify(new Headers({ e: "" }).get("e"));
    out.numberValue = new Headers({ n: 42 }).get("n");
    out.responseHeaders = (() => { const r = new Response("x", { headers: { A: "1" } }); r.headers.set("B", "2"); return [...r.headers]; })();
    return Response.json(out);
  },
};
