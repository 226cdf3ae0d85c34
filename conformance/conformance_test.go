// Package conformance runs the same workers on Isola and on the reference
// runtime and compares their HTTP answers. The reference is Cloudflare's
// workerd, except for cases whose wrangler.jsonc has a "workflows" section:
// workerd alone has no Workflows engine, so those run on `wrangler dev`
// (its local Workflows engine, on workerd).
//
// Each case lives in cases/<NNN-short-name>/: worker.js (plus any modules it
// imports), an optional wrangler.jsonc, and case.json listing the requests to
// send and which parts of the responses must match. Cases print what they
// compute into the response body, so a mismatch shows up as a readable diff.
//
// A request with "until" is polled: it is sent again to each runtime on its
// own, every 50 ms, until the body contains that string or "untilTimeoutMs"
// (default 20000) passes, and the last answers are compared. Workflow cases
// use it to wait for an instance's status.
//
// A request with "websocket" opens a WebSocket to its path (a GET with its
// headers and the Upgrade handshake; "protocols" offers subprotocols) and
// runs a script, "send": a list of steps, each one of
//
//	{"text": "hi"}                 send a text message
//	{"binaryBase64": "AQID"}       send a binary message ("repeat": N sends
//	                               the payload N times over, in one message)
//	{"receive": N}                 read N messages, stopping early if the
//	                               connection closes
//	{"waitMs": N}                  sleep
//	{"close": {"code": 1000, "reason": "bye"}}
//	                               send a close frame (no code: an empty
//	                               one), then read until the server's close
//	                               frame
//
// then reads "receive" more messages. Each wait for a message or a close
// gives up after "timeoutMs" (default 3000) and records a timeout line. A
// script that has not closed ends by dropping the TCP connection, without a
// close handshake. The body compared is the transcript, one line per event:
//
//	status 101                     the handshake's status
//	protocol: chat                 the subprotocol the server chose, if any
//	send text: hi                  (and "send binary: <base64>",
//	                               "send close 1000 bye", "wait 100ms")
//	recv text: echo:hi             a message received (binary: base64; text
//	                               with control characters is Go-quoted;
//	                               over 1000 bytes, its size and a hash)
//	closed 4000 done               the close frame the server sent: code and
//	                               reason (1005 when it had no code)
//	connection lost without a close frame
//	timeout: no message within 3s
//	send failed                    the message could not be written (the
//	                               server closed or stopped reading)
//
// When the server does not upgrade, the transcript is its status and body
// ("status 426", "body: ..."); status and headers are the handshake
// response's either way. A websocket request cannot have a body or "until".
//
// Environment:
//
//	CONFORMANCE_ONLY_REFERENCE=1  run only the reference and log its
//	                              responses (use with -v; handy while
//	                              writing cases)
//	CONFORMANCE_RUN=<regexp>      run only the cases whose directory matches
//	                              (-run 'TestConformance/<regexp>' works too)
//
// workerd and wrangler come from npm: `npm ci --prefix tools/reference`.
// Without them the suite fails rather than skipping, so a missing install is
// never mistaken for a pass.
package conformance

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/config"
	devserver "github.com/isola-run/isola/internal/server"
	"github.com/isola-run/isola/internal/testutil/reference"
)

// caseSpec is the content of a case.json.
type caseSpec struct {
	Requests []requestSpec `json:"requests"`
	// Compare lists what must match: "status", "body", "header:<name>", or
	// "headers" (every header except transport ones). Default: status, body.
	Compare []string `json:"compare"`
	// Equivalent lists deliberate differences in Isola's bodies: before
	// comparing (and before checking "until"), each "isola" string in
	// Isola's body is replaced by its "reference" string. "why" says why.
	Equivalent []equivalence `json:"equivalent"`
	// Differs explains why Isola deliberately differs from the reference in what
	// Compare leaves out (error pages, for example). Informational.
	Differs string `json:"differs"`
	// Npm lists the npm packages the case imports; each runtime's copy of
	// the case gets them linked from tools/reference, as `npm install`
	// would give them.
	Npm []string `json:"npm"`
}

type equivalence struct {
	Isola     string `json:"isola"`
	Reference string `json:"reference"`
	Why       string `json:"why"`
}

// normalize applies the case's equivalences to one of Isola's bodies.
func (c *caseSpec) normalize(body []byte) []byte {
	for _, e := range c.Equivalent {
		body = bytes.ReplaceAll(body, []byte(e.Isola), []byte(e.Reference))
	}
	return body
}

