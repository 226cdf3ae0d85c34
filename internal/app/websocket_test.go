package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialWS opens a WebSocket to the app's worker at path.
func dialWS(t *testing.T, a *App, path string) *websocket.Conn {
	t.Helper()
	srv := httptest.NewServer(workerHandler{a})
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+path, nil)
	if err != nil {
		status, body := 0, ""
		if resp != nil {
			status = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
		}
		t.Fatalf("dial %s: %v (status %d: %s)", path, err, status, body)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func wsSend(t *testing.T, c *websocket.Conn, typ websocket.MessageType, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, []byte(data)); err != nil {
		t.Fatalf("write %q: %v", data, err)
	}
}

// wsExchange sends msg and checks the next message that arrives.
func wsExchange(t *testing.T, c *websocket.Conn, typ websocket.MessageType, msg, want string) {
	t.Helper()
	wsSend(t, c, typ, msg)
	if _, got := wsRead(t, c); got != want {
		t.Fatalf("sent %q, got %q, want %q", msg, got, want)
	}
}

func wsRead(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

// A worker answers an upgrade with one end of a WebSocketPair and talks
// to the client through the other.
func TestWebSocketEcho(t *testing.T) {
	a, _ := load(t, map[string]string{
		"worker.js": `
export default {
  fetch(req) {
    if (req.headers.get("upgrade") !== "websocket") return new Response("expected a websocket", { status: 426 });
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.binaryType = "arraybuffer";
    server.send("hello");
    server.addEventListener("message", (e) => {
      if (e.data === "bye") { server.close(4000, "done"); return; }
      server.send(typeof e.data === "string" ? "echo:" + e.data : e.data);
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};`,
	})
	c := dialWS(t, a, "/")
	if _, m := wsRead(t, c); m != "hello" {
		t.Fatalf("first message %q", m)
	}
	wsSend(t, c, websocket.MessageText, "one")
	if typ, m := wsRead(t, c); typ != websocket.MessageText || m != "echo:one" {
		t.Fatalf("echo: %v %q", typ, m)
	}
	wsSend(t, c, websocket.MessageBinary, "\x00\x01\x02")
	if typ, m := wsRead(t, c); typ != websocket.MessageBinary || m != "\x00\x01\x02" {
		t.Fatalf("binary echo: %v %q", typ, m)
	}
	wsSend(t, c, websocket.MessageText, "bye")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if s := websocket.CloseStatus(err); s != 4000 {
		t.Fatalf("close: %v (status %d), want 4000", err, s)
	}
}

// A Durable Object answers the upgrade through a stub's fetch; the worker
// hands its Response on, and the object hears the client.
func TestWebSocketThroughDurableObject(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  n = 0;
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => server.send(String(++this.n) + ":" + e.data));
    return new Response(null, { status: 101, webSocket: client });
  }
  count() { return this.n; }
}
export default {
  async fetch(req, env) {
    const stub = env.C.getByName("room");
    if (new URL(req.url).pathname === "/count") return new Response(String(await stub.count()));
    return stub.fetch(req);
  },
};`,
	})
	c1 := dialWS(t, a, "/")
	c2 := dialWS(t, a, "/")
	wsExchange(t, c1, websocket.MessageText, "a", "1:a")
	wsExchange(t, c2, websocket.MessageText, "b", "2:b")
	if _, body := get(t, a, "GET", "/count", ""); body != "2" {
		t.Fatalf("count: %q", body)
	}
}

// roomApp loads an app whose worker hands every request to the object
// "room" of class Counter, a DurableObject whose members are classBody
// (this.instance numbers its instances, from 1).
func roomApp(t *testing.T, classBody string, opts Options) *App {
	t.Helper()
	a, _ := loadWith(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
let instances = 0;
export class Counter extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.instance = ++instances; }
` + classBody + `}
export default { fetch(req, env) { return env.C.getByName("room").fetch(req); } };`,
	}, opts)
	return a
}

