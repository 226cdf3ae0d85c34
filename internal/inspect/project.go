// Package inspect is the operator's read-only view of what a project's
// Durable Objects stored: listing objects and their facets, describing one
// (KV pairs with decoded values, SQL tables, alarm, size), running a
// read-only SQL query. It opens databases read-only, so it never changes
// them, and it fails clearly when a running isola holds an object.
package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/config"
	"github.com/isola-run/isola/internal/objectid"
	"github.com/isola-run/isola/internal/storage"
)

// defaultWorkerName is the worker name app.Load uses when the config has
// none; ids are made from the worker name, so it must be the same here.
const defaultWorkerName = "worker"

// Project is a worker project's stored Durable Objects.
type Project struct {
	Config     *config.Config
	WorkerName string
	// Classes are the Durable Object classes the worker defines, in the
	// order its config first names them.
	Classes []string
	// StateDir is the state directory; objects live in ObjectsDir.
	StateDir string
	dir      *storage.Directory
}

// Open reads the wrangler config in dir. stateDir overrides the project's
// state directory (default: app.DefaultStateDir inside dir).
func Open(dir, stateDir string) (*Project, error) {
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	if stateDir == "" {
		stateDir = filepath.Join(cfg.Dir, app.DefaultStateDir)
	}
	name := cfg.Name
	if name == "" {
		name = defaultWorkerName
	}
	p := &Project{Config: cfg, WorkerName: name, Classes: definedClasses(cfg), StateDir: stateDir}
	p.dir = storage.NewDirectory(p.ObjectsDir())
	return p, nil
}

// ObjectsDir is the directory of the object databases.
func (p *Project) ObjectsDir() string { return filepath.Join(p.StateDir, "objects") }

// definedClasses lists the classes the worker itself defines: those its
// bindings name without naming another script, and those its migrations
// create (a class needs no binding to be reached through ctx.exports).
func definedClasses(cfg *config.Config) []string {
	var out []string
	add := func(c string) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, b := range cfg.DurableObjects {
		if b.ScriptName == "" || b.ScriptName == cfg.Name {
			add(b.ClassName)
		}
	}
	for _, m := range cfg.Migrations {
		for _, c := range m.NewSQLiteClasses {
			add(c)
		}
		for _, c := range m.NewClasses {
			add(c)
		}
		for _, r := range m.RenamedClasses {
			add(r.To)
		}
	}
	return out
}

func (p *Project) ids(class string) objectid.Namespace {
	return objectid.New(p.WorkerName + "/" + class)
}

// Namespace is one class's stored objects.
type Namespace struct {
	Class string
	// InConfig is false for objects of a class the config no longer
	// defines (deleted or renamed).
	InConfig bool
	Objects  []Object
}

// Object is one stored object.
type Object struct {
	storage.Object
	// Foreign marks an id this worker's namespace of the class did not
	// make: the worker (or class) was renamed since it was stored, so the
	// running worker cannot reach the object any more.
	Foreign bool
}

// List lists the stored objects of every class: the classes of the config
// first (with or without objects), then any other class found on disk.
func (p *Project) List() ([]Namespace, error) {
	onDisk, err := p.dir.Namespaces()
	if err != nil {
		return nil, err
	}
	classes := slices.Clone(p.Classes)
	for _, c := range onDisk {
		if !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	var out []Namespace
	for _, class := range classes {
		ns, err := p.dir.Namespace(class)
		if err != nil {
			return nil, err
		}
		objs, err := ns.Objects()
		if err != nil {
			return nil, err
		}
		ids := p.ids(class)
		n := Namespace{Class: class, InConfig: slices.Contains(p.Classes, class)}
		for _, o := range objs {
			_, err := ids.Parse(o.ID)
			n.Objects = append(n.Objects, Object{Object: o, Foreign: err != nil})
		}
		out = append(out, n)
	}
	return out, nil
}

// Target is one object, or one of its facets, to look into.
type Target struct {
	Class string
	ID    string
	// Name is the name the id was made from, when known: given on the
	// command line, or recorded when the object was created.
	Name    string
	Facet   []string // nil for the object itself
	Foreign bool     // see Object.Foreign
	// Facets are the object's facets below this target.
	Facets []storage.Facet
	// HasDatabase is false for an object that has only facets.
	HasDatabase bool
	ns          *storage.Namespace
}

// String names the target as the commands take it: class, id, facet path.
func (t *Target) String() string {
	s := t.Class + " " + t.ID
	if t.Facet != nil {
		s += " facet " + FacetPath(t.Facet)
	}
	return s
}

// Find resolves a class, an id or name, and a facet path ("" for the object
// itself) to a stored object or facet.
func (p *Project) Find(class, idOrName, facet string) (*Target, error) {
	onDisk, err := p.dir.Namespaces()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p.Classes, class) && !slices.Contains(onDisk, class) {
		return nil, p.unknownClass(class, onDisk)
	}
	ns, err := p.dir.Namespace(class)
	if err != nil {
		return nil, err
	}
	objs, err := ns.Objects()
	if err != nil {
		return nil, err
	}
	t := &Target{Class: class, ns: ns}
	ids := p.ids(class)
	if isHexID(idOrName) {
		id, err := ids.Parse(idOrName)
		if err != nil {
			// Parse refused the MAC. The id may still be stored: an
			// object from before the worker or class was renamed.
			t.ID, t.Foreign = strings.ToLower(idOrName), true
		} else {
			t.ID = id
		}
	} else {
		t.ID, t.Name = ids.FromName(idOrName), idOrName
	}
	var obj *storage.Object
	for i := range objs {
		if objs[i].ID == t.ID {
			obj = &objs[i]
		}
	}
	if obj == nil {
		return nil, p.noSuchObject(t, ns)
	}
	if t.Name == "" {
		t.Name = obj.Name
	}
	if facet == "" {
		t.Facets = obj.Facets
		path, _ := ns.Path(t.ID, nil)
		t.HasDatabase = exists(path)
		return t, nil
	}
	if t.Facet, err = ParseFacetPath(facet); err != nil {
		return nil, err
	}
	found := false
	for _, f := range obj.Facets {
		switch {
		case slices.Equal(f.Path, t.Facet):
			found = true
		case len(f.Path) > len(t.Facet) && slices.Equal(f.Path[:len(t.Facet)], t.Facet):
			t.Facets = append(t.Facets, f)
		}
	}
	if !found {
		return nil, fmt.Errorf("%s %s has no facet %s; %s", class, t.ID, FacetPath(t.Facet), facetList(obj.Facets))
	}
	t.HasDatabase = true
	return t, nil
}

