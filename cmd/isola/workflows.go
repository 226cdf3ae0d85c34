package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const workflowsUsage = `Usage:
  isola workflows                                        the workflows and how many instances are in each status
  isola workflows list [--workflow W] [--status S] [--limit N]
                                                         list instances, newest first (at most 50)
  isola workflows status <W> <id>                        an instance, its step history and pending events
  isola workflows create <W> [params-json] [--id ID]     create an instance (params default to {})
  isola workflows pause <W> <id>                         pause at the next step boundary
  isola workflows resume <W> <id>                        let a paused instance go on
  isola workflows terminate <W> <id>                     end an instance for good
  isola workflows restart <W> <id>                       run an instance again from the start
  isola workflows send-event <W> <id> <type> [payload-json]
                                                         send an event to an instance

These commands talk to a running isola dev, whose admin API listens on the
port after the worker's (127.0.0.1:8788 for the default 8787).
  --admin URL   the admin API (default: $ISOLA_ADMIN, else http://127.0.0.1:8788)
  --json        print the API's JSON instead of a table
Statuses: queued, running, paused, waiting, waitingForPause, complete, errored, terminated.
Values are JSON; the API shows dates as ISO strings, bigints as strings, Maps
as objects, binary data as {"$binary": "<base64>"}.
`

const defaultAdminURL = "http://127.0.0.1:8788"

// workflowsCmd runs `isola workflows ...`.
func workflowsCmd(args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "help":
		fmt.Fprint(stdout, workflowsUsage)
		return nil
	case "", "list", "status", "create", "pause", "resume", "terminate", "restart", "send-event":
	default:
		fmt.Fprint(stderr, workflowsUsage)
		return fmt.Errorf("workflows: unknown command %q", sub)
	}
	name := "workflows"
	if sub != "" {
		name += " " + sub
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, workflowsUsage) }
	def := os.Getenv("ISOLA_ADMIN")
	if def == "" {
		def = defaultAdminURL
	}
	adminURL := fs.String("admin", def, "the admin API of a running isola dev")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	var workflow, status, id *string
	var limit *int
	switch sub {
	case "list":
		workflow = fs.String("workflow", "", "only this workflow's instances")
		status = fs.String("status", "", "only instances in this status")
		limit = fs.Int("limit", 50, "at most this many instances, the newest")
	case "create":
		id = fs.String("id", "", "the instance's id (default: a random UUID)")
	}
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	c, err := newAdminClient(*adminURL)
	if err != nil {
		return err
	}
	out := &wfOutput{w: stdout, json: *asJSON}
	switch sub {
	case "":
		if err := wantArgs("workflows", pos, 0, ""); err != nil {
			return err
		}
		return wfSummary(c, out)
	case "list":
		if err := wantArgs(name, pos, 0, ""); err != nil {
			return err
		}
		if *limit < 1 {
			return fmt.Errorf("--limit %d: expected a positive number of instances", *limit)
		}
		return wfList(c, out, *workflow, *status, *limit)
	case "status":
		if err := wantArgs(name, pos, 2, "<W> <id>"); err != nil {
			return err
		}
		return wfStatus(c, out, pos[0], pos[1])
	case "create":
		if len(pos) < 1 || len(pos) > 2 {
			return fmt.Errorf("%s takes <W> [params-json], got %d arguments: %q", name, len(pos), pos)
		}
		body := map[string]any{}
		if *id != "" {
			body["id"] = *id
		}
		if len(pos) == 2 {
			p, err := jsonArg("params-json", pos[1])
			if err != nil {
				return err
			}
			body["params"] = p
		}
		var res struct {
			ID string `json:"id"`
		}
		raw, err := c.call("POST", instancesPath(pos[0]), body, &res)
		if err != nil {
			return err
		}
		return out.done(raw, "created %s/%s", pos[0], res.ID)
	case "pause", "resume", "terminate", "restart":
		if err := wantArgs(name, pos, 2, "<W> <id>"); err != nil {
			return err
		}
		raw, err := c.call("POST", instancePath(pos[0], pos[1])+"/"+sub, nil, nil)
		if err != nil {
			return err
		}
		past := map[string]string{"pause": "paused", "resume": "resumed", "terminate": "terminated", "restart": "restarted"}[sub]
		return out.done(raw, "%s %s/%s", past, pos[0], pos[1])
	case "send-event":
		if len(pos) < 3 || len(pos) > 4 {
			return fmt.Errorf("%s takes <W> <id> <type> [payload-json], got %d arguments: %q", name, len(pos), pos)
		}
		body := map[string]any{"type": pos[2]}
		if len(pos) == 4 {
			p, err := jsonArg("payload-json", pos[3])
			if err != nil {
				return err
			}
			body["payload"] = p
		}
		raw, err := c.call("POST", instancePath(pos[0], pos[1])+"/events", body, nil)
		if err != nil {
			return err
		}
		return out.done(raw, "sent event %q to %s/%s", pos[2], pos[0], pos[1])
	}
	return nil
}

