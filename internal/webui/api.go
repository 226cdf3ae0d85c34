package webui

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/isola-run/isola/internal/inspect"
	"github.com/isola-run/isola/internal/logs"
	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/server"
	"github.com/isola-run/isola/internal/storage"
)

// The UI's JSON API, under /_isola/api/:
//
//	GET  apps                              [{key, name, workflows, classes}]
//	GET  isolates                          [{app, loader, id, code, live, memory, last_used}]
//	GET  objects                           [{app, class, id, name, facet, live, size, last_used}]
//	GET  objects/data?app=&class=&id=&facet=   {exists, live, tables: [{name, columns, rows, count}], kv: [{key, value}], kv_count}
//	GET  logs?app=&tenant=                 server-sent events, one logs.Entry per event
//	*    apps/{app}/workflows/...          the workflows admin API of that app (server.Admin)
//	*    playground/...                    the playground worker (playground/worker.js)
//
// Times are RFC 3339 in UTC with milliseconds. Errors are {"error": message}.

// Limits of what objects/data returns: a table browser, not an export.
const (
	dataTables  = 20
	dataRows    = 200
	dataKV      = 200
	dataCellMax = 2000
)

func (u *UI) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /_isola/api/apps", u.listApps)
	m.HandleFunc("GET /_isola/api/isolates", u.listIsolates)
	m.HandleFunc("GET /_isola/api/objects", u.listObjects)
	m.HandleFunc("GET /_isola/api/objects/data", u.objectData)
	m.HandleFunc("GET /_isola/api/logs", u.streamLogs)
	m.HandleFunc("/_isola/api/apps/{app}/workflows/", u.workflows)
	m.HandleFunc("/_isola/api/apps/{app}/workflows", u.workflows)
	m.HandleFunc("/_isola/api/playground/", u.playground)
	m.HandleFunc("/_isola/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	m.HandleFunc("/_isola/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": the UI's pages take GET")
			return
		}
		u.static.ServeHTTP(w, r)
	})
	u.mux = m
}

var (
	writeJSON  = server.WriteJSON
	writeError = server.WriteError
)