type requestSpec struct {
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	BodyBase64 string            `json:"bodyBase64"` // for binary uploads
	// Repeat sends the body this many times over, so large uploads need
	// not bloat case.json.
	Repeat int `json:"repeat"`
	// Compare overrides the case's Compare for this request.
	Compare []string `json:"compare"`
	// Status is the status the reference must answer. When absent the
	// reference must answer below 500: a case that is not about errors but
	// makes workerd fail is a broken case, not a conformance result.
	Status int `json:"status"`
	// Until makes the request a poll: it is re-sent to each runtime
	// independently every 50 ms until the body contains Until, for at most
	// UntilTimeoutMs (default 20000), and the last responses are compared.
	// The reference must reach it; Isola's last answer is compared as is.
	Until          string `json:"until"`
	UntilTimeoutMs int    `json:"untilTimeoutMs"`
	// WebSocket makes the request a WebSocket handshake followed by a
	// script; the body compared is the transcript (see websocket_test.go).
	WebSocket *wsSpec `json:"websocket"`
}

// pollInterval is how often a request with "until" is re-sent.
const pollInterval = 50 * time.Millisecond

// defaultUntilTimeout bounds a poll without "untilTimeoutMs".
const defaultUntilTimeout = 20 * time.Second

// response is what one runtime answered to one request.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error // transport error, if the request failed altogether
	// For a request with "until": how many times it was sent, how long the
	// poll took, and whether the body ever contained the string.
	Polls   int
	Elapsed time.Duration
	Reached bool
}

// maxParallel bounds how many cases run at once: each case runs two
// runtimes, and the target machine has 2 cores.
const maxParallel = 2

var (
	workerdErr   error // why workerd cannot run, if it cannot
	onlyRef      = os.Getenv("CONFORMANCE_ONLY_REFERENCE") == "1"
	caseSelector = os.Getenv("CONFORMANCE_RUN")
)

func TestMain(m *testing.M) {
	_, workerdErr = reference.Workerd()
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	if workerdErr != nil {
		t.Fatalf("the reference runtime is missing: %v", workerdErr)
	}
	names, err := caseNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no cases selected (CONFORMANCE_RUN=%q)", caseSelector)
	}
	sem := make(chan struct{}, maxParallel)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			runCase(t, name)
		})
	}
}

// caseNames lists the case directories, filtered by CONFORMANCE_RUN.
func caseNames() ([]string, error) {
	entries, err := os.ReadDir("cases")
	if err != nil {
		return nil, err
	}
	var sel *regexp.Regexp
	if caseSelector != "" {
		if sel, err = regexp.Compile(caseSelector); err != nil {
			return nil, fmt.Errorf("CONFORMANCE_RUN: %w", err)
		}
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && (sel == nil || sel.MatchString(e.Name())) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func loadCase(name string) (*caseSpec, error) {
	data, err := os.ReadFile(filepath.Join("cases", name, "case.json"))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a typo in a field name must not silently weaken a case
	var c caseSpec
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("case.json: %w", err)
	}
	if len(c.Requests) == 0 {
		return nil, errors.New("case.json: no requests")
	}
	if len(c.Compare) == 0 {
		c.Compare = []string{"status", "body"}
	}
	for i, rs := range c.Requests {
		if rs.WebSocket == nil {
			continue
		}
		if (rs.Method != "" && rs.Method != "GET") || rs.Body != "" || rs.BodyBase64 != "" || rs.Until != "" {
			return nil, fmt.Errorf("case.json: request #%d: a websocket request is a GET without body or until", i+1)
		}
		if err := rs.WebSocket.validate(); err != nil {
			return nil, fmt.Errorf("case.json: request #%d: %w", i+1, err)
		}
	}
	return &c, nil
}

// usesWorkflows reports whether the wrangler.jsonc in dir has a non-empty
// "workflows" section, which makes wrangler dev the reference.
func usesWorkflows(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, "wrangler.jsonc"))
	if err != nil {
		return false, err
	}
	clean, err := config.StripJSONC(data)
	if err != nil {
		return false, err
	}
	var w struct {
		Workflows []json.RawMessage `json:"workflows"`
	}
	if err := json.Unmarshal(clean, &w); err != nil {
		return false, fmt.Errorf("wrangler.jsonc: %w", err)
	}
	return len(w.Workflows) > 0, nil
}

