// The Durable Object WebSocket Hibernation API: ctx.acceptWebSocket(ws,
// tags), the webSocketMessage / webSocketClose / webSocketError handlers,
// ctx.getWebSockets(tag), ctx.getTags(ws), ws.serializeAttachment() and
// deserializeAttachment(), ctx.setWebSocketAutoResponse() with a
// WebSocketRequestResponsePair, getWebSocketAutoResponse(),
// getWebSocketAutoResponseTimestamp(ws), and the errors of these calls.
//
// /ws/<name>?tag=..&name=.. connects to object <name> (the harness drives
// it); the object answers "count", "count:<tag>", "tags", "attach",
// "attach-set", "timestamp", "state", "close", "throw" and echoes anything
// else. /log/<name>?name=<socket> returns what the handlers saw of that
// socket (kept in storage, so it survives the object being evicted while
// hibernating; case.json polls it until the close shows up). /probe runs the
// error cases in an object of its own; /inside opens several sockets from
// the worker itself to see tag filtering with more than one socket.
import { DurableObject } from "cloudflare:workers";

const probe = (fn) => {
  try {
    const v = fn();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return `threw ${e?.name}: ${e?.message}`;
  }
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const describe = (m) =>
  typeof m === "string"
    ? `string ${JSON.stringify(m.length > 100 ? `(${m.length} chars)` : m)}`
    : `${Object.prototype.toString.call(m)} [${[...new Uint8Array(m.slice(0, 16))]}] size=${m.byteLength}`;

export class Hib extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // What the handlers saw, per socket name (the attachment's), kept in
  // storage.
  record(name, line) {
    const log = this.ctx.storage.kv.get(`log:${name}`) ?? [];
    log.push(line);
    this.ctx.storage.kv.put(`log:${name}`, log);
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/log") return new Response((this.ctx.storage.kv.get(`log:${url.searchParams.get("name")}`) ?? ["nothing"]).join("\n") + "\n");
    if (url.pathname === "/probe") return Response.json(this.probes());
    if (request.headers.get("Upgrade") !== "websocket") return new Response("expected Upgrade: websocket\n", { status: 426 });

    const [client, server] = Object.values(new WebSocketPair());
    const tags = url.searchParams.getAll("tag");
    this.ctx.acceptWebSocket(server, tags);
    const name = url.searchParams.get("name");
    server.serializeAttachment({ name, tags, nested: { n: 1, list: [1, 2] } });
    this.record(name, `accepted ${name} tags=${JSON.stringify(tags)} readyState=${server.readyState} sockets=${this.ctx.getWebSockets().length}`);
    if (url.searchParams.has("welcome")) server.send(`welcome ${name}`);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const { name } = ws.deserializeAttachment() ?? {};
    this.record(name, `webSocketMessage ${name} ${describe(message)}`);
    if (typeof message !== "string") {
      ws.send(message);
      return;
    }
    const [cmd, arg] = message.split(":");
    switch (cmd) {
      case "count":
        ws.send(`count${arg ? ` ${arg}` : ""}: ${this.ctx.getWebSockets(arg).length}`);
        break;
      case "names":
        ws.send(`names${arg ? ` ${arg}` : ""}: ${this.ctx.getWebSockets(arg).map((w) => w.deserializeAttachment()?.name).sort().join(",")}`);
        break;
      case "tags":
        ws.send(`tags: ${JSON.stringify(this.ctx.getTags(ws))}`);
        break;
      case "attach":
        ws.send(`attach: ${JSON.stringify(ws.deserializeAttachment())}`);
        break;
      case "attach-set":
        ws.serializeAttachment({ name, updated: true, map: new Map([["k", 1]]) });
        ws.send(`attach after set: ${JSON.stringify(ws.deserializeAttachment())} map=${ws.deserializeAttachment().map instanceof Map}`);
        break;
      case "timestamp": {
        const t = this.ctx.getWebSocketAutoResponseTimestamp(ws);
        ws.send(`timestamp: ${t === null ? "null" : Object.prototype.toString.call(t)}`);
        break;
      }
      case "autoresponse": {
        const pair = this.ctx.getWebSocketAutoResponse();
        ws.send(`autoresponse: ${pair === null ? "null" : `${pair.constructor.name} request=${JSON.stringify(pair.request)} response=${JSON.stringify(pair.response)}`}`);
        break;
      }
      case "state":
        ws.send(`state: readyState=${ws.readyState} url=${ws.url} protocol=${JSON.stringify(ws.protocol)} binaryType=${ws.binaryType} inList=${this.ctx.getWebSockets().includes(ws)}`);
        break;
      case "close":
        ws.close(4000, "bye from object");
        this.record(name, `after close(): readyState=${ws.readyState} send=${probe(() => ws.send("late"))}`);
        break;
      case "throw":
        throw new Error("webSocketMessage threw");
      default:
        ws.send(`echo: ${message}`);
    }
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const { name } = ws.deserializeAttachment() ?? {};
    if (name === "passive") {
      // Does not answer the close: what does the client get?
      this.record(name, `webSocketClose ${name} code=${code} reason=${JSON.stringify(reason)} wasClean=${wasClean} readyState=${ws.readyState} (not answered)`);
      return;
    }
    this.record(
      name,
      `webSocketClose ${name} code=${code} reason=${JSON.stringify(reason)} wasClean=${wasClean} readyState=${ws.readyState} ` +
        `sockets=${this.ctx.getWebSockets().length} inList=${this.ctx.getWebSockets().includes(ws)} ` +
        `close()=${probe(() => ws.close(code === 1005 || code === 1006 ? 1000 : code, "reply"))} send()=${probe(() => ws.send("late"))}`,
    );
  }

  async webSocketError(ws, error) {
    const { name } = ws.deserializeAttachment() ?? {};
    this.record(name, `webSocketError ${name} ${error?.name}: ${error?.message}`);
  }

  probes() {
    const ctx = this.ctx;
    const out = {};
    const fresh = () => Object.values(new WebSocketPair());

    out.getWebSocketsInitially = ctx.getWebSockets().length;
    out.typeofGetWebSockets = Array.isArray(ctx.getWebSockets()) ? "array" : typeof ctx.getWebSockets();

    const [c1, s1] = fresh();
    out.acceptWebSocket = probe(() => ctx.acceptWebSocket(s1, ["tagA", "tagB"]));
    out.readyStateAfterAcceptWebSocket = s1.readyState;
    out.getWebSocketsAfter = ctx.getWebSockets().length;
    out.getWebSocketsTagA = ctx.getWebSockets("tagA").length;
    out.getWebSocketsTagC = ctx.getWebSockets("tagC").length;
    out.getTags = probe(() => ctx.getTags(s1));
    out.acceptWebSocketTwice = probe(() => ctx.acceptWebSocket(s1));
    out.acceptAfterAcceptWebSocket = probe(() => s1.accept());
    out.acceptWebSocketOnPeer = probe(() => ctx.acceptWebSocket(c1));
    out.deserializeBeforeSerialize = probe(() => s1.deserializeAttachment());
    out.serializeFunction = probe(() => s1.serializeAttachment({ f() {} }));
    out.serializeUndefined = probe(() => { s1.serializeAttachment(undefined); return String(s1.deserializeAttachment()); });
    out.serialize2048 = probe(() => { s1.serializeAttachment("x".repeat(2040)); return s1.deserializeAttachment().length; });
    out.serialize20000 = probe(() => s1.serializeAttachment("x".repeat(20000)));
    out.serializeRoundTrip = probe(() => {
      const obj = { date: new Date(0), bytes: new Uint8Array([1, 2]), big: 10n };
      s1.serializeAttachment(obj);
      const back = s1.deserializeAttachment();
      return [back === obj, back.date instanceof Date, back.bytes instanceof Uint8Array, typeof back.big];
    });
    out.sendBeforeResponse = probe(() => s1.send("queued"));

    const [, s2] = fresh();
    s2.accept();
    out.acceptWebSocketAfterAccept = probe(() => ctx.acceptWebSocket(s2));
    out.getTagsOfNonHibernatable = probe(() => ctx.getTags(s2));
    out.serializeOnNonHibernatable = probe(() => { s2.serializeAttachment({ a: 1 }); return JSON.stringify(s2.deserializeAttachment()); });

    const [, s3] = fresh();
    out.elevenTags = probe(() => ctx.acceptWebSocket(s3, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]));
    const [, s4] = fresh();
    out.tenTags = probe(() => { ctx.acceptWebSocket(s4, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]); return ctx.getTags(s4).length; });
    const [, s5] = fresh();
    out.tag257 = probe(() => ctx.acceptWebSocket(s5, ["t".repeat(257)]));
    const [, s6] = fresh();
    out.tag256 = probe(() => { ctx.acceptWebSocket(s6, ["t".repeat(256)]); return ctx.getTags(s6)[0].length; });
    const [, s7] = fresh();
    out.emptyTag = probe(() => { ctx.acceptWebSocket(s7, [""]); return ctx.getTags(s7); });
    const [, s8] = fresh();
    out.duplicateTags = probe(() => { ctx.acceptWebSocket(s8, ["d", "d"]); return ctx.getTags(s8); });
    const [, s9] = fresh();
    out.nonStringTag = probe(() => { ctx.acceptWebSocket(s9, [42]); return ctx.getTags(s9); });
    out.tagsNotArray = probe(() => ctx.acceptWebSocket(fresh()[1], "tag"));
    out.notAWebSocket = probe(() => ctx.acceptWebSocket({}));
    out.getWebSocketsD = ctx.getWebSockets("d").length;
    out.getWebSocketsAll = ctx.getWebSockets().length;

    out.autoResponse = probe(() => {
      const p = ctx.getWebSocketAutoResponse();
      return p && { ctor: p.constructor.name, request: p.request, response: p.response };
    });
    out.autoResponseTimestamp = probe(() => ctx.getWebSocketAutoResponseTimestamp(s1));
    out.autoResponseTimestampNonHibernatable = probe(() => ctx.getWebSocketAutoResponseTimestamp(s2));
    out.pairConstruct = probe(() => { const p = new WebSocketRequestResponsePair("a", "b"); return [p.request, p.response, Object.keys(p)]; });
    out.pairNoArgs = probe(() => new WebSocketRequestResponsePair());
    out.pairLong = probe(() => new WebSocketRequestResponsePair("r".repeat(2049), "b"));
    out.pairLongResponse = probe(() => new WebSocketRequestResponsePair("a", "r".repeat(2049)));
    out.pair2048 = probe(() => new WebSocketRequestResponsePair("r".repeat(2048), "r".repeat(2048)).request.length);
    out.setAutoResponseNonPair = probe(() => ctx.setWebSocketAutoResponse({ request: "a", response: "b" }));
    out.clearAutoResponse = probe(() => { ctx.setWebSocketAutoResponse(); return String(ctx.getWebSocketAutoResponse()); });
    out.restoreAutoResponse = probe(() => { ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong")); return ctx.getWebSocketAutoResponse().response; });
    out.eventTimeout = probe(() => String(ctx.getHibernatableWebSocketEventTimeout()));
    out.setEventTimeout = probe(() => { ctx.setHibernatableWebSocketEventTimeout(5000); return ctx.getHibernatableWebSocketEventTimeout(); });
    return out;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name = "main"] = url.pathname.split("/");

    if (kind === "ws") return env.HIB.getByName(name).fetch(new Request(`http://do/ws${url.search}`, request));
    if (kind === "log") return env.HIB.getByName(name).fetch(`http://do/log${url.search}`);
    if (kind === "probe") return env.HIB.getByName("probe").fetch("http://do/probe");

    if (kind === "inside") {
      // Three sockets to one object from this request, with different
      // tags; each question waits for its answer (or the close).
      const stub = env.HIB.getByName(name);
      const got = [];
      const waiting = new Map();
      const open = async (who, tags) => {
        const qs = new URLSearchParams([["name", who], ...tags.map((t) => ["tag", t])]);
        const resp = await stub.fetch(`http://do/ws?${qs}`, { headers: { Upgrade: "websocket" } });
        const ws = resp.webSocket;
        ws.accept();
        const settle = (line) => {
          got.push(`${who} ${line}`);
          waiting.get(ws)?.();
          waiting.delete(ws);
        };
        ws.addEventListener("message", (e) => settle(`got ${e.data}`));
        ws.addEventListener("close", (e) => settle(`close code=${e.code} reason=${JSON.stringify(e.reason)}`));
        return ws;
      };
      const answered = (ws) => new Promise((resolve) => waiting.set(ws, resolve));
      const ask = async (ws, msg) => {
        const p = answered(ws);
        ws.send(msg);
        await Promise.race([p, sleep(2000)]);
      };
      const leave = async (ws, code, reason) => {
        const p = answered(ws);
        ws.close(code, reason);
        await Promise.race([p, sleep(2000)]);
      };
      const x = await open("x", ["red", "all"]);
      const y = await open("y", ["blue", "all"]);
      const z = await open("z", []);
      await ask(x, "count");
      await ask(x, "count:all");
      await ask(x, "count:red");
      await ask(x, "count:none");
      await ask(y, "names");
      await ask(y, "names:all");
      await ask(z, "tags");
      await ask(z, "ping");
      await ask(z, "timestamp");
      await ask(y, "timestamp");
      await leave(y, 1000, "y leaves");
      await ask(x, "count");
      await ask(x, "close");
      await ask(z, "count");
      await leave(z, 1001, "z leaves");
      return Response.json({ got, readyStates: [x.readyState, y.readyState, z.readyState] });
    }

    return new Response("not found", { status: 404 });
  },
};
