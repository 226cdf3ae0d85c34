// Package server is Isola's HTTP front: it turns incoming HTTP requests into
// worker invocations and reports each one on the log.
package server

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/isola-run/isola/internal/runtime"
)

// Dev serves one worker the way `wrangler dev` does: errors are shown in the
// response body, each request is logged with its status and duration.
type Dev struct {
	Worker *runtime.Worker
	Log    *log.Logger
}

func (d *Dev) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	err := d.Worker.ServeHTTP(sw, r, runtime.ServeOptions{DevErrors: true})
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	line := fmt.Sprintf("%s %s %d %s (%s)", r.Method, r.URL.RequestURI(), status, http.StatusText(status), time.Since(start).Round(time.Microsecond))
	if err != nil {
		line += " — " + firstLine(err.Error())
	}
	d.Log.Print(line)
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// statusWriter remembers the status for the log line and passes flushes on,
// so streamed bodies reach the client as they are written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection over (a WebSocket upgrade, whose 101 the
// taker writes itself) and logs the request as switching protocols.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err == nil && s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Listen binds addr and serves h until the listener fails. ready, if set, is
// called with the bound address once connections are accepted.
func Listen(addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	return srv.Serve(ln)
}
