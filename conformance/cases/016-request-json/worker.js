// request.json() of an incoming body, and the error on invalid JSON.
export default {
  async fetch(request) {
    try {
      const data = await request.json();
      return Response.json({ ok: true, type: Array.isArray(data) ? "array" : typeof data, data });
    } catch (e) {
      return Response.json({ ok: false, error: e.name }, { status: 400 });
    }
  },
};
