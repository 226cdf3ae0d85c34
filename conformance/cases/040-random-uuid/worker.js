// crypto.randomUUID: a version-4 UUID string; only its format is printed.
export default {
  async fetch() {
    const uuids = Array.from({ length: 50 }, () => crypto.randomUUID());
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    return Response.json({
      type: typeof uuids[0],
      length: uuids[0].length,
      allMatchV4: uuids.every((u) => v4.test(u)),
      allDistinct: new Set(uuids).size === uuids.length,
      isFunction: typeof crypto.randomUUID,
    });
  },
};
