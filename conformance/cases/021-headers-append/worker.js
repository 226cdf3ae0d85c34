// append() keeps every value; get() joins them with ", ".
export default {
  async fetch() {
    const h = new Headers();
    h.append("Accept", "text/html");
    h.append("accept", "application/json");
    h.append("ACCEPT", "*/*");
    h.append("X-Single", "only");
    const out = {
      joined: h.get("accept"),
      entries: [...h],
      afterSetCollapses: (() => { const c = new Headers(h); c.set("accept", "one"); return c.get("accept"); })(),
    };
    // The combined value also goes out on the wire.
    return new Response(JSON.stringify(out), {
      headers: [["X-Multi", "a"], ["x-multi", "b"], ["X-MULTI", "c, d"], ["content-type", "application/json"]],
    });
  },
};
