export const ready = await Promise.resolve("top-level await resolved");
