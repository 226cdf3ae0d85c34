// The smallest worker: a string body gets text/plain;charset=UTF-8.
export default {
  fetch(request) {
    return new Response("Hello, world!");
  },
};