func (p *Project) unknownClass(class string, onDisk []string) error {
	msg := fmt.Sprintf("unknown Durable Object class %q: ", class)
	if len(p.Classes) == 0 {
		msg += fmt.Sprintf("%s defines none", p.Config.File)
	} else {
		msg += fmt.Sprintf("%s defines %s", p.Config.File, strings.Join(p.Classes, ", "))
	}
	var other []string
	for _, c := range onDisk {
		if !slices.Contains(p.Classes, c) {
			other = append(other, c)
		}
	}
	if len(other) > 0 {
		msg += fmt.Sprintf(", and %s holds objects of %s", p.display(p.ObjectsDir()), strings.Join(other, ", "))
	}
	for _, c := range append(slices.Clone(p.Classes), other...) {
		if strings.EqualFold(c, class) {
			msg += fmt.Sprintf(" (did you mean %s? class names are case-sensitive)", c)
			break
		}
	}
	return errors.New(msg)
}

func (p *Project) noSuchObject(t *Target, ns *storage.Namespace) error {
	path, _ := ns.Path(t.ID, nil)
	what := fmt.Sprintf("id %s", t.ID)
	if t.Name != "" {
		what = fmt.Sprintf("name %s (id %s)", quote(t.Name), t.ID)
	}
	msg := fmt.Sprintf("no %s object with %s: looked for %s", t.Class, what, p.display(filepath.Dir(path)))
	if t.Foreign {
		msg += fmt.Sprintf("; the id was not made by %s of worker %q either, so it may belong to another class or worker", t.Class, p.WorkerName)
	} else if t.Name != "" {
		msg += "; nothing was stored under that name"
	}
	return errors.New(msg + " (isola objects lists the stored objects)")
}

func facetList(facets []storage.Facet) string {
	if len(facets) == 0 {
		return "it has no facets"
	}
	var names []string
	for _, f := range facets {
		names = append(names, FacetPath(f.Path))
	}
	return "its facets: " + strings.Join(names, ", ")
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// FacetPath joins a facet path with "/". Facet names may hold "/" and "%"
// themselves: those are written %2F and %25, so that ParseFacetPath can
// split the result again.
func FacetPath(path []string) string {
	esc := make([]string, len(path))
	for i, name := range path {
		esc[i] = strings.NewReplacer("%", "%25", "/", "%2F").Replace(name)
	}
	return strings.Join(esc, "/")
}

// ParseFacetPath splits a facet path written as FacetPath writes it.
func ParseFacetPath(s string) ([]string, error) {
	parts := strings.Split(s, "/")
	if len(parts) > storage.MaxFacetDepth {
		return nil, fmt.Errorf("bad facet path %q: facets nest at most %d deep, this names %d levels", s, storage.MaxFacetDepth, len(parts))
	}
	for i, part := range parts {
		if part == "" {
			return nil, fmt.Errorf("bad facet path %q: empty facet name (write nested facets as parent/child, and a \"/\" inside a name as %%2F)", s)
		}
		name, err := unescapeFacet(part)
		if err != nil {
			return nil, fmt.Errorf("bad facet path %q: %v", s, err)
		}
		parts[i] = name
	}
	return parts, nil
}

func unescapeFacet(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		switch strings.ToUpper(s[i+1 : min(i+3, len(s))]) {
		case "2F":
			b.WriteByte('/')
		case "25":
			b.WriteByte('%')
		default:
			return "", errors.New(`"%" must start %2F (a "/" in a facet name) or %25 (a "%")`)
		}
		i += 2
	}
	return b.String(), nil
}

// display shortens a path to one relative to the working directory when it
// lies below it.
func (p *Project) display(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}

// OpenStore opens the target's database read-only; close it when done.
// An object a running isola holds active cannot be opened (its database
// is locked): runtime.Actors.ReadStorage reads those.
func (p *Project) OpenStore(t *Target) (*storage.Store, error) { return p.open(t) }

// open opens the target's database read-only.
func (p *Project) open(t *Target) (*storage.Store, error) {
	s, err := t.ns.OpenReadOnly(t.ID, t.Facet)
	if err == nil {
		return s, nil
	}
	var se *storage.Error
	if errors.As(err, &se) && se.Code == sqliteBusy {
		return nil, fmt.Errorf("%s is in use: a running isola (isola dev) holds its database locked while the object is active, "+
			"until it has been idle for about 10 seconds; try again then, or stop isola", t)
	}
	return nil, fmt.Errorf("opening %s: %w", t, err)
}

// sqliteBusy and sqliteAuth are SQLite's result codes SQLITE_BUSY and
// SQLITE_AUTH (storage.Error.Code).
const (
	sqliteBusy = 5
	sqliteAuth = 23
)
