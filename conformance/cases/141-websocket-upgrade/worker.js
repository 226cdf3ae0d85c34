// A worker that upgrades to a WebSocket itself: new WebSocketPair(),
// server.accept(), new Response(null, {status: 101, webSocket: client}).
// The server end of /echo echoes ("echo:" + text, binary echoed back as
// binary) and answers a few commands; what it saw (messages, the close and
// error events) is kept in module state, per connection (?id=), that
// /log?id= reads over plain HTTP (case.json polls it until the last
// expected line, as the close event may come after the client is done).
// Also: sends before the response is returned, response headers and
// subprotocols, a WebSocket response to a request without Upgrade, status
// 101 without a WebSocket, an end that is never accepted, returning the
// accepted end, and large messages.
const logs = new Map(); // connection id -> lines

const describe = (data) =>
  typeof data === "string"
    ? `text ${JSON.stringify(data.length > 100 ? `(${data.length} chars)` : data)}`
    : `${Object.prototype.toString.call(data)} size=${data.byteLength ?? data.size}`;

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return `threw ${e?.name}: ${e?.message}`;
  }
};

function echoServer(request, { passive = false } = {}) {
  const log = [];
  logs.set(new URL(request.url).searchParams.get("id"), log);
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  log.push(`upgrade=${request.headers.get("Upgrade")} protocol=${request.headers.get("Sec-WebSocket-Protocol")} binaryType=${server.binaryType}`);
  server.addEventListener("message", (e) => {
    log.push(`message ${describe(e.data)}`);
    if (e.data === "close") {
      server.close(4000, "done");
      log.push(`after close(): readyState=${server.readyState}`);
      log.push(`send after close(): ${probe(() => server.send("late"))}`);
    } else if (e.data === "close-nocode") {
      server.close();
    } else if (e.data === "three") {
      server.send("one");
      server.send("two");
      server.send("three");
    } else if (e.data === "state") {
      server.send(`readyState=${server.readyState} url=${server.url} protocol=${JSON.stringify(server.protocol)} extensions=${JSON.stringify(server.extensions)}`);
    } else if (e.data === "big") {
      server.send("b".repeat(2 << 20));
    } else if (typeof e.data === "string") {
      server.send("echo:" + (e.data.length > 100 ? `${e.data.length} chars` : e.data));
    } else {
      // Binary arrives as a Blob (binaryType defaults to "blob").
      if (e.data instanceof Blob) e.data.arrayBuffer().then((b) => server.send(b));
      else server.send(e.data);
    }
  });
  server.addEventListener("close", (e) => {
    log.push(`close event code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean} readyState=${server.readyState}`);
    if (passive) return;
    log.push(`send() in close handler: ${probe(() => server.send("late"))}`);
    log.push(`close() in close handler: ${probe(() => server.close(e.code === 1005 ? 1000 : e.code, "server-bye"))} readyState=${server.readyState}`);
  });
  server.addEventListener("error", (e) => {
    log.push(`error event ${e.constructor.name} message=${JSON.stringify(e.message)} readyState=${server.readyState}`);
  });
  return new Response(null, { status: 101, webSocket: client });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);

    switch (url.pathname) {
      case "/log":
        return new Response((logs.get(url.searchParams.get("id")) ?? ["no such connection"]).join("\n") + "\n");

      case "/echo":
        return echoServer(request);

      case "/echo-passive":
        // The close handler does nothing: the runtime answers the client's close.
        return echoServer(request, { passive: true });

      case "/greet": {
        // Sends and closes before the response is returned: delivered once
        // the client is connected.
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        server.send("hello before response");
        server.send(new Uint8Array([1, 2, 3]));
        server.close(1000, "greeted");
        return new Response(null, { status: 101, webSocket: client });
      }

      case "/headers": {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        server.send("hi");
        return new Response(null, { status: 101, webSocket: client, headers: { "x-custom": "yes", "Sec-WebSocket-Protocol": "chat" } });
      }

      case "/no-websocket-101":
        try {
          return new Response(null, { status: 101 });
        } catch (e) {
          return new Response(`${e.name}: ${e.message}\n`);
        }

      case "/websocket-200": {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        try {
          return new Response("x", { status: 200, webSocket: client });
        } catch (e) {
          return new Response(`${e.name}: ${e.message}\n`);
        }
      }

      case "/not-accepted": {
        // The server end is never accepted.
        const [client] = Object.values(new WebSocketPair());
        return new Response(null, { status: 101, webSocket: client });
      }

      case "/wrong-end": {
        // Returns the end that was accepted: the Response is built, and
        // fails when the runtime sends it.
        const [, server] = Object.values(new WebSocketPair());
        server.accept();
        return new Response(null, { status: 101, webSocket: server });
      }

      case "/response-props": {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        const r = new Response(null, { status: 101, webSocket: client });
        const out = {
          status: r.status,
          ok: r.ok,
          statusText: r.statusText,
          webSocketIsClient: r.webSocket === client,
          body: r.body,
          headers: [...r.headers],
          plainWebSocket: new Response("x").webSocket,
          clone: probe(() => r.clone()),
          reuse: probe(() => new Response(null, { status: 101, webSocket: client }).status),
          acceptClient: probe(() => client.accept()),
          bodyWithWebSocket: probe(() => new Response("body", { status: 101, webSocket: new WebSocketPair()[0] }).status),
        };
        server.close(1000, "x");
        return Response.json(out);
      }
    }
    return new Response("not found", { status: 404 });
  },
};
