// request.formData() of a multipart/form-data upload with fields and files.
export default {
  async fetch(request) {
    const fd = await request.formData();
    const out = {};
    for (const [name, value] of fd) {
      if (typeof value === "string") {
        (out[name] ||= []).push({ string: value });
      } else {
        (out[name] ||= []).push({
          isFile: value instanceof File,
          name: value.name,
          type: value.type,
          size: value.size,
          text: await value.text(),
        });
      }
    }
    return Response.json(out);
  },
};
