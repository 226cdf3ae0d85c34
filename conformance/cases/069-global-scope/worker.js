// What module-level code may do before any request: workerd forbids I/O-ish
// operations (timers, random values) outside a request, while pure
// computation and constructing objects is allowed.
const atStartup = {};
const attempt = (name, fn) => {
  try { fn(); atStartup[name] = "allowed"; } catch (e) { atStartup[name] = e.name; }
};
attempt("computation", () => JSON.stringify({ a: [1, 2, 3] }));
attempt("newResponse", () => new Response("x"));
attempt("newURL", () => new URL("https://example.com/"));
attempt("textEncoder", () => new TextEncoder().encode("x"));
attempt("subtleDigestCall", () => typeof crypto.subtle.digest);
attempt("setTimeout", () => clearTimeout(setTimeout(() => {}, 10)));
attempt("getRandomValues", () => crypto.getRandomValues(new Uint8Array(4)));
attempt("randomUUID", () => crypto.randomUUID());

export default {
  async fetch() {
    return Response.json({ atStartup });
  },
};
