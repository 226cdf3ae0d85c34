// Status codes go out as given; null-body statuses send no body.
export default {
  async fetch(request) {
    const status = Number(new URL(request.url).searchParams.get("s"));
    const nullBody = [204, 205, 304].includes(status);
    return new Response(nullBody ? null : `status ${status}`, { status, headers: { "x-status": String(status) } });
  },
};
