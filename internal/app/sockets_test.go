package app

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
)

// tcpEcho listens on loopback and answers each line with "echo: <line>";
// a line "bye" closes the connection.
func tcpEcho(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.TrimSpace(line) == "bye" {
						return
					}
					c.Write([]byte("echo: " + line))
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// connect() from cloudflare:sockets: a TCP connection of the worker's own,
// written through its writable side and read through its readable side.
func TestSocketsConnect(t *testing.T) {
	port := tcpEcho(t)
	a, _ := load(t, map[string]string{
		"worker.js": `
import { connect } from "cloudflare:sockets";
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const port = Number(url.searchParams.get("port"));
    if (url.pathname === "/refused") {
      const s = connect({ hostname: "127.0.0.1", port });
      const out = await s.opened.then(() => "opened", (e) => e.name + ": " + e.message);
      const closed = await s.closed.then(() => "closed", (e) => "closed with " + e.message);
      return new Response(out + "; " + closed);
    }
    const socket = connect("127.0.0.1:" + port);
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    const reader = socket.readable.getReader();
    const dec = new TextDecoder();
    let got = "";
    for (const line of ["one", "two"]) {
      await writer.write(new TextEncoder().encode(line + "\n"));
      while (!got.endsWith("echo: " + line + "\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        got += dec.decode(value);
      }
    }
    await writer.write(new TextEncoder().encode("bye\n"));
    const end = await reader.read();
    await socket.closed;
    return new Response(JSON.stringify({ got, endDone: end.done, remote: info.remoteAddress === "127.0.0.1:" + port, secure: socket.secureTransport }));
  },
};`,
	})
	_, body := get(t, a, "GET", "/?port="+strconv.Itoa(port), "")
	want := `{"got":"echo: one\necho: two\n","endDone":true,"remote":true,"secure":"off"}`
	if body != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
	// A port nobody listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, body = get(t, a, "GET", "/refused?port="+strconv.Itoa(closedPort), "")
	if want := "Error: proxy request failed, cannot connect to the specified address; closed with proxy request failed, cannot connect to the specified address"; body != want {
		t.Fatalf("refused: %q", body)
	}
}

// Connections are file descriptors outside the isolate's limit: an isolate
// holds at most 64 at once, and closing one frees its place.
func TestSocketsAreBounded(t *testing.T) {
	port := tcpEcho(t)
	a, _ := load(t, map[string]string{
		"worker.js": `
import { connect } from "cloudflare:sockets";
export default {
  async fetch(req) {
    const addr = "127.0.0.1:" + new URL(req.url).searchParams.get("port");
    const held = [];
    for (let i = 0; i < 64; i++) held.push(connect(addr));
    await Promise.all(held.map((s) => s.opened));
    const extra = connect(addr);
    const refused = await extra.opened.then(() => "opened", (e) => e.name + ": " + e.message);
    await held.pop().close();
    const again = await connect(addr).opened.then(() => "opened", (e) => e.name + ": " + e.message);
    for (const s of held) s.close();
    return new Response(refused + "; after a close: " + again);
  },
};`,
	})
	_, body := get(t, a, "GET", "/?port="+strconv.Itoa(port), "")
	if want := "RangeError: Too many sockets open in this worker (64); close some first.; after a close: opened"; body != want {
		t.Fatalf("got %q", body)
	}
}

// A dynamic worker loaded with globalOutbound: null has no network: no
// TCP connections either, nor WebSockets of its own.
func TestSocketsRefusedWithoutOutbound(t *testing.T) {
	port := tcpEcho(t)
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
const TENANT = "import { connect } from 'cloudflare:sockets';" +
  "export default { async fetch(req) {" +
  " const port = new URL(req.url).searchParams.get('port');" +
  " const tcp = await connect('127.0.0.1:' + port).opened.then(() => 'connected', (e) => e.message);" +
  " const ws = await new Promise((resolve) => { const w = new WebSocket('ws://127.0.0.1:' + port + '/');" +
  "   w.addEventListener('error', (e) => resolve(e.message)); w.addEventListener('open', () => resolve('open')); });" +
  " return new Response(tcp + ' | ' + ws); } };";
export default {
  fetch(req, env) {
    const w = env.LOADER.get("sealed", () => ({ compatibilityDate: "2026-01-01", mainModule: "m.js", modules: { "m.js": TENANT }, globalOutbound: null }));
    return w.getEntrypoint().fetch(req);
  },
};`,
	})
	_, body := get(t, a, "GET", "/?port="+strconv.Itoa(port), "")
	const refused = "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world."
	if want := refused + " | Uncaught Error: " + refused; body != want {
		t.Fatalf("got %q", body)
	}
}