// Hibernation: the object accepts with ctx.acceptWebSocket, its handlers
// get the messages, and it can be evicted between them; the sockets, their
// tags and attachments outlive the instance.
func TestWebSocketHibernation(t *testing.T) {
	a := roomApp(t, `
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    const tag = new URL(req.url).searchParams.get("tag");
    this.ctx.acceptWebSocket(server, [tag]);
    server.serializeAttachment({ tag });
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, msg) {
    if (msg === "who") ws.send("instance " + this.instance + " tag " + ws.deserializeAttachment().tag + " tags " + this.ctx.getTags(ws).join());
    else if (msg === "count") ws.send(String(this.ctx.getWebSockets().length) + "/" + this.ctx.getWebSockets("a").length);
    else if (msg === "shout") for (const w of this.ctx.getWebSockets()) w.send("shout from " + ws.deserializeAttachment().tag);
    else ws.send("got " + (typeof msg === "string" ? msg : "bytes " + msg.byteLength));
  }
  webSocketClose(ws, code, reason, wasClean) {
    // A hibernated socket's close is answered by the object, or not at all.
    // It is still listed (as workerd lists it) until this handler is done.
    ws.close(code, "bye " + reason);
    for (const w of this.ctx.getWebSockets()) if (w !== ws) w.send("closed " + code + " " + reason + " " + wasClean);
  }
`, Options{ActorIdleTimeout: 100 * time.Millisecond})
	ca := dialWS(t, a, "/?tag=a")
	cb := dialWS(t, a, "/?tag=b")
	wsExchange(t, ca, websocket.MessageText, "who", "instance 1 tag a tags a")
	wsExchange(t, cb, websocket.MessageBinary, "xyz", "got bytes 3")
	time.Sleep(500 * time.Millisecond) // the object is evicted; the sockets stay
	wsExchange(t, cb, websocket.MessageText, "who", "instance 2 tag b tags b")
	wsExchange(t, ca, websocket.MessageText, "count", "2/1")
	wsSend(t, ca, websocket.MessageText, "shout")
	for _, c := range []*websocket.Conn{ca, cb} {
		if _, m := wsRead(t, c); m != "shout from a" {
			t.Fatalf("shout: %q", m)
		}
	}
	if err := ca.Close(4001, "leaving"); err != nil {
		t.Fatalf("closing: %v (the object's answer should complete it)", err)
	}
	if _, m := wsRead(t, cb); m != "closed 4001 leaving true" {
		t.Fatalf("close seen by the other: %q", m)
	}
}

// An object that accepted a socket without hibernation stays live while
// the socket is open: its listeners are that object's.
func TestWebSocketKeepsItsObjectLive(t *testing.T) {
	a := roomApp(t, `
  n = 0;
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", () => server.send("instance " + this.instance + " n " + ++this.n));
    return new Response(null, { status: 101, webSocket: client });
  }
`, Options{ActorIdleTimeout: 100 * time.Millisecond})
	c := dialWS(t, a, "/")
	wsExchange(t, c, websocket.MessageText, "x", "instance 1 n 1")
	time.Sleep(500 * time.Millisecond)
	wsExchange(t, c, websocket.MessageText, "x", "instance 1 n 2")
}

// The auto-response answers without waking a hibernated object, and
// records when it did.
func TestWebSocketAutoResponse(t *testing.T) {
	a := roomApp(t, `
  auto = this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, msg) {
    const auto = this.ctx.getWebSocketAutoResponse();
    const at = this.ctx.getWebSocketAutoResponseTimestamp(ws);
    ws.send("instance " + this.instance + " auto " + auto.request + "/" + auto.response + " answered " + (at instanceof Date));
  }
`, Options{ActorIdleTimeout: 100 * time.Millisecond})
	c := dialWS(t, a, "/")
	time.Sleep(400 * time.Millisecond) // evicted
	wsExchange(t, c, websocket.MessageText, "ping", "pong")
	wsExchange(t, c, websocket.MessageText, "hello", "instance 2 auto ping/pong answered true")
}

