export const add = (a, b) => a + b;
export const VERSION = "1.2.3";
