// Package reference runs Cloudflare's workerd, the reference runtime that
// Isola is compared against by the conformance suite and the benchmarks.
//
// workerd is pinned in tools/reference/package.json and installed with
// `npm ci --prefix tools/reference`; this package finds that install relative
// to the module root, so tests work from any package directory.
//
// StartWorkerd serves a worker directory laid out as for Isola (a
// wrangler.jsonc beside the modules). workerd knows nothing of wrangler, so we
// translate the few wrangler fields we need into a workerd capnp config.
//
// Durable Objects are stored on disk (workerd's `localDisk`), in a directory
// the caller passes or in the process's temporary directory, which Stop
// removes. Each class's uniqueKey is `<worker name>-<storage key>`, as
// `workerd deploy` names them for a wrangler project: the storage key is the
// class name that first created the class in the migrations, so a renamed
// class keeps its objects.
package reference

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/isola-run/isola/internal/config"
)

// InstallHint is how to install the pinned workerd.
const InstallHint = "run `npm ci --prefix tools/reference` from the repository root"

// ModuleRoot walks up from the working directory to the directory holding
// go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("reference: no go.mod found above the working directory")
		}
		dir = parent
	}
}

// Workerd returns the path of the pinned workerd binary, or an error telling
// how to install it.
func Workerd() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	path := filepath.Join(root, "tools", "reference", "node_modules", ".bin", "workerd")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("reference: workerd not installed at %s: %s", path, InstallHint)
	}
	return path, nil
}

// FreePort returns a TCP port on 127.0.0.1 that is free now and that no
// earlier call in this process returned. The port is released before
// returning, and the reference binds it a moment later; in between, another
// program asking the kernel for any port (bind to port 0: Isola's test
// servers, the workerd that wrangler dev starts) could be given it, and the
// reference's readiness check would then find that program answering. So
// the ports come from below the kernel's ephemeral range, which bind to
// port 0 never hands out, starting at an offset drawn from the process id
// so that test binaries running side by side rarely meet.
func FreePort() int {
	portMu.Lock()
	defer portMu.Unlock()
	lo, hi := portRange()
	if nextPort == 0 {
		nextPort = lo + os.Getpid()*7919%(hi-lo)
	}
	for range hi - lo {
		p := nextPort
		if nextPort++; nextPort >= hi {
			nextPort = lo
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("reference: no free port: %v", err))
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	portMu   sync.Mutex
	nextPort int
)

// portRange is the range FreePort draws from: the 12,000 ports below the
// kernel's ephemeral range (32768 when it cannot be read).
func portRange() (lo, hi int) {
	hi = 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var a, z int
		if n, _ := fmt.Sscan(string(b), &a, &z); n == 2 && a > 2048 {
			hi = a
		}
	}
	lo = max(hi-12000, 1024)
	return lo, hi
}

// Process is a running workerd.
type Process struct {
	Port int
	URL  string // http://127.0.0.1:<port>

	cmd     *exec.Cmd
	tmpDir  string
	out     *syncBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error
	stop    sync.Once
}

// Output returns what workerd has printed so far (stdout and stderr
// interleaved): with --verbose this includes uncaught exceptions and the
// worker's console output.
func (p *Process) Output() string { return p.out.String() }

// Stop ends workerd and removes its temporary config. It is safe to call
// more than once.
func (p *Process) Stop() {
	p.stop.Do(func() {
		// Signal the whole process group: if the npm shim is ever a script
		// rather than the binary itself, its child must go too.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		os.RemoveAll(p.tmpDir)
	})
}

// Wrangler holds the wrangler.jsonc fields the reference runner understands.
type Wrangler struct {
	Name               string                     `json:"name"`
	Main               string                     `json:"main"`
	CompatibilityDate  string                     `json:"compatibility_date"`
	CompatibilityFlags []string                   `json:"compatibility_flags"`
	Vars               map[string]json.RawMessage `json:"vars"`
	WorkerLoaders      []WorkerLoaderBinding      `json:"worker_loaders"`
	Services           []ServiceBinding           `json:"services"`
	DurableObjects     DurableObjects             `json:"durable_objects"`
	Migrations         []Migration                `json:"migrations"`
}