// prepareWorker copies the case into a temporary directory that both
// runtimes serve, adding the default wrangler.jsonc when the case has none
// (the repository itself is never written to).
func prepareWorker(t *testing.T, name string, npm []string) string {
	src := filepath.Join("cases", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if rel == "case.json" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := reference.LinkPackages(dst, npm...); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "wrangler.jsonc")); os.IsNotExist(err) {
		w := fmt.Sprintf(`{"name": %q, "main": "worker.js", "compatibility_date": "2026-11-01"}`+"\n", name)
		if err := os.WriteFile(filepath.Join(dst, "wrangler.jsonc"), []byte(w), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// server is a running runtime under test.
type server struct {
	url    string
	output func() string // its log so far, shown on failure
	stop   func()
}

func runCase(t *testing.T, name string) {
	spec, err := loadCase(name)
	if err != nil {
		t.Fatal(err)
	}
	dir := prepareWorker(t, name, spec.Npm)
	workflows, err := usesWorkflows(dir)
	if err != nil {
		t.Fatal(err)
	}
	refName, refDir := "workerd", dir
	if workflows {
		refName = "wrangler"
		if _, _, err := reference.WranglerCLI(); err != nil {
			t.Fatalf("the reference runtime for Workflows is missing: %v", err)
		}
		// wrangler writes its build output into the project: give it a
		// copy of its own, so Isola's directory stays as the case wrote it.
		refDir = prepareWorker(t, name, spec.Npm)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Start both runtimes at once: their start-ups overlap.
	var ref, isola *server
	var refErr, isolaErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p, err := startReference(ctx, refDir, workflows)
		if err != nil {
			refErr = err
			return
		}
		ref = &server{url: p.URL, output: p.Output, stop: p.Stop}
	}()
	if !onlyRef {
		wg.Add(1)
		go func() {
			defer wg.Done()
			isola, isolaErr = startIsola(dir, t.TempDir())
		}()
	}
	wg.Wait()
	if ref != nil {
		defer ref.stop()
	}
	if isola != nil {
		defer isola.stop()
	}
	if refErr != nil {
		t.Fatalf("starting %s: %v", refName, refErr)
	}
	if isolaErr != nil {
		t.Fatalf("starting isola: %v", isolaErr)
	}
	if spec.Differs != "" {
		t.Logf("differs deliberately: %s", spec.Differs)
	}

	refClient, isolaClient := newClient(), newClient()
	defer refClient.CloseIdleConnections()
	defer isolaClient.CloseIdleConnections()
	var log strings.Builder // reference-only mode prints everything at the end
	for i, rs := range spec.Requests {
		label := fmt.Sprintf("request #%d %s %s", i+1, methodOf(rs), rs.Path)
		if rs.WebSocket != nil {
			label = fmt.Sprintf("request #%d WEBSOCKET %s", i+1, rs.Path)
		}
		var want, got response
		switch {
		case onlyRef:
			want = sendRequest(ctx, refClient, ref.url, rs, nil)
		case rs.Until != "":
			// Each runtime polls on its own, at the same time.
			var pwg sync.WaitGroup
			pwg.Add(1)
			go func() {
				defer pwg.Done()
				got = sendRequest(ctx, isolaClient, isola.url, rs, spec.normalize)
			}()
			want = sendRequest(ctx, refClient, ref.url, rs, nil)
			pwg.Wait()
		default:
			want = sendRequest(ctx, refClient, ref.url, rs, nil)
			got = sendRequest(ctx, isolaClient, isola.url, rs, spec.normalize)
		}
		if onlyRef {
			fmt.Fprintf(&log, "--- %s%s\n%s\n", label, pollNote(rs, want), formatResponse(want))
		}
		if msg := checkReference(rs, want, refName); msg != "" {
			t.Errorf("%s: %s\n%s\n%s output:\n%s", label, msg, formatResponse(want), refName, tail(ref.output()))
		}
		if onlyRef {
			continue
		}
		compare := spec.Compare
		if len(rs.Compare) > 0 {
			compare = rs.Compare
		}
		if diffs := compareResponses(compare, want, got); len(diffs) > 0 {
			hint := ""
			if slices.Contains(diffs, "body") {
				hint = "\n" + bodyDiff(want.Body, got.Body)
			}
			t.Errorf("%s %s: Isola differs from %s in %s%s\n%s\n=== %s%s:\n%s\n=== isola%s:\n%s\n=== isola output:\n%s",
				name, label, refName, strings.Join(diffs, ", "), hint, describeRequest(rs),
				refName, pollNote(rs, want), formatResponse(want), pollNote(rs, got), formatResponse(got), tail(isola.output()))
		}
	}
	if onlyRef {
		t.Logf("%s responses for %s:\n%s", refName, name, log.String())
	}
}

// sendRequest sends rs once, or for a request with "until" polls until the
// body contains it or the poll times out, and returns the last response.
func sendRequest(ctx context.Context, c *http.Client, base string, rs requestSpec, normalize func([]byte) []byte) response {
	sendOnce := func() response {
		r := send(ctx, c, base, rs)
		if normalize != nil && r.Err == nil {
			r.Body = normalize(r.Body)
		}
		return r
	}
	if rs.Until == "" {
		return sendOnce()
	}
	timeout := defaultUntilTimeout
	if rs.UntilTimeoutMs > 0 {
		timeout = time.Duration(rs.UntilTimeoutMs) * time.Millisecond
	}
	start := time.Now()
	deadline := start.Add(timeout)
	for polls := 1; ; polls++ {
		r := sendOnce()
		r.Polls, r.Elapsed = polls, time.Since(start)
		if r.Err == nil && bytes.Contains(r.Body, []byte(rs.Until)) {
			r.Reached = true
			return r
		}
		if ctx.Err() != nil || time.Now().Add(pollInterval).After(deadline) {
			return r
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollInterval):
		}
	}
}

// pollNote describes how a polled request ended, for logs.
func pollNote(rs requestSpec, r response) string {
	if rs.Until == "" {
		return ""
	}
	if r.Reached {
		return fmt.Sprintf(" (until %q: reached after %d polls, %s)", rs.Until, r.Polls, r.Elapsed.Round(time.Millisecond))
	}
	return fmt.Sprintf(" (until %q: NOT reached after %d polls, %s)", rs.Until, r.Polls, r.Elapsed.Round(time.Millisecond))
}

// checkReference reports a reference answer that makes the case useless.
func checkReference(rs requestSpec, r response, refName string) string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%s request failed: %v", refName, r.Err)
	case rs.Until != "" && !r.Reached:
		return fmt.Sprintf("%s never answered a body containing %q (%d polls in %s): the case is broken",
			refName, rs.Until, r.Polls, r.Elapsed.Round(time.Millisecond))
	case rs.Status != 0 && r.Status != rs.Status:
		return fmt.Sprintf("%s answered %d, the case expects %d", refName, r.Status, rs.Status)
	case rs.Status == 0 && r.Status >= 500:
		return fmt.Sprintf("%s answered %d: the case is broken (set \"status\" if the error is the point)", refName, r.Status)
	}
	return ""
}

