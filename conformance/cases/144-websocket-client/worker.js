// The client side of WebSockets inside a worker: fetch() with
// "Upgrade: websocket" through a service binding to this worker, the
// response's webSocket (accept(), send, receive, close), what a non-upgrade
// answer gives, a client that closes and one whose server closes; the
// `new WebSocket(url)` constructor's synchronous behaviour (argument
// errors, initial state, accept()) without waiting for any connection.

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return `threw ${e?.name}: ${e?.message}`;
  }
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function server(request) {
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.binaryType = "arraybuffer";
  server.send(`hello; upgrade=${request.headers.get("Upgrade")} protocol=${request.headers.get("Sec-WebSocket-Protocol")} x-h=${request.headers.get("x-h")}`);
  server.addEventListener("message", (e) => {
    if (e.data === "close") server.close(4002, "server closes");
    else server.send(typeof e.data === "string" ? `echo:${e.data}` : e.data);
  });
  const headers = {};
  const proto = request.headers.get("Sec-WebSocket-Protocol");
  if (proto) headers["Sec-WebSocket-Protocol"] = proto.split(",")[0].trim();
  return new Response(null, { status: 101, webSocket: client, headers });
}

// Waits for the next event of a socket (message or close), at most 2 s.
function recorder(ws, log, label) {
  let wake;
  const push = (line) => {
    log.push(`${label} ${line}`);
    wake?.();
    wake = undefined;
  };
  ws.addEventListener("message", (e) =>
    push(`message ${typeof e.data === "string" ? JSON.stringify(e.data) : `${Object.prototype.toString.call(e.data)} [${[...new Uint8Array(e.data)]}]`}`));
  ws.addEventListener("close", (e) => push(`close code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean} readyState=${ws.readyState}`));
  ws.addEventListener("error", (e) => push(`error ${e.message}`));
  return () => Promise.race([new Promise((r) => (wake = r)), sleep(2000)]);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/server":
        return server(request);

      case "/plain":
        return new Response("not a websocket\n");

      case "/client": {
        const log = [];
        const resp = await env.SELF.fetch("http://self/server", {
          headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "p1, p2", "x-h": "v" },
        });
        const ws = resp.webSocket;
        log.push(`status=${resp.status} ok=${resp.ok} webSocket=${ws?.constructor.name} body=${resp.body} protocolHeader=${resp.headers.get("Sec-WebSocket-Protocol")}`);
        log.push(`before accept: readyState=${ws.readyState} url=${ws.url} protocol=${JSON.stringify(ws.protocol)} extensions=${JSON.stringify(ws.extensions)}`);
        const next = recorder(ws, log, "client");
        let waiting = next();
        ws.accept();
        log.push(`after accept: readyState=${ws.readyState} protocol=${JSON.stringify(ws.protocol)}`);
        await waiting;
        waiting = next();
        ws.send("text");
        await waiting;
        waiting = next();
        ws.binaryType = "arraybuffer";
        ws.send(new Uint8Array([1, 2, 3]));
        await waiting;
        waiting = next();
        ws.close(1000, "client done");
        log.push(`after close: readyState=${ws.readyState}`);
        await waiting;
        log.push(`final readyState=${ws.readyState}`);
        log.push(`send after close: ${probe(() => ws.send("x"))}`);
        log.push(`as response again: ${probe(() => new Response(null, { status: 101, webSocket: ws }).status)}`);
        return new Response(log.join("\n") + "\n");
      }

      case "/client-server-closes": {
        const log = [];
        const resp = await env.SELF.fetch("http://self/server", { headers: { Upgrade: "websocket" } });
        const ws = resp.webSocket;
        const next = recorder(ws, log, "client");
        let waiting = next();
        ws.accept();
        await waiting;
        waiting = next();
        ws.send("close");
        await waiting;
        log.push(`readyState=${ws.readyState}`);
        return new Response(log.join("\n") + "\n");
      }

      case "/client-not-upgraded": {
        const out = {};
        const get = async (path, init) => {
          try {
            const resp = await env.SELF.fetch(`http://self${path}`, init);
            return { status: resp.status, webSocket: resp.webSocket, body: await resp.text() };
          } catch (e) {
            return `threw ${e?.name}: ${e?.message}`;
          }
        };
        out.plainWithUpgrade = await get("/plain", { headers: { Upgrade: "websocket" } });
        out.serverWithoutUpgrade = await get("/server");
        return Response.json(out);
      }

      case "/constructor": {
        const out = {};
        out.noArgs = probe(() => new WebSocket());
        out.invalidUrl = probe(() => new WebSocket("not a url"));
        out.httpScheme = probe(() => new WebSocket("http://127.0.0.1:9/"));
        out.ftpScheme = probe(() => new WebSocket("ftp://127.0.0.1:9/"));
        out.fragment = probe(() => new WebSocket("wss://127.0.0.1:9/#frag"));
        out.badProtocol = probe(() => new WebSocket("wss://127.0.0.1:9/", "bad protocol"));
        out.duplicateProtocols = probe(() => new WebSocket("wss://127.0.0.1:9/", ["a", "a"]));
        out.emptyProtocol = probe(() => new WebSocket("wss://127.0.0.1:9/", ""));
        out.valid = probe(() => {
          const ws = new WebSocket("ws://127.0.0.1:9/path?q=1", ["chat"]);
          return {
            readyState: ws.readyState,
            url: ws.url,
            protocol: ws.protocol,
            extensions: ws.extensions,
            binaryType: ws.binaryType,
            accept: probe(() => ws.accept()),
            send: probe(() => ws.send("x")),
            asResponse: probe(() => new Response(null, { status: 101, webSocket: ws }).status),
          };
        });
        return Response.json(out);
      }
    }
    return new Response("not found", { status: 404 });
  },
};
