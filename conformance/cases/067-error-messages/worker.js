// The exact messages of common errors. Apps log and sometimes match on
// these, so they are compared too; each line is independent. Messages that
// come from the JavaScript engine itself (JSON.parse, TypeErrors on
// undefined, ...) are V8's in workerd and are deliberately not covered.
export default {
  async fetch() {
    const msg = async (fn) => { try { await fn(); return "no error"; } catch (e) { return `${e.name}: ${e.message}`; } };
    const used = new Response("x");
    await used.text();
    return Response.json({
      bodyUsed: await msg(() => used.text()),
      invalidUrl: await msg(() => new URL("nope")),
      headerName: await msg(() => new Headers().set("bad name", "v")),
      redirectStatus: await msg(() => Response.redirect("https://example.com/", 200)),
      responseStatus: await msg(() => new Response("x", { status: 99 })),
      atob: await msg(() => atob("!")),
      // A symbol rather than a function: the message quotes the value, and a
      // function's source text is reprinted by the bundler (Isola bundles
      // every worker with esbuild), so it would differ in layout only.
      structuredClone: await msg(() => structuredClone(Symbol("s"))),
      getRandomValues: await msg(() => crypto.getRandomValues(new Uint8Array(65537))),
      abort: await msg(() => { const a = new AbortController(); a.abort(); a.signal.throwIfAborted(); }),
      requestGetBody: await msg(() => new Request("https://example.com/", { body: "x" })),
    }, { headers: { "content-type": "application/json" } });
  },
};