// startIsola serves the worker in dir from this process, the way `isola dev`
// does, keeping its durable state in stateDir so that no case writes into
// the repository or sees another run's objects.
func startIsola(dir, stateDir string) (*server, error) {
	out := &lockedBuffer{}
	logger := log.New(out, "", log.Ltime)
	a, err := app.LoadWith(dir, logger, app.Options{StateDir: stateDir})
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out.String())
	}
	srv := httptest.NewUnstartedServer(&devserver.Dev{Worker: a.Worker, Log: logger})
	srv.Config.ErrorLog = logger
	srv.Start()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Close()
			a.Close()
		})
	}
	return &server{url: srv.URL, output: out.String, stop: stop}, nil
}

func newClient() *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		// Redirects are responses under test, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// No Accept-Encoding added behind the case's back.
		Transport: &http.Transport{DisableCompression: true},
	}
}

func methodOf(rs requestSpec) string {
	if rs.Method == "" {
		return "GET"
	}
	return rs.Method
}

func send(ctx context.Context, c *http.Client, base string, rs requestSpec) response {
	if rs.WebSocket != nil {
		return sendWebSocket(ctx, base, rs)
	}
	var body io.Reader
	payload := []byte(rs.Body)
	if rs.BodyBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(rs.BodyBase64)
		if err != nil {
			return response{Err: fmt.Errorf("bodyBase64: %w", err)}
		}
		payload = b
	}
	if rs.Repeat > 1 {
		payload = bytes.Repeat(payload, rs.Repeat)
	}
	if len(payload) > 0 {
		body = bytes.NewReader(payload)
	}
	path := rs.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, methodOf(rs), base+path, body)
	if err != nil {
		return response{Err: err}
	}
	for k, v := range rs.Headers {
		if strings.EqualFold(k, "host") {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b, Err: err}
}

// transportHeaders differ legitimately between two HTTP servers (framing,
// time, server name) and are left out of "headers". A WebSocket
// handshake's Sec-WebSocket-Accept is made from the client's random key.
var transportHeaders = map[string]bool{
	"Date": true, "Server": true, "Content-Length": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Sec-Websocket-Accept": true,
}