// DurableObjects is the durable_objects table.
type DurableObjects struct {
	Bindings []DurableObjectBinding `json:"bindings"`
}

// DurableObjectBinding is a durable_objects.bindings entry. The reference
// runs a single worker, so ScriptName, when set, must name that worker.
type DurableObjectBinding struct {
	Name       string `json:"name"`
	ClassName  string `json:"class_name"`
	ScriptName string `json:"script_name"`
}

// Migration is a migrations entry. Applied in order, the migrations decide
// which classes have storage and whether it is SQLite-backed.
type Migration struct {
	Tag              string         `json:"tag"`
	NewClasses       []string       `json:"new_classes"`
	NewSQLiteClasses []string       `json:"new_sqlite_classes"`
	RenamedClasses   []RenamedClass `json:"renamed_classes"`
	DeletedClasses   []string       `json:"deleted_classes"`
}

// RenamedClass is a migrations[].renamed_classes entry.
type RenamedClass struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// WorkerLoaderBinding is a worker_loaders entry: a Worker Loader (Dynamic
// Workers) binding, workerd's `workerLoader`.
type WorkerLoaderBinding struct {
	Binding string `json:"binding"`
}

// ServiceBinding is a services entry. The reference runs a single worker, so
// Service must name that worker itself (a loopback, usually to a named
// entrypoint).
type ServiceBinding struct {
	Binding    string          `json:"binding"`
	Service    string          `json:"service"`
	Entrypoint string          `json:"entrypoint"`
	Props      json.RawMessage `json:"props"`
}

// ReadWrangler parses dir/wrangler.jsonc (or wrangler.json).
func ReadWrangler(dir string) (*Wrangler, error) {
	var data []byte
	var err error
	for _, name := range []string{"wrangler.jsonc", "wrangler.json"} {
		data, err = os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reference: no wrangler.jsonc in %s", dir)
	}
	var w Wrangler
	clean, err := config.StripJSONC(data)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(clean, &w); err != nil {
		return nil, fmt.Errorf("reference: parsing wrangler.jsonc in %s: %w", dir, err)
	}
	if w.Main == "" {
		return nil, fmt.Errorf("reference: wrangler.jsonc in %s has no \"main\"", dir)
	}
	if w.CompatibilityDate == "" {
		// workerd refuses a worker without a date; wrangler would too.
		return nil, fmt.Errorf("reference: wrangler.jsonc in %s has no \"compatibility_date\"", dir)
	}
	return &w, nil
}

// moduleKinds maps file extensions to workerd module types, following
// wrangler's default module rules.
var moduleKinds = map[string]string{
	".js":   "esModule",
	".mjs":  "esModule",
	".cjs":  "commonJsModule",
	".txt":  "text",
	".html": "text",
	".bin":  "data",
	".json": "json",
	".wasm": "wasm",
}

// Options tune StartWorkerdWith.
type Options struct {
	// StorageDir holds the Durable Objects' databases (workerd's localDisk).
	// The caller owns it: Stop leaves it in place, so a later workerd can
	// find the objects again. Empty means a directory that Stop removes.
	StorageDir string
}

// StartWorkerd serves the worker in workerDir on 127.0.0.1:port and returns
// once workerd accepts connections. Cancelling ctx kills workerd.
func StartWorkerd(ctx context.Context, workerDir string, port int) (*Process, error) {
	return StartWorkerdWith(ctx, workerDir, port, Options{})
}

