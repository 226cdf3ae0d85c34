// FormData: append/set/get/getAll/has/delete, insertion-order iteration,
// and Blobs becoming Files (named "blob" unless a name is given).
export default {
  async fetch() {
    const fd = new FormData();
    fd.append("a", "1");
    fd.append("b", "2");
    fd.append("a", "3");
    fd.append("blob", new Blob(["blob data"], { type: "text/plain" }));
    fd.append("named", new Blob(["x"]), "given.bin");
    fd.append("file", new File(["f"], "orig.txt"), "renamed.txt");
    fd.append("num", 42);
    const out = {
      get: fd.get("a"),
      getAll: fd.getAll("a"),
      has: [fd.has("a"), fd.has("zzz")],
      missing: [fd.get("zzz"), fd.getAll("zzz")],
      num: fd.get("num"),
      keys: [...fd.keys()],
    };
    const blob = fd.get("blob");
    out.blob = [blob instanceof File, blob.name, blob.type, await blob.text()];
    out.named = [fd.get("named").name, fd.get("named").type];
    out.renamed = fd.get("file").name;
    fd.set("a", "only");
    out.afterSet = [...fd].filter(([k]) => k === "a" || k === "b").map(([k, v]) => k + "=" + v);
    fd.delete("b");
    out.afterDelete = [...fd.keys()];
    out.forEach = (() => { const r = []; fd.forEach((v, k) => r.push(k)); return r; })();
    out.values = [...fd.values()].map((v) => (typeof v === "string" ? v : `File(${v.name})`));
    // Not covered: workerd accepts a file name with a string value.
    return Response.json(out);
  },
};
