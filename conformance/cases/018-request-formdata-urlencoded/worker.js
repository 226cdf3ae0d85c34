// request.formData() of an application/x-www-form-urlencoded body.
export default {
  async fetch(request) {
    try {
      const fd = await request.formData();
      return Response.json({ entries: [...fd], a: fd.getAll("a"), missing: fd.get("missing") });
    } catch (e) {
      return Response.json({ error: e.name }, { status: 400 });
    }
  },
};
