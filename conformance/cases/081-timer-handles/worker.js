// What setTimeout/setInterval return. With this compatibility date workerd
// returns Node-style Timeout objects that convert to a numeric id; either
// the handle or its number cancels, and the two clear functions share ids.
export default {
  async fetch() {
    const fired = [];
    const t1 = setTimeout(() => fired.push("t1"), 5);
    const t2 = setTimeout(() => fired.push("t2"), 5);
    const t3 = setTimeout(() => fired.push("t3"), 5);
    const t4 = setTimeout(() => fired.push("t4"), 5);
    const iv = setInterval(() => fired.push("iv"), 5);
    clearTimeout(t1);         // the handle itself
    clearTimeout(Number(t2)); // its numeric id
    clearInterval(t3);        // the other clear function
    clearTimeout(iv);
    await new Promise((r) => setTimeout(r, 30));
    return Response.json({
      timeoutType: typeof t4,
      intervalType: typeof iv,
      numericId: typeof Number(t4) === "number" && Number.isInteger(Number(t4)) && Number(t4) > 0,
      distinctIds: new Set([t1, t2, t3, t4, iv].map(Number)).size,
      fired,
    });
  },
};
