// WebSockets served by a Durable Object (without hibernation): the worker
// forwards the upgrade request with stub.fetch(request) and returns the
// object's 101 response as is (/room/<name>) or re-wrapped in a new
// Response (/proxy/<name>). The object accepts with ws.accept(), echoes
// with a message count kept in memory across connections, and broadcasts
// to every open socket. /stats reads what it saw over RPC. /inside opens
// two WebSockets to the object from the worker itself (stub.fetch with
// Upgrade: websocket, resp.webSocket.accept()) to see a broadcast reach
// both, and what a stub.fetch upgrade without the header gives. Connections
// are numbered per object (#1, #2, ...) in the order they open.
import { DurableObject } from "cloudflare:workers";

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return `threw ${e?.name}: ${e?.message}`;
  }
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Room extends DurableObject {
  sockets = new Set();
  opened = 0;
  count = 0;
  log = [];

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/plain")) {
      return new Response(`plain response, upgrade header=${request.headers.get("Upgrade")}\n`);
    }
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected Upgrade: websocket\n", { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    const id = ++this.opened;
    this.sockets.add(server);
    this.log.push(`open #${id} (open sockets: ${this.sockets.size}) path=${url.pathname}`);
    server.addEventListener("message", (e) => {
      this.count++;
      const data = typeof e.data === "string" ? e.data : `[binary]`;
      if (data.startsWith("broadcast:")) {
        for (const s of this.sockets) s.send(`broadcast from #${id}: ${data.slice(10)}`);
      } else if (data === "count") {
        server.send(`open sockets: ${this.sockets.size}, messages: ${this.count}`);
      } else if (data === "close") {
        server.close(4001, "closed by object");
      } else {
        server.send(`#${this.count} from #${id}: ${data}`);
      }
    });
    server.addEventListener("close", (e) => {
      this.sockets.delete(server);
      this.log.push(`close #${id} code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean}`);
    });
    server.addEventListener("error", (e) => this.log.push(`error #${id} ${e.message}`));
    return new Response(null, { status: 101, webSocket: client, headers: { "x-room": url.pathname } });
  }

  // The whole log so far (reading does not clear it, so case.json can poll
  // until the close of the latest connection shows up).
  stats() {
    return { sockets: this.sockets.size, messages: this.count, log: this.log };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name] = url.pathname.split("/");
    const stub = env.ROOM.getByName(name ?? "default");

    if (kind === "room") return stub.fetch(request);

    if (kind === "proxy") {
      const resp = await stub.fetch(request);
      const out = new Response(null, { status: resp.status, webSocket: resp.webSocket, headers: { "x-proxied": "yes" } });
      return out;
    }

    if (kind === "stats") return Response.json(await stub.stats());

    if (kind === "inside") {
      const out = {};
      const received = { a: [], b: [] };
      // Each step waits for the event it causes on one socket (at most 2 s).
      const waiting = { a: null, b: null };
      const until = (label) => Promise.race([new Promise((r) => (waiting[label] = r)), sleep(2000)]);
      const open = async (label) => {
        const resp = await stub.fetch("http://room/inside", { headers: { Upgrade: "websocket" } });
        out[`${label}Response`] = { status: resp.status, hasWebSocket: resp.webSocket !== null, room: resp.headers.get("x-room"), readyState: resp.webSocket?.readyState };
        const ws = resp.webSocket;
        out[`${label}SendBeforeAccept`] = await probe(() => ws.send("x"));
        ws.accept();
        const push = (line) => {
          received[label].push(line);
          waiting[label]?.();
          waiting[label] = null;
        };
        ws.addEventListener("message", (e) => push(`got ${e.data}`));
        ws.addEventListener("close", (e) => push(`close code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean}`));
        return ws;
      };
      const a = await open("a");
      const b = await open("b");
      let wait = until("a");
      a.send("hello");
      await wait;
      wait = Promise.all([until("a"), until("b")]);
      a.send("broadcast:to everyone");
      await wait;
      wait = until("b");
      b.send("count");
      await wait;
      wait = until("b");
      b.send("close");
      await wait;
      wait = until("a");
      a.close(1000, "a done");
      await wait;
      out.received = received;
      out.readyStates = { a: a.readyState, b: b.readyState };
      out.withoutUpgradeHeader = await probe(async () => {
        const r = await stub.fetch("http://room/inside");
        return { status: r.status, webSocket: r.webSocket, body: await r.text() };
      });
      out.upgradeToPlainResponse = await probe(async () => {
        const r = await stub.fetch("http://room/plain", { headers: { Upgrade: "websocket" } });
        return { status: r.status, webSocket: r.webSocket, body: await r.text() };
      });
      return Response.json(out);
    }

    return new Response("not found", { status: 404 });
  },
};
