// Dynamic import() of a bundled module inside a handler, and a module
// using top-level await on an already-resolved value.
import { ready } from "./tla.js";

export default {
  async fetch() {
    const mod = await import("./lazy.js");
    const again = await import("./lazy.js");
    let missing;
    try { await import("./does-not-exist.js"); missing = "no error"; } catch (e) { missing = e.name; }
    return Response.json({ value: mod.value, sameInstance: mod === again, ready, missing, loadCount: mod.loads() });
  },
};
