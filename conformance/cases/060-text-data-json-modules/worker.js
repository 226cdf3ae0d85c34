// Non-JavaScript modules: .txt and .html import as strings, .bin as an
// ArrayBuffer, .json as parsed data.
import text from "./assets/message.txt";
import html from "./assets/page.html";
import data from "./assets/bytes.bin";
import config from "./assets/config.json";

export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/page") {
      return new Response(html, { headers: { "content-type": "text/html;charset=UTF-8" } });
    }
    return Response.json({
      text,
      textType: typeof text,
      htmlLength: html.length,
      dataIsArrayBuffer: data instanceof ArrayBuffer,
      dataBytes: [...new Uint8Array(data)],
      config,
      configType: typeof config,
    });
  },
};
