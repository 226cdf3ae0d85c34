import { VERSION } from "../math.js";
export { add } from "../math.js";
export function describe() {
  return `deep module sees version ${VERSION}`;
}
