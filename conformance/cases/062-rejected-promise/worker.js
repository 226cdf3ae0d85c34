// fetch returns a promise that rejects: the runtime answers 500.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/reject") {
      return Promise.reject(new TypeError("rejected on purpose"));
    }
    if (path === "/await-throw") {
      await null;
      throw new RangeError("thrown after an await");
    }
    if (path === "/not-a-response") {
      return "a string is not a Response";
    }
    if (path === "/undefined") {
      return undefined;
    }
    return new Response("fine");
  },
};
