// A streaming response whose chunks are produced over time by pull() and
// timers, after the Response has already been returned.
export default {
  async fetch() {
    const enc = new TextEncoder();
    let i = 0;
    const stream = new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        i++;
        controller.enqueue(enc.encode(`chunk ${i}\n`));
        if (i === 5) controller.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
};
