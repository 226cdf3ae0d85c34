package runtime

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
)

// startTls(): a connection opened in the clear (secureTransport
// "starttls") goes on over TLS after the protocol says so, as a database's
// does.
func TestSocketStartTls(t *testing.T) {
	cert := httptest.NewTLSServer(nil) // for its certificate (127.0.0.1)
	defer cert.Close()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Certificate())
	socketRootCAs = pool
	defer func() { socketRootCAs = nil }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if line, _ := r.ReadString('\n'); line != "STARTTLS\n" {
			c.Write([]byte("expected STARTTLS\n"))
			return
		}
		c.Write([]byte("OK\n"))
		tc := tls.Server(c, cert.TLS)
		tr := bufio.NewReader(tc)
		line, _ := tr.ReadString('\n')
		tc.Write([]byte("secret echo: " + line))
		tc.Close()
	}()
	s := compileWorker(t, "starttls", `
import { connect } from "cloudflare:sockets";
export default { async fetch() {
  const plain = connect({ hostname: "127.0.0.1", port: `+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)+` }, { secureTransport: "starttls" });
  const w = plain.writable.getWriter();
  await w.write(new TextEncoder().encode("STARTTLS\n"));
  const r = plain.readable.getReader();
  const ok = new TextDecoder().decode((await r.read()).value);
  w.releaseLock(); r.releaseLock();
  const secure = plain.startTls();
  const again = (() => { try { plain.startTls(); return "twice"; } catch (e) { return e.message; } })();
  await secure.opened;
  const sw = secure.writable.getWriter();
  await sw.write(new TextEncoder().encode("hello\n"));
  let got = "";
  for (const sr = secure.readable.getReader();;) {
    const { value, done } = await sr.read();
    if (done) break;
    got += new TextDecoder().decode(value);
  }
  await plain.closed;
  return new Response([ok.trim(), got.trim(), plain.upgraded, secure.secureTransport, again].join(" | "));
} };`)
	iso, err := NewIsolate(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer iso.Close()
	code, body := serveOnce(t, iso, "GET", "")
	if want := "OK | secret echo: hello | true | on | Cannot call startTls() more than once."; code != 200 || body != want {
		t.Fatalf("%d %q\nwant %q", code, body, want)
	}
}
