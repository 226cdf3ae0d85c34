// Relative imports between modules, including a subdirectory, "..",
// re-exports, a default export, and a shared module instance.
import { add, VERSION } from "./lib/math.js";
import greet from "./lib/greet.mjs";
import * as deep from "./lib/deep/index.js";
import { counter as counterA } from "./lib/counter.js";
import { bump } from "./lib/deep/bump.js";

export default {
  async fetch() {
    bump();
    bump();
    return Response.json({
      add: add(2, 3),
      VERSION,
      greet: greet("world"),
      deep: deep.describe(),
      reexported: deep.add(10, 5),
      sharedInstance: counterA.value,
    });
  },
};
