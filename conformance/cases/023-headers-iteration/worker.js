// Iteration yields lower-cased names in sorted order, whatever the
// insertion order; keys/values/entries/forEach agree.
export default {
  async fetch() {
    const h = new Headers();
    h.set("Zeta", "last");
    h.set("alpha", "first");
    h.append("Mid-Dle", "m1");
    h.append("mid-dle", "m2");
    h.set("BETA", "b");
    const forEach = [];
    h.forEach((value, name, obj) => forEach.push([name, value, obj === h]));
    const it = h.entries();
    return Response.json({
      entries: [...h.entries()],
      keys: [...h.keys()],
      values: [...h.values()],
      forEach,
      iteratorIsIterable: typeof it[Symbol.iterator] === "function",
      firstNext: it.next(),
      spreadEqualsEntries: JSON.stringify([...h]) === JSON.stringify([...h.entries()]),
      toStringTag: Object.prototype.toString.call(h),
    });
  },
};
