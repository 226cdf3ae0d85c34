// A FormData body is serialised as multipart/form-data with a random
// boundary, so we check its shape and parse it back rather than print it.
export default {
  async fetch() {
    const fd = new FormData();
    fd.append("name", "Ada");
    fd.append("multi", "one");
    fd.append("multi", "two");
    fd.append("file", new Blob(["file content"], { type: "text/plain" }), "notes.txt");
    const r = new Response(fd);
    const ct = r.headers.get("content-type");
    const boundary = ct.split("boundary=")[1];
    const raw = await r.clone().text();
    const back = await r.formData();
    const file = back.get("file");
    return new Response(JSON.stringify({
      contentTypePrefix: ct.split(";")[0],
      hasBoundary: typeof boundary === "string" && boundary.length > 0,
      rawStartsWithBoundary: raw.startsWith("--" + boundary + "\r\n"),
      rawEndsWithBoundary: raw.endsWith("--" + boundary + "--\r\n") || raw.endsWith("--" + boundary + "--"),
      rawHasDisposition: raw.includes('Content-Disposition: form-data; name="name"') || raw.includes('content-disposition: form-data; name="name"'),
      name: back.get("name"),
      multi: back.getAll("multi"),
      fileIsFile: file instanceof File,
      fileName: file.name,
      fileType: file.type,
      fileText: await file.text(),
    }, null, 2));
  },
};