func wantArgs(cmd string, pos []string, n int, what string) error {
	if len(pos) == n {
		return nil
	}
	if n == 0 {
		return fmt.Errorf("%s takes no arguments, got %q", cmd, pos)
	}
	return fmt.Errorf("%s takes %s, got %d arguments: %q", cmd, what, len(pos), pos)
}

// jsonArg checks a JSON argument before it is sent.
func jsonArg(what, s string) (json.RawMessage, error) {
	if !json.Valid([]byte(s)) {
		var v any
		err := json.Unmarshal([]byte(s), &v)
		return nil, fmt.Errorf("%s %q is not valid JSON (%v); quote strings: '\"text\"'", what, s, err)
	}
	return json.RawMessage(s), nil
}

func instancesPath(wf string) string {
	return "/api/workflows/" + url.PathEscape(wf) + "/instances"
}

func instancePath(wf, id string) string {
	return instancesPath(wf) + "/" + url.PathEscape(id)
}

// ---- the client ----

type adminClient struct {
	base string
	http *http.Client
}

func newAdminClient(raw string) (*adminClient, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--admin %q: expected a URL such as %s", raw, defaultAdminURL)
	}
	return &adminClient{base: u.String(), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call sends a request to the admin API and decodes its JSON answer into
// out (if not nil). It returns the answer's bytes for --json.
func (c *adminClient) call(method, path string, body, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the admin API at %s: is `isola dev` running? (%v)", c.base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the admin API's answer from %s: %v", c.base, err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil, fmt.Errorf("%s did not answer as Isola's admin API (HTTP %d, %s): is it the worker's port? The admin API is on the next port",
			c.base, resp.StatusCode, orNone(resp.Header.Get("Content-Type")))
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return nil, errors.New(e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("the admin API at %s sent an answer this isola does not understand: %v", c.base, err)
		}
	}
	return data, nil
}

func orNone(s string) string {
	if s == "" {
		return "no Content-Type"
	}
	return s
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ---- output ----

type wfOutput struct {
	w    io.Writer
	json bool
}

// done prints an action's result: the API's JSON, or a line for people.
func (o *wfOutput) done(raw []byte, format string, args ...any) error {
	if o.json {
		return o.raw(raw)
	}
	_, err := fmt.Fprintf(o.w, format+"\n", args...)
	return err
}

// raw prints JSON indented.
func (o *wfOutput) raw(data []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(data), "", "  "); err != nil {
		b.Reset()
		b.Write(data)
	}
	b.WriteByte('\n')
	_, err := o.w.Write(b.Bytes())
	return err
}

type apiWorkflow struct {
	Name      string         `json:"name"`
	Instances map[string]int `json:"instances"`
}

type apiError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *apiError) String() string {
	if e == nil {
		return ""
	}
	if e.Name == "" || e.Name == "Error" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

type apiInstance struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Created string    `json:"created"`
	Started string    `json:"started"`
	Ended   string    `json:"ended"`
	Error   *apiError `json:"error"`
	Code    *apiCode  `json:"code"`
}

type apiStep struct {
	Name       string          `json:"name"`
	Count      int             `json:"count"`
	Kind       string          `json:"kind"`
	State      string          `json:"state"`
	Attempts   int             `json:"attempts"`
	Started    string          `json:"started"`
	Ended      string          `json:"ended"`
	DurationMs *int64          `json:"duration_ms"`
	Result     json.RawMessage `json:"result"`
	Error      *apiError       `json:"error"`
	Wake       string          `json:"wake"`
	Type       string          `json:"type"`
	Unreached  bool            `json:"unreached"`
}

type apiCode struct {
	Started string `json:"started"`
	Latest  string `json:"latest"`
	Changed bool   `json:"changed"`
}

