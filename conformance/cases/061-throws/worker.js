// A worker that throws synchronously: the runtime answers 500.
let count = 0;
export default {
  fetch(request) {
    count++;
    if (new URL(request.url).pathname === "/after") {
      // The isolate survives the exception: state is kept.
      return new Response(`still alive, count=${count}`);
    }
    throw new Error("boom");
  },
};