// StartWorkerdWith is StartWorkerd with options.
func StartWorkerdWith(ctx context.Context, workerDir string, port int, opts Options) (*Process, error) {
	bin, err := Workerd()
	if err != nil {
		return nil, err
	}
	w, err := ReadWrangler(workerDir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "isola-workerd-")
	if err != nil {
		return nil, err
	}
	storage := opts.StorageDir
	if storage == "" {
		storage = filepath.Join(tmp, "do-storage")
	}
	if storage, err = filepath.Abs(storage); err == nil {
		err = os.MkdirAll(storage, 0o755)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("reference: Durable Object storage directory: %w", err)
	}
	config, err := writeConfig(tmp, workerDir, w, port, storage)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}

	p := &Process{Port: port, URL: fmt.Sprintf("http://127.0.0.1:%d", port), tmpDir: tmp,
		out: &syncBuffer{}, done: make(chan struct{})}
	args := []string{"serve", config, "--verbose"}
	if len(w.WorkerLoaders) > 0 {
		// workerd refuses workerLoader bindings without it ("Worker loader
		// bindings are an experimental feature ... run workerd with
		// `--experimental`"). It only permits experimental features; it
		// enables none by itself, so it is passed only where needed. Facets
		// and localDisk storage work without it in the pinned version.
		args = append(args, "--experimental")
	}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Dir = tmp
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("reference: starting workerd: %w", err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()

	if err := waitListening(p.done, port, 15*time.Second); err != nil {
		p.Stop()
		return nil, fmt.Errorf("reference: workerd for %s: %w\n%s", workerDir, err, p.Output())
	}
	return p, nil
}

