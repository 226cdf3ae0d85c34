// A .cjs module is CommonJS: its module.exports is the default import.
import lib from "./lib.cjs";

export default {
  async fetch() {
    return Response.json({ name: lib.name, sum: lib.sum(2, 3), keys: Object.keys(lib).sort() });
  },
};