// wsOrigin starts a WebSocket server (subprotocol "chat" if asked) that
// answers each message with reply(its request, the message), or closes
// with 4002 "server bye" when reply gives nil. Its path /no refuses the
// upgrade with 403.
func wsOrigin(t *testing.T, reply func(*http.Request, []byte) []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/no" {
			http.Error(w, "no websockets here", http.StatusForbidden)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			out := reply(r, b)
			if out == nil {
				c.Close(4002, "server bye")
				return
			}
			c.Write(context.Background(), typ, out)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// new WebSocket(url) opens a connection of the worker's own.
func TestWebSocketClient(t *testing.T) {
	echo := wsOrigin(t, func(r *http.Request, msg []byte) []byte {
		if string(msg) == "bye" {
			return nil
		}
		return append([]byte("echo:"), msg...)
	})
	a, _ := load(t, map[string]string{
		"worker.js": `
export default {
  async fetch(req) {
    const url = new URL(req.url).searchParams.get("to");
    const log = [];
    const ws = new WebSocket(url, ["chat"]);
    log.push("state " + ws.readyState);
    await new Promise((resolve) => {
      ws.addEventListener("open", () => { log.push("open " + ws.readyState + " " + ws.protocol); ws.send("hi"); });
      ws.addEventListener("message", (e) => { log.push("message " + e.data); ws.send("bye"); });
      ws.addEventListener("close", (e) => { log.push("close " + e.code + " " + e.reason + " " + e.wasClean + " " + ws.readyState); resolve(); });
      ws.addEventListener("error", (e) => { log.push("error " + e.message); resolve(); });
    });
    return new Response(log.join("\n"));
  },
};`,
	})
	_, body := get(t, a, "GET", "/?to="+url.QueryEscape("ws"+strings.TrimPrefix(echo.URL, "http")), "")
	want := "state 0\nopen 1 chat\nmessage echo:hi\nclose 4002 server bye true 3"
	if body != want {
		t.Fatalf("got\n%s\nwant\n%s", body, want)
	}
}

// A hibernated socket the object closes: the client answers, and the
// object hears the close it made (webSocketClose with its own code).
func TestWebSocketHibernatedObjectCloses(t *testing.T) {
	a := roomApp(t, `
  log = []; // the object is not evicted here (the default idle timeout)
  fetch(req) {
    if (new URL(req.url).pathname === "/log") return new Response(this.log.join("\n"));
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, msg) { ws.close(4000, "bye from object"); this.log.push("closed, readyState " + ws.readyState); }
  webSocketClose(ws, code, reason, wasClean) { this.log.push("webSocketClose " + code + " " + reason + " " + wasClean + " " + ws.readyState); }
`, Options{})
	c := dialWS(t, a, "/")
	wsSend(t, c, websocket.MessageText, "close please")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4000 {
		t.Fatalf("client: %v", err)
	}
	want := "closed, readyState 2\nwebSocketClose 4000 bye from object true 3"
	for deadline := time.Now().Add(3 * time.Second); ; {
		_, body := get(t, a, "GET", "/log", "")
		if body == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log:\n%s\nwant:\n%s", body, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A worker that hits its CPU limit while serving a socket loses that
// isolate only: the client's connection drops (1006), and the next
// connection is served by a fresh isolate.
func TestWebSocketIsolateDeathDropsItsSockets(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "main": "worker.js", "compatibility_date": "2026-11-01", "limits": { "cpu_ms": 50 } }`,
		"worker.js": `
let served = 0;
export default {
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    served++;
    server.addEventListener("message", (e) => {
      if (e.data === "spin") for (;;) {}
      server.send("served " + served);
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};`,
	})
	c := dialWS(t, a, "/")
	wsExchange(t, c, websocket.MessageText, "hello", "served 1")
	wsSend(t, c, websocket.MessageText, "spin")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != -1 || ctx.Err() != nil {
		t.Fatalf("after the limit: %v, want the connection dropped without a close frame", err)
	}
	c2 := dialWS(t, a, "/")
	wsSend(t, c2, websocket.MessageText, "hello")
	if _, m := wsRead(t, c2); m != "served 1" {
		t.Fatalf("after the limit, a new connection: %q (want a fresh isolate)", m)
	}
}

// fetch() with Upgrade: websocket opens a connection to the server; a
// worker that returns the Response pipes its client to the server, and one
// that accepts the socket talks to the server itself.
func TestWebSocketThroughFetch(t *testing.T) {
	origin := wsOrigin(t, func(r *http.Request, msg []byte) []byte {
		return append([]byte("origin:"+r.Header.Get("X-Via")+":"), msg...)
	})
	a, _ := load(t, map[string]string{
		"worker.js": `
const ORIGIN = ` + strconvQuote(origin.URL) + `;
export default {
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/proxy") {
      const headers = new Headers(req.headers);
      headers.set("x-via", "proxy");
      return fetch(ORIGIN + "/ws", { headers });
    }
    if (path === "/refused") {
      const resp = await fetch(ORIGIN + "/no", { headers: { upgrade: "websocket" } });
      return new Response(resp.status + " " + (resp.webSocket === null) + " " + (await resp.text()).trim());
    }
    const resp = await fetch(ORIGIN + "/ws", { headers: { upgrade: "websocket", "x-via": "worker" } });
    const ws = resp.webSocket;
    ws.accept();
    ws.send("hi");
    const reply = await new Promise((resolve) => ws.addEventListener("message", (e) => resolve(e.data)));
    ws.close(1000, "done");
    return new Response(resp.status + " " + reply);
  },
};`,
	})
	c := dialWS(t, a, "/proxy")
	wsExchange(t, c, websocket.MessageText, "through", "origin:proxy:through")
	if _, body := get(t, a, "GET", "/talk", ""); body != "101 origin:worker:hi" {
		t.Fatalf("worker as client: %q", body)
	}
	if _, body := get(t, a, "GET", "/refused", ""); body != "403 true no websockets here" {
		t.Fatalf("an upgrade the server refuses: %q", body)
	}
}

func strconvQuote(s string) string { return `"` + s + `"` }

// A platform hands an upgrade to a tenant's dynamic worker (Worker
// Loader): the tenant's end crosses back in the stub's Response, and the
// client talks to the tenant's code.
func TestWebSocketThroughDynamicWorker(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
const TENANT = "export default { fetch(req) {" +
  " const [client, server] = Object.values(new WebSocketPair());" +
  " server.accept();" +
  " server.addEventListener('message', (e) => server.send('tenant ' + new URL(req.url).searchParams.get('t') + ': ' + e.data));" +
  " return new Response(null, { status: 101, webSocket: client }); } };";
export default {
  fetch(req, env) {
    const t = new URL(req.url).searchParams.get("t");
    const w = env.LOADER.get("tenant-" + t, () => ({ compatibilityDate: "2026-01-01", mainModule: "m.js", modules: { "m.js": TENANT } }));
    return w.getEntrypoint().fetch(req);
  },
};`,
	})
	c1 := dialWS(t, a, "/?t=1")
	c2 := dialWS(t, a, "/?t=2")
	wsExchange(t, c1, websocket.MessageText, "hi", "tenant 1: hi")
	wsExchange(t, c2, websocket.MessageText, "hey", "tenant 2: hey")
}
