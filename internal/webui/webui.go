// Package webui serves Isola's web UI under /_isola/: a dashboard of what
// is running (isolates, Durable Objects and their data, workflow instances,
// live logs), a workflow playground and an app playground.
//
// The pages are plain HTML, CSS and JavaScript embedded in the binary
// (static/). The playgrounds run on an Isola app of their own, embedded too
// (playground/): tenant code typed in the browser is run the way a platform
// built on Isola runs its customers' code, through a Worker Loader, a
// dispatcher workflow and a supervisor Durable Object with facets.
//
// The UI can run code, terminate instances and read every object's data,
// and asks for no credentials, so it answers only requests addressed to a
// loopback host name (a DNS-rebinding page has its own host name), and
// changes only from pages of its own origin (a custom header or a
// same-origin fetch: see guard).
package webui

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/inspect"
	"github.com/isola-run/isola/internal/server"
)

//go:embed static
var staticFiles embed.FS

//go:embed playground
var playgroundFiles embed.FS

// Prefix is where the UI lives on the port it shares with the worker.
const Prefix = "/_isola/"

// Options configure the UI.
type Options struct {
	// Project is the app isola dev serves.
	Project *app.App
	// Log gets the playground's console output, as the project's gets its.
	Log *log.Logger
	// PlaygroundDir holds the playground's source and state (default:
	// "playground" in the project's state directory).
	PlaygroundDir string
}

// UI is the web UI's handler.
type UI struct {
	apps   []*appView // the project, then the playground
	static http.Handler
	mux    *http.ServeMux
}

// appView is one app as the UI shows it; key names it in the API
// ("project" or "playground"), whatever the app's own name.
type appView struct {
	key    string
	app    *app.App
	admin  *server.Admin
	stored *inspect.Project // the app's stored objects, as isola objects sees them
}

// New loads the playground app and prepares the handler. Close stops the
// playground.
func New(opts Options) (*UI, error) {
	if opts.Project == nil {
		return nil, errors.New("webui: no project")
	}
	dir := opts.PlaygroundDir
	if dir == "" {
		dir = filepath.Join(opts.Project.StateDir, "playground")
	}
	pg, err := loadPlayground(dir, opts.Log)
	if err != nil {
		return nil, fmt.Errorf("starting the playground: %w", err)
	}
	u := &UI{}
	for _, v := range []*appView{{key: "project", app: opts.Project}, {key: "playground", app: pg}} {
		if v.app.Workflows != nil {
			v.admin = &server.Admin{Engine: v.app.Workflows, Log: opts.Log}
		}
		if v.stored, err = inspect.Open(v.app.Config.Dir, v.app.StateDir); err != nil {
			pg.Close()
			return nil, err
		}
		u.apps = append(u.apps, v)
	}
	sub, _ := fs.Sub(staticFiles, "static")
	u.static = http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(sub))
	u.routes()
	return u, nil
}

// loadPlayground writes the embedded playground project to dir/src (anew
// each start, so an upgrade of Isola upgrades it) and loads it with its
// state in dir/state.
func loadPlayground(dir string, logger *log.Logger) (*app.App, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return nil, err
	}
	err := fs.WalkDir(playgroundFiles, "playground", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := playgroundFiles.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(src, strings.TrimPrefix(path, "playground/")), b, 0o644)
	})
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = log.New(os.Stderr, "", log.Ltime)
	}
	return app.LoadWith(src, logger, app.Options{StateDir: filepath.Join(dir, "state")})
}

// Close stops the playground app (the project is its owner's to close).
func (u *UI) Close() {
	for _, v := range u.apps {
		if v.key == "playground" {
			v.app.Close()
		}
	}
}

// Playground is the playground app, for tests.
func (u *UI) Playground() *app.App { return u.view("playground").app }

func (u *UI) view(key string) *appView {
	for _, v := range u.apps {
		if v.key == key {
			return v
		}
	}
	return nil
}

// Wrap serves the UI under Prefix and everything else with next.
func (u *UI) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") || strings.HasPrefix(r.URL.Path, Prefix) {
			u.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if status, msg := guard(r); status != 0 {
		writeError(w, status, msg)
		return
	}
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	u.mux.ServeHTTP(w, r)
}

// guard refuses requests the UI must not answer: any addressed to a host
// name that is not loopback (a page that rebinds its own name to 127.0.0.1
// still sends its name), and changes coming from another site's page.
func guard(r *http.Request) (int, string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	ip := net.ParseIP(host)
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost") || (ip != nil && ip.IsLoopback())
	if !loopback {
		return http.StatusForbidden, fmt.Sprintf("the Isola UI answers only on a loopback address (localhost, 127.0.0.1, [::1]); this request was for %q", r.Host)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return 0, ""
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return http.StatusForbidden, "the Isola UI takes changes only from its own pages (Sec-Fetch-Site: " + site + ")"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		o, err := url.Parse(origin)
		if err != nil || o.Host != r.Host {
			return http.StatusForbidden, fmt.Sprintf("the Isola UI takes changes only from its own pages (Origin %q)", origin)
		}
	}
	return 0, ""
}
