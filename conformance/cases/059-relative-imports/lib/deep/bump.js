import { counter } from "../counter.js";
export function bump() {
  counter.value++;
}