// waitListening polls until something accepts on 127.0.0.1:port, the
// process exits, or the timeout passes.
func waitListening(exited <-chan struct{}, port int, timeout time.Duration) error {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errors.New("exited before listening")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %s", addr, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeConfig copies the worker's modules under tmp/worker (capnp `embed`
// only reads paths relative to the config file) and writes tmp/config.capnp.
// storageDir (absolute) backs the Durable Objects, if the worker has any.
func writeConfig(tmp, workerDir string, w *Wrangler, port int, storageDir string) (string, error) {
	namespaces, err := durableObjectNamespaces(w)
	if err != nil {
		return "", err
	}
	mainName := filepath.ToSlash(filepath.Clean(w.Main))
	type module struct{ name, kind string }
	var modules []module
	err = filepath.WalkDir(workerDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(workerDir, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		kind, ok := moduleKinds[strings.ToLower(filepath.Ext(path))]
		if !ok {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, "worker", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		modules = append(modules, module{filepath.ToSlash(rel), kind})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reference: collecting modules of %s: %w", workerDir, err)
	}
	// workerd takes the first module as the entry point.
	sort.SliceStable(modules, func(i, j int) bool {
		if (modules[i].name == mainName) != (modules[j].name == mainName) {
			return modules[i].name == mainName
		}
		return modules[i].name < modules[j].name
	})
	if len(modules) == 0 || modules[0].name != mainName {
		return "", fmt.Errorf("reference: main module %q not found in %s", w.Main, workerDir)
	}

	var b strings.Builder
	b.WriteString("using Workerd = import \"/workerd/workerd.capnp\";\n\n")
	b.WriteString("const config :Workerd.Config = (\n  services = [\n    (name = \"main\", worker = (\n      modules = [\n")
	for _, m := range modules {
		fmt.Fprintf(&b, "        (name = %s, %s = embed %s),\n", capnpString(m.name), m.kind, capnpString("worker/"+m.name))
	}
	b.WriteString("      ],\n")
	fmt.Fprintf(&b, "      compatibilityDate = %s,\n", capnpString(w.CompatibilityDate))
	if len(w.CompatibilityFlags) > 0 {
		b.WriteString("      compatibilityFlags = [")
		for i, f := range w.CompatibilityFlags {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(capnpString(f))
		}
		b.WriteString("],\n")
	}
	b.WriteString("      bindings = [\n")
	names := make([]string, 0, len(w.Vars))
	for name := range w.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := w.Vars[name]
		// Wrangler binds string vars as plain strings and anything else as
		// parsed JSON; workerd's text and json bindings do the same.
		var s string
		if json.Unmarshal(raw, &s) == nil {
			fmt.Fprintf(&b, "        (name = %s, text = %s),\n", capnpString(name), capnpString(s))
		} else {
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				return "", fmt.Errorf("reference: var %s: %w", name, err)
			}
			fmt.Fprintf(&b, "        (name = %s, json = %s),\n", capnpString(name), capnpString(compact.String()))
		}
	}
	for _, l := range w.WorkerLoaders {
		if l.Binding == "" {
			return "", errors.New("reference: a worker_loaders entry has no \"binding\"")
		}
		fmt.Fprintf(&b, "        (name = %s, workerLoader = ()),\n", capnpString(l.Binding))
	}
	for _, sb := range w.Services {
		designator, err := serviceDesignator(w, sb)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "        (name = %s, service = %s),\n", capnpString(sb.Binding), designator)
	}
	for _, db := range w.DurableObjects.Bindings {
		fmt.Fprintf(&b, "        (name = %s, durableObjectNamespace = (className = %s)),\n",
			capnpString(db.Name), capnpString(db.ClassName))
	}
	b.WriteString("      ],\n")
	if len(namespaces) > 0 {
		b.WriteString("      durableObjectNamespaces = [\n")
		for _, ns := range namespaces {
			fmt.Fprintf(&b, "        (className = %s, uniqueKey = %s, enableSql = %t),\n",
				capnpString(ns.className), capnpString(workerName(w)+"-"+ns.storageKey), ns.sql)
		}
		b.WriteString("      ],\n")
		b.WriteString("      durableObjectStorage = (localDisk = \"do-storage\"),\n")
	}
	b.WriteString("    )),\n")
	if len(namespaces) > 0 {
		fmt.Fprintf(&b, "    (name = \"do-storage\", disk = (path = %s, writable = true)),\n", capnpString(storageDir))
	}
	b.WriteString("  ],\n")
	fmt.Fprintf(&b, "  sockets = [ (name = \"http\", address = \"127.0.0.1:%d\", http = (), service = \"main\") ],\n);\n", port)

	path := filepath.Join(tmp, "config.capnp")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// workerName is the name keying the worker's Durable Object storage; wrangler
// requires a name, and "worker" stands in as Isola's app package does.
func workerName(w *Wrangler) string {
	if w.Name == "" {
		return "worker"
	}
	return w.Name
}

// doNamespace is a Durable Object class with storage, as the migrations
// leave it.
type doNamespace struct {
	className  string
	storageKey string // the class name the migrations first created it under
	sql        bool   // new_sqlite_classes rather than new_classes
}

// durableObjectNamespaces applies the migrations in order, then adds the
// classes that bindings name without any migration, with key-value storage
// (only new_sqlite_classes asks for SQLite). Migrated classes get a
// namespace even without a binding, which makes ctx.exports.Class a
// namespace too.
func durableObjectNamespaces(w *Wrangler) ([]doNamespace, error) {
	var out []doNamespace
	find := func(class string) int {
		return slices.IndexFunc(out, func(ns doNamespace) bool { return ns.className == class })
	}
	deleted := map[string]string{} // class name -> tag of the migration that deleted it
	add := func(tag, class string, sql bool) error {
		if class == "" {
			return fmt.Errorf("reference: migration %q creates a class with an empty name", tag)
		}
		if find(class) >= 0 {
			return fmt.Errorf("reference: migration %q creates class %q, which an earlier migration already created", tag, class)
		}
		if slices.ContainsFunc(out, func(ns doNamespace) bool { return ns.storageKey == class }) {
			// The objects stored under this name belong to the class it was
			// renamed to; workerd would refuse two namespaces with one key.
			return fmt.Errorf("reference: migration %q creates class %q, whose storage key a renamed class still uses", tag, class)
		}
		out = append(out, doNamespace{className: class, storageKey: class, sql: sql})
		delete(deleted, class)
		return nil
	}
	for _, m := range w.Migrations {
		for _, c := range m.NewClasses {
			if err := add(m.Tag, c, false); err != nil {
				return nil, err
			}
		}
		for _, c := range m.NewSQLiteClasses {
			if err := add(m.Tag, c, true); err != nil {
				return nil, err
			}
		}
		for _, r := range m.RenamedClasses {
			i := find(r.From)
			if i < 0 {
				return nil, fmt.Errorf("reference: migration %q renames class %q, which no earlier migration created", m.Tag, r.From)
			}
			if r.To == "" || find(r.To) >= 0 {
				return nil, fmt.Errorf("reference: migration %q renames class %q to %q, which is empty or already in use", m.Tag, r.From, r.To)
			}
			out[i].className = r.To
		}
		for _, c := range m.DeletedClasses {
			i := find(c)
			if i < 0 {
				return nil, fmt.Errorf("reference: migration %q deletes class %q, which no earlier migration created", m.Tag, c)
			}
			out = slices.Delete(out, i, i+1)
			deleted[c] = m.Tag
		}
	}
	for _, db := range w.DurableObjects.Bindings {
		if db.Name == "" || db.ClassName == "" {
			return nil, errors.New("reference: a durable_objects.bindings entry lacks \"name\" or \"class_name\"")
		}
		if db.ScriptName != "" && db.ScriptName != w.Name {
			return nil, fmt.Errorf("reference: Durable Object binding %s names worker %q; only the worker itself (%q) is supported",
				db.Name, db.ScriptName, w.Name)
		}
		if tag, ok := deleted[db.ClassName]; ok {
			return nil, fmt.Errorf("reference: Durable Object binding %s names class %q, which migration %q deleted", db.Name, db.ClassName, tag)
		}
		if find(db.ClassName) < 0 {
			out = append(out, doNamespace{className: db.ClassName, storageKey: db.ClassName})
		}
	}
	return out, nil
}

// serviceDesignator renders a services entry as a capnp ServiceDesignator.
// Only bindings to the worker itself (served as "main") can be expressed.
func serviceDesignator(w *Wrangler, sb ServiceBinding) (string, error) {
	if sb.Binding == "" {
		return "", errors.New("reference: a services entry has no \"binding\"")
	}
	if sb.Service != w.Name {
		return "", fmt.Errorf("reference: service binding %s names worker %q; only the worker itself (%q) is supported",
			sb.Binding, sb.Service, w.Name)
	}
	parts := []string{`name = "main"`}
	if sb.Entrypoint != "" {
		parts = append(parts, "entrypoint = "+capnpString(sb.Entrypoint))
	}
	if len(sb.Props) > 0 && string(sb.Props) != "null" {
		var compact bytes.Buffer
		if err := json.Compact(&compact, sb.Props); err != nil {
			return "", fmt.Errorf("reference: props of service binding %s: %w", sb.Binding, err)
		}
		parts = append(parts, "props = (json = "+capnpString(compact.String())+")")
	}
	return "(" + strings.Join(parts, ", ") + ")", nil
}

// capnpString quotes s as a capnp text literal (C-style escapes; UTF-8
// passes through).
func capnpString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\x` + strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a child's
// stdout and stderr and reads from tests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// RSS reports workerd's resident memory in bytes (0 if it cannot be read).
func (p *Process) RSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Pid is workerd's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LinkPackages gives the program in dir the npm packages it imports, as
// `npm install` in dir would: node_modules/<pkg> links to the copy pinned
// in tools/reference. Tests link into copies of examples and cases, never
// into the repository.
func LinkPackages(dir string, pkgs ...string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	for _, pkg := range pkgs {
		src := filepath.Join(root, "tools", "reference", "node_modules", filepath.FromSlash(pkg))
		if _, err := os.Stat(filepath.Join(src, "package.json")); err != nil {
			return fmt.Errorf("reference: npm package %s not installed at %s: %s", pkg, src, InstallHint)
		}
		dst := filepath.Join(dir, "node_modules", filepath.FromSlash(pkg))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(src, dst); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return nil
}
