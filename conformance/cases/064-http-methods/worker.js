// Every common method reaches the worker; a HEAD response carries no body
// on the wire even when the worker supplies one.
export default {
  async fetch(request) {
    const body = request.body ? await request.text() : null;
    return new Response(`${request.method} ${new URL(request.url).pathname} body=${JSON.stringify(body)}`, {
      headers: { "x-method": request.method },
    });
  },
};