// headerValue flattens a header for comparison. Servers may send a
// repeated header as several lines or one comma-joined line, which HTTP
// treats alike; Set-Cookie is the exception, as it cannot be joined.
func headerValue(h http.Header, name string) string {
	vals := h.Values(name)
	if strings.EqualFold(name, "set-cookie") {
		return strings.Join(vals, "\n")
	}
	return strings.Join(vals, ", ")
}

// compareResponses returns the names of the compared parts that differ.
func compareResponses(compare []string, want, got response) []string {
	if want.Err != nil || got.Err != nil {
		if (want.Err == nil) != (got.Err == nil) {
			return []string{"transport error"}
		}
		return nil
	}
	var diffs []string
	for _, c := range compare {
		switch {
		case c == "status":
			if want.Status != got.Status {
				diffs = append(diffs, "status")
			}
		case c == "body":
			if !bytes.Equal(want.Body, got.Body) {
				diffs = append(diffs, "body")
			}
		case strings.HasPrefix(c, "header:"):
			name := strings.TrimPrefix(c, "header:")
			if headerValue(want.Header, name) != headerValue(got.Header, name) {
				diffs = append(diffs, c)
			}
		case c == "headers":
			names := map[string]bool{}
			for k := range want.Header {
				names[k] = true
			}
			for k := range got.Header {
				names[k] = true
			}
			for k := range names {
				if !transportHeaders[k] && headerValue(want.Header, k) != headerValue(got.Header, k) {
					diffs = append(diffs, "header:"+strings.ToLower(k))
				}
			}
		default:
			diffs = append(diffs, fmt.Sprintf("unknown compare item %q", c))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// bodyDiff points at the first differing byte, with a little context from
// each side: most bodies are one-line JSON, where a plain dump hides the
// difference.
func bodyDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-60)
	snippet := func(b []byte) string {
		return fmt.Sprintf("%q", b[min(from, len(b)):min(i+60, len(b))])
	}
	return fmt.Sprintf("body: reference %d bytes, isola %d bytes, first difference at byte %d:\n  reference: ...%s\n  isola:     ...%s",
		len(want), len(got), i, snippet(want), snippet(got))
}

func describeRequest(rs requestSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== request: %s %s", methodOf(rs), rs.Path)
	keys := make([]string, 0, len(rs.Headers))
	for k := range rs.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n%s: %s", k, rs.Headers[k])
	}
	if rs.Body != "" {
		fmt.Fprintf(&b, "\n\n%s", truncate(rs.Body))
	} else if rs.BodyBase64 != "" {
		fmt.Fprintf(&b, "\n\n(base64) %s", truncate(rs.BodyBase64))
	}
	if rs.Repeat > 1 {
		fmt.Fprintf(&b, "\n(body repeated %d times)", rs.Repeat)
	}
	if rs.WebSocket != nil {
		b.WriteString(describeWebSocket(rs.WebSocket))
	}
	return b.String()
}

func formatResponse(r response) string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", r.Status)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		if k != "Date" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	if utf8.Valid(r.Body) {
		b.WriteString(truncate(string(r.Body)))
	} else {
		fmt.Fprintf(&b, "(binary, %d bytes) %q", len(r.Body), truncate(string(r.Body)))
	}
	return b.String()
}

func truncate(s string) string {
	const max = 4000
	if len(s) > max {
		return s[:max] + fmt.Sprintf("... (%d bytes in all)", len(s))
	}
	return s
}

// tail keeps the end of a runtime's log, where the relevant error usually is.
func tail(s string) string {
	const max = 3000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	if s == "" {
		return "(nothing)"
	}
	return s
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startReference starts the reference runtime on a free port, and again on
// another if that one was taken before the runtime bound it: FreePort can
// only say the port was free a moment ago, and the suite runs beside other
// packages' tests.
func startReference(ctx context.Context, dir string, workflows bool) (*reference.Process, error) {
	for attempt := 1; ; attempt++ {
		var p *reference.Process
		var err error
		if workflows {
			p, err = reference.StartWrangler(ctx, dir, reference.FreePort(), reference.WranglerOptions{})
		} else {
			p, err = reference.StartWorkerd(ctx, dir, reference.FreePort())
		}
		if err == nil || attempt == 3 || !strings.Contains(strings.ToLower(err.Error()), "address already in use") {
			return p, err
		}
	}
}
