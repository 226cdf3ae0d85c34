// File: a Blob with a name and lastModified.
export default {
  async fetch() {
    const f = new File(["file ", "content"], "notes.txt", { type: "text/plain", lastModified: 1700000000000 });
    return Response.json({
      name: f.name,
      size: f.size,
      type: f.type,
      lastModified: f.lastModified,
      isBlob: f instanceof Blob,
      text: await f.text(),
      sliceIsFile: f.slice(0, 4) instanceof File,
      sliceText: await f.slice(0, 4).text(),
      defaultLastModifiedType: typeof new File([], "x").lastModified,
      nameCoerced: new File([], 42).name,
      pathName: new File([], "dir/sub/name.txt").name,
      missingName: (() => { try { new File(["x"]); return "no error"; } catch (e) { return e.name; } })(),
      toStringTag: Object.prototype.toString.call(f),
    });
  },
};