type apiEvent struct {
	Type      string          `json:"type"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp string          `json:"timestamp"`
}

type apiDetail struct {
	ID            string          `json:"id"`
	Workflow      string          `json:"workflow"`
	Status        string          `json:"status"`
	Params        json.RawMessage `json:"params"`
	Output        json.RawMessage `json:"output"`
	Error         *apiError       `json:"error"`
	Created       string          `json:"created"`
	Started       string          `json:"started"`
	Ended         string          `json:"ended"`
	Wake          string          `json:"wake"`
	Code          *apiCode        `json:"code"`
	Steps         []apiStep       `json:"steps"`
	PendingEvents []apiEvent      `json:"pending_events"`
}

var statusOrder = []string{"queued", "running", "waiting", "waitingForPause", "paused", "complete", "errored", "terminated"}

func wfSummary(c *adminClient, o *wfOutput) error {
	var wfs []apiWorkflow
	raw, err := c.call("GET", "/api/workflows", nil, &wfs)
	if err != nil {
		return err
	}
	if o.json {
		return o.raw(raw)
	}
	tw := tabwriter.NewWriter(o.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKFLOW\tINSTANCES\tBY STATUS")
	for _, wf := range wfs {
		total := 0
		var parts []string
		seen := map[string]bool{}
		for _, st := range statusOrder {
			if n := wf.Instances[st]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", st, n))
			}
			seen[st] = true
		}
		var other []string
		for st, n := range wf.Instances {
			total += n
			if !seen[st] && n > 0 {
				other = append(other, fmt.Sprintf("%s %d", st, n))
			}
		}
		sort.Strings(other)
		parts = append(parts, other...)
		fmt.Fprintf(tw, "%s\t%d\t%s\n", wf.Name, total, strings.Join(parts, ", "))
	}
	return tw.Flush()
}

func wfList(c *adminClient, o *wfOutput, workflow, status string, limit int) error {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	q.Set("limit", strconv.Itoa(limit))
	if workflow != "" {
		var list []apiInstance
		raw, err := c.call("GET", instancesPath(workflow)+"?"+q.Encode(), nil, &list)
		if err != nil {
			return err
		}
		if o.json {
			return o.raw(raw)
		}
		return printInstances(o.w, []string{workflow}, [][]apiInstance{list}, false, limit)
	}
	var wfs []apiWorkflow
	if _, err := c.call("GET", "/api/workflows", nil, &wfs); err != nil {
		return err
	}
	names := make([]string, len(wfs))
	lists := make([][]apiInstance, len(wfs))
	var rawAll []json.RawMessage
	for i, wf := range wfs {
		names[i] = wf.Name
		raw, err := c.call("GET", instancesPath(wf.Name)+"?"+q.Encode(), nil, &lists[i])
		if err != nil {
			return err
		}
		entry, _ := json.Marshal(struct {
			Workflow  string          `json:"workflow"`
			Instances json.RawMessage `json:"instances"`
		}{wf.Name, bytes.TrimSpace(raw)})
		rawAll = append(rawAll, entry)
	}
	if o.json {
		b, _ := json.Marshal(rawAll)
		return o.raw(b)
	}
	return printInstances(o.w, names, lists, true, limit)
}

func printInstances(w io.Writer, names []string, lists [][]apiInstance, withWorkflow bool, limit int) error {
	type row struct {
		wf string
		in apiInstance
	}
	var rows []row
	for i, list := range lists {
		for _, in := range list {
			rows = append(rows, row{names[i], in})
		}
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no instances")
		return err
	}
	// Newest first over all workflows (RFC 3339 in UTC sorts as text).
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].in.Created > rows[j].in.Created })
	if len(rows) > limit {
		rows = rows[:limit]
	}
	// A CODE column when some instance ran on a dynamic worker's code.
	withCode := false
	for _, r := range rows {
		withCode = withCode || r.in.Code != nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if withWorkflow {
		fmt.Fprint(tw, "WORKFLOW\t")
	}
	fmt.Fprint(tw, "ID\tSTATUS\tCREATED\tDURATION\t")
	if withCode {
		fmt.Fprint(tw, "CODE\t")
	}
	fmt.Fprintln(tw, "ERROR")
	for _, r := range rows {
		if withWorkflow {
			fmt.Fprintf(tw, "%s\t", r.wf)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t", r.in.ID, r.in.Status, showTime(r.in.Created), span(r.in.Started, r.in.Ended))
		if withCode {
			code := "-"
			if c := r.in.Code; c != nil {
				code = c.Latest
				if c.Changed {
					code = c.Started + " -> " + c.Latest
				}
			}
			fmt.Fprintf(tw, "%s\t", code)
		}
		fmt.Fprintf(tw, "%s\n", oneLine(r.in.Error.String(), 80))
	}
	return tw.Flush()
}

func wfStatus(c *adminClient, o *wfOutput, workflow, id string) error {
	var d apiDetail
	raw, err := c.call("GET", instancePath(workflow, id), nil, &d)
	if err != nil {
		return err
	}
	if o.json {
		return o.raw(raw)
	}
	w := o.w
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Instance\t%s (workflow %s)\n", d.ID, d.Workflow)
	status := d.Status
	if d.Wake != "" {
		status += " until " + showTime(d.Wake)
	}
	fmt.Fprintf(tw, "Status\t%s\n", status)
	fmt.Fprintf(tw, "Created\t%s\n", showTime(d.Created))
	if d.Started != "" {
		fmt.Fprintf(tw, "Started\t%s\n", showTime(d.Started))
	}
	if d.Ended != "" {
		fmt.Fprintf(tw, "Ended\t%s (took %s)\n", showTime(d.Ended), span(d.Started, d.Ended))
	}
	if d.Code != nil {
		code := d.Code.Started
		if d.Code.Changed {
			code = fmt.Sprintf("started on %s, now %s (the code changed while the instance ran)", d.Code.Started, d.Code.Latest)
		}
		fmt.Fprintf(tw, "Code\t%s\n", code)
	}
	fmt.Fprintf(tw, "Params\t%s\n", oneLine(string(d.Params), 200))
	if len(d.Output) > 0 && string(d.Output) != "null" || d.Status == "complete" {
		fmt.Fprintf(tw, "Output\t%s\n", oneLine(string(d.Output), 200))
	}
	if d.Error != nil {
		fmt.Fprintf(tw, "Error\t%s\n", d.Error.String())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(d.Steps) == 0 {
		fmt.Fprintln(w, "No steps yet.")
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tKIND\tSTATE\tATTEMPTS\tSTARTED\tDURATION\tERROR")
		unreached := 0
		for _, s := range d.Steps {
			name := s.Name
			if s.Count > 1 {
				name += fmt.Sprintf(" #%d", s.Count)
			}
			kind := s.Kind
			if s.Kind == "waitForEvent" && s.Type != "" {
				kind += " " + strconv.Quote(s.Type)
			}
			attempts := ""
			if s.Kind == "do" {
				attempts = strconv.Itoa(s.Attempts)
			}
			dur := "-"
			switch {
			case s.DurationMs != nil:
				dur = showDuration(time.Duration(*s.DurationMs) * time.Millisecond)
			case s.Wake != "" && (s.State == "sleeping" || s.State == "waiting"):
				dur = "until " + showTime(s.Wake)
			}
			state := s.State
			if s.Unreached {
				state += " (unreached)"
				unreached++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, kind, state, attempts, showTime(s.Started), dur, oneLine(s.Error.String(), 80))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if unreached > 0 {
			fmt.Fprintf(w, "\n%d recorded step(s) marked unreached: the run that finished the instance never asked for them, so\ntheir results were not used (its code changed while it ran, or does not call its steps deterministically).\n", unreached)
		}
	}
	if len(d.PendingEvents) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PENDING EVENT\tSENT\tPAYLOAD")
		for _, ev := range d.PendingEvents {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", ev.Type, showTime(ev.Timestamp), oneLine(string(ev.Payload), 100))
		}
		return tw.Flush()
	}
	return nil
}

// showTime shows an RFC 3339 time in local time; "-" when there is none.
func showTime(s string) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// span is the time from start to end ("-" unless both are known).
func span(start, end string) string {
	a, err1 := time.Parse(time.RFC3339, start)
	b, err2 := time.Parse(time.RFC3339, end)
	if start == "" || end == "" || err1 != nil || err2 != nil {
		return "-"
	}
	return showDuration(b.Sub(a))
}

func showDuration(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

var cellReplacer = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// oneLine keeps a table cell on one line and at most n characters.
func oneLine(s string, n int) string {
	s = cellReplacer.Replace(strings.TrimSpace(s))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