func timeJSON(t time.Time) string {
	if t.IsZero() || t.UnixNano() == 0 {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// appParam finds the app named key; for an unknown one it answers 404.
func (u *UI) appParam(w http.ResponseWriter, key string) *appView {
	if v := u.view(key); v != nil {
		return v
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no app %q: expected project or playground", key))
	return nil
}

type appJSON struct {
	Key       string   `json:"key"`
	Name      string   `json:"name"`
	Workflows []string `json:"workflows"`
	Classes   []string `json:"classes"`
}

func (u *UI) listApps(w http.ResponseWriter, r *http.Request) {
	out := []appJSON{}
	for _, v := range u.apps {
		a := appJSON{Key: v.key, Name: v.app.Name, Workflows: []string{}, Classes: []string{}}
		if v.app.Workflows != nil {
			a.Workflows = v.app.Workflows.Workflows()
		}
		if v.stored.Classes != nil {
			a.Classes = v.stored.Classes
		}
		out = append(out, a)
	}
	writeJSON(w, http.StatusOK, out)
}

type isolateJSON struct {
	App      string `json:"app"`
	Loader   string `json:"loader"` // "" for the app's own workers
	ID       string `json:"id"`     // the loader id; the role for the app's own workers
	Code     string `json:"code,omitempty"`
	Live     bool   `json:"live"`
	Memory   int64  `json:"memory"`
	LastUsed string `json:"last_used,omitempty"`
}

func (u *UI) listIsolates(w http.ResponseWriter, r *http.Request) {
	out := []isolateJSON{}
	for _, v := range u.apps {
		roles := v.app.OwnWorkers()
		for _, role := range slices.Sorted(maps.Keys(roles)) {
			live, mem, used := roles[role].Stats()
			out = append(out, isolateJSON{App: v.key, ID: role, Live: live, Memory: mem, LastUsed: timeJSON(used)})
		}
		if v.app.Loaders == nil {
			continue
		}
		for _, lw := range v.app.Loaders.Workers() {
			out = append(out, isolateJSON{App: v.key, Loader: lw.Loader, ID: lw.ID, Code: lw.Code, Live: lw.Live,
				Memory: lw.Memory, LastUsed: timeJSON(lw.LastUsed)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type objectJSON struct {
	App      string `json:"app"`
	Class    string `json:"class"`
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Facet    string `json:"facet,omitempty"` // "a/b" for facet b of facet a
	Live     bool   `json:"live"`
	Size     int64  `json:"size"`
	LastUsed string `json:"last_used,omitempty"`
}

// listObjects merges what is stored (inspect) with what is live: a facet
// or object may be live before its first write reaches the disk listing.
func (u *UI) listObjects(w http.ResponseWriter, r *http.Request) {
	out := []objectJSON{}
	for _, v := range u.apps {
		live := map[string]runtime.LiveObject{}
		if v.app.Actors != nil {
			for _, o := range v.app.Actors.LiveObjects() {
				live[objectKey(o.Class, o.ID, o.Facet)] = o
			}
		}
		seen := map[string]bool{}
		add := func(o objectJSON, facet []string) {
			key := objectKey(o.Class, o.ID, facet)
			seen[key] = true
			if l, ok := live[key]; ok {
				o.Live, o.LastUsed = true, timeJSON(l.LastUsed)
			}
			out = append(out, o)
		}
		nss, err := v.stored.List()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		for _, ns := range nss {
			for _, o := range ns.Objects {
				add(objectJSON{App: v.key, Class: ns.Class, ID: o.ID, Name: o.Name, Size: o.Size}, nil)
				for _, f := range o.Facets {
					add(objectJSON{App: v.key, Class: ns.Class, ID: o.ID, Name: o.Name, Facet: inspect.FacetPath(f.Path), Size: f.Size}, f.Path)
				}
			}
		}
		for key, l := range live {
			if !seen[key] {
				out = append(out, objectJSON{App: v.key, Class: l.Class, ID: l.ID, Name: l.Name, Facet: inspect.FacetPath(l.Facet),
					Live: true, LastUsed: timeJSON(l.LastUsed)})
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func objectKey(class, id string, facet []string) string {
	return class + "\x00" + id + "\x00" + strings.Join(facet, "\x00")
}

type tableJSON struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	Count   int64    `json:"count"` // rows in the table; -1 when unknown
}

type kvJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"` // rendered as JavaScript would show it
}

type dataJSON struct {
	// Exists is false when nothing is stored under that id or facet yet
	// (the class is known): an empty result, not an error, so that a page
	// can ask before the object's first write.
	Exists  bool        `json:"exists"`
	Live    bool        `json:"live"`
	Tables  []tableJSON `json:"tables"`
	KV      []kvJSON    `json:"kv"`
	KVCount int64       `json:"kv_count"`
}

// objectData shows an object's (or facet's) tables and KV pairs. A live
// object is read on its own loop (runtime.Actors.ReadStorage); a stored
// one from its database, read-only.
func (u *UI) objectData(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := u.appParam(w, q.Get("app"))
	if v == nil {
		return
	}
	class, id := q.Get("class"), q.Get("id")
	if class == "" || id == "" {
		writeError(w, http.StatusBadRequest, "class and id are required (id may be the name the object was made from)")
		return
	}
	p := v.stored
	out := dataJSON{Tables: []tableJSON{}, KV: []kvJSON{}}
	t, err := p.Find(class, id, q.Get("facet"))
	if err != nil {
		if slices.Contains(p.Classes, class) {
			writeJSON(w, http.StatusOK, out)
			return
		}
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	out.Exists = true
	if !t.HasDatabase {
		writeJSON(w, http.StatusOK, out)
		return
	}
	read := func(st *storage.Store) error { return readData(st, &out) }
	err = runtime.ErrNotLive
	if v.app.Actors != nil {
		err = v.app.Actors.ReadStorage(class, t.ID, t.Facet, read)
	}
	out.Live = err == nil
	if errors.Is(err, runtime.ErrNotLive) {
		out = dataJSON{Exists: true, Tables: []tableJSON{}, KV: []kvJSON{}}
		var st *storage.Store
		if st, err = p.OpenStore(t); err == nil {
			err = read(st)
			st.Close()
		}
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func readData(st *storage.Store, out *dataJSON) error {
	d, err := st.Describe()
	if err != nil {
		return err
	}
	out.KVCount = d.KVKeys
	for i, t := range d.Tables {
		if i == dataTables {
			break
		}
		tj := tableJSON{Name: t.Name, Count: t.Rows, Rows: [][]any{}}
		c, err := st.Exec(fmt.Sprintf(`SELECT * FROM "%s" LIMIT %d`, strings.ReplaceAll(t.Name, `"`, `""`), dataRows))
		if err != nil {
			return fmt.Errorf("reading table %s: %w", t.Name, err)
		}
		tj.Columns = c.Columns()
		for {
			row, ok, err := c.Next()
			if err != nil {
				c.Close()
				return fmt.Errorf("reading table %s: %w", t.Name, err)
			}
			if !ok {
				break
			}
			cells := make([]any, len(row))
			for i, v := range row {
				cells[i] = cell(v)
			}
			tj.Rows = append(tj.Rows, cells)
		}
		c.Close()
		out.Tables = append(out.Tables, tj)
	}
	kvs, err := st.List(storage.ListOptions{Limit: dataKV})
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		out.KV = append(out.KV, kvJSON{Key: kv.Key, Value: inspect.RenderStored(kv.Value, inspect.RenderOptions{MaxLen: dataCellMax})})
	}
	return nil
}

// cell makes a SQL value JSON: numbers and text as they are (text cut to
// dataCellMax), BLOBs as hex.
func cell(v any) any {
	switch v := v.(type) {
	case []byte:
		s := hex.EncodeToString(v)
		if len(s) > dataCellMax {
			s = s[:dataCellMax] + "…"
		}
		return "x'" + s + "'"
	case string:
		if len(v) > dataCellMax {
			cut := dataCellMax
			for cut > 0 && !utf8.RuneStart(v[cut]) {
				cut--
			}
			return v[:cut] + "…"
		}
	}
	return v
}

// streamLogs sends the kept log entries of the chosen app (and tenant),
// then every new one, as server-sent events until the client goes.
func (u *UI) streamLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var views []*appView
	if key := q.Get("app"); key != "" {
		v := u.appParam(w, key)
		if v == nil {
			return
		}
		views = []*appView{v}
	} else {
		views = u.apps
	}
	tenant, hasTenant := q.Get("tenant"), q.Has("tenant")
	match := func(e logs.Entry) bool { return !hasTenant || e.Tenant == tenant }
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "this connection cannot stream")
		return
	}
	type tagged struct {
		key string
		e   logs.Entry
	}
	merged := make(chan tagged, 64)
	var backlog []tagged
	for _, v := range views {
		recent, ch, stop := v.app.Logs.Watch()
		defer stop()
		for _, e := range recent {
			backlog = append(backlog, tagged{v.key, e})
		}
		go func(key string, ch <-chan logs.Entry) {
			for {
				select {
				case e := <-ch:
					select {
					case merged <- tagged{key, e}:
					case <-r.Context().Done():
						return
					}
				case <-r.Context().Done():
					return
				}
			}
		}(v.key, ch)
	}
	sort.SliceStable(backlog, func(i, j int) bool { return backlog[i].e.Time.Before(backlog[j].e.Time) })
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(t tagged) {
		if !match(t.e) {
			return
		}
		t.e.App = t.key
		b, _ := json.Marshal(t.e)
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	for _, t := range backlog {
		send(t)
	}
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case t := <-merged:
			send(t)
			flusher.Flush()
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// workflows hands the request to the app's workflows admin API: the UI has
// checked where it came from (guard), which the admin API does by refusing
// browsers altogether.
func (u *UI) workflows(w http.ResponseWriter, r *http.Request) {
	v := u.appParam(w, r.PathValue("app"))
	if v == nil {
		return
	}
	if v.admin == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("the %s app has no workflows", v.key))
		return
	}
	r2 := r.Clone(r.Context())
	for _, h := range []string{"Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User"} {
		r2.Header.Del(h)
	}
	rest := strings.TrimPrefix(r.URL.Path, "/_isola/api/apps/"+v.key)
	r2.URL.Path = "/api" + rest
	r2.URL.RawPath = ""
	v.admin.ServeHTTP(w, r2)
}

// playground hands the request to the playground worker, without the
// prefix: /_isola/api/playground/app/run/x reaches it as /app/run/x.
func (u *UI) playground(w http.ResponseWriter, r *http.Request) {
	pg := u.view("playground").app
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, "/_isola/api/playground")
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	pg.Worker.ServeHTTP(w, r2, runtime.ServeOptions{DevErrors: true})
}
