package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Directory maps Durable Objects to database files under a root directory:
//
//	<root>/<namespace>/<object id>/storage.sqlite
//	<root>/<namespace>/<object id>/facets/<facet>/storage.sqlite
//	<root>/<namespace>/<object id>/facets/<facet>/facets/<child facet>/storage.sqlite
//
// An object's facets live inside the object's directory, each facet in its
// own database next to its parent's, so copying or deleting an object's
// directory copies or deletes all of it, and deleting a facet's directory
// deletes the facet and its own facets.
//
// Every name (namespace, object id, facet) is stored percent-encoded: bytes
// other than a-z, 0-9, '_', '-' and a non-leading '.' become %XX, so any
// string is a safe file name, even on case-insensitive file systems. A name
// whose encoding would be too long for a file name is stored as "~" and a
// hash, with the name itself in a file ".name" in that directory.
//
// A Directory also tracks the Stores it opened, so that an object cannot be
// opened twice in this process, nor deleted while open.
type Directory struct {
	root string
	mu   sync.Mutex
	open map[string]*Store // by database path
}

// NewDirectory returns the Directory rooted at root (created on first use).
func NewDirectory(root string) *Directory {
	return &Directory{root: root, open: map[string]*Store{}}
}

// Root returns the root directory.
func (d *Directory) Root() string { return d.root }

// Namespace returns the namespace called name (typically the Durable Object
// class, or the script and class).
func (d *Directory) Namespace(name string) (*Namespace, error) {
	if name == "" {
		return nil, errors.New("storage: empty namespace name")
	}
	return &Namespace{d: d, name: name, dir: filepath.Join(d.root, encodeName(name))}, nil
}

// Namespaces lists the namespaces that have stored anything.
func (d *Directory) Namespaces() ([]string, error) {
	return listNames(d.root)
}

// Namespace is the set of objects of one Durable Object class.
type Namespace struct {
	d    *Directory
	name string
	dir  string
}

// Name returns the namespace's name.
func (n *Namespace) Name() string { return n.name }

// dbFile is the database file name in an object's or facet's directory.
const dbFile = "storage.sqlite"

// MaxFacetDepth is the deepest facet nesting: workerd allows a facet tree of
// depth 4 including the root object.
const MaxFacetDepth = 3

// MaxNameLength is the longest facet name (workerd: 256 characters).
const MaxNameLength = 256

// dirOf returns the directory of an object or, with a facet path, of one of
// its facets.
func (n *Namespace) dirOf(id string, facet []string) (string, error) {
	if id == "" {
		return "", errors.New("storage: empty object id")
	}
	if len(facet) > MaxFacetDepth {
		return "", fmt.Errorf("storage: facets nest at most %d deep", MaxFacetDepth)
	}
	parts := []string{n.dir, encodeName(id)}
	for _, f := range facet {
		if f == "" || utf8.RuneCountInString(f) > MaxNameLength {
			return "", fmt.Errorf("storage: invalid facet name %q: it must have 1 to %d characters", f, MaxNameLength)
		}
		parts = append(parts, "facets", encodeName(f))
	}
	return filepath.Join(parts...), nil
}

// Path returns the database file of an object (facet nil) or of one of its
// facets (facet lists the names from the outermost facet in).
func (n *Namespace) Path(id string, facet []string) (string, error) {
	dir, err := n.dirOf(id, facet)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, dbFile), nil
}

// Open opens (creating it if needed) the database of an object or facet.
// Facets get Options.Facet set. The Store must be closed before the object
// or facet can be opened again or deleted.
func (n *Namespace) Open(id string, facet []string, opts Options) (*Store, error) {
	dir, err := n.dirOf(id, facet)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, dbFile)
	if len(facet) > 0 {
		opts.Facet = true
	}
	d := n.d
	d.mu.Lock()
	if _, busy := d.open[path]; busy {
		d.mu.Unlock()
		return nil, fmt.Errorf("storage: %s is already open", path)
	}
	d.open[path] = nil // reserved while opening
	d.mu.Unlock()
	release := func() {
		d.mu.Lock()
		delete(d.open, path)
		d.mu.Unlock()
	}
	if !opts.ReadOnly {
		if err := n.writeNames(id, facet); err != nil {
			release()
			return nil, err
		}
	}
	s, err := Open(path, opts)
	if err != nil {
		release()
		return nil, err
	}
	s.onClose = release
	d.mu.Lock()
	d.open[path] = s
	d.mu.Unlock()
	return s, nil
}

// OpenReadOnly opens an existing object or facet for reading, for operators.
// It fails while the runtime holds the object open (unless the runtime opened
// it with Options.Shared).
func (n *Namespace) OpenReadOnly(id string, facet []string) (*Store, error) {
	return n.Open(id, facet, Options{ReadOnly: true, BusyTimeout: 100 * time.Millisecond})
}

// writeNames creates the directories of an object or facet and records the
// names stored as hashes.
func (n *Namespace) writeNames(id string, facet []string) error {
	type named struct{ dir, name string }
	var hashed []named
	add := func(dir, name string) {
		if strings.HasPrefix(filepath.Base(dir), "~") {
			hashed = append(hashed, named{dir, name})
		}
	}
	add(n.dir, n.name)
	dir := filepath.Join(n.dir, encodeName(id))
	add(dir, id)
	for _, f := range facet {
		dir = filepath.Join(dir, "facets", encodeName(f))
		add(dir, f)
	}
	if _, err := mkdirAll(dir); err != nil {
		return err
	}
	for _, h := range hashed {
		p := filepath.Join(h.dir, ".name")
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := os.WriteFile(p, []byte(h.name), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// objectNameFile, in an object's directory, holds the name the object's id
// was made from (idFromName, getByName). Ids are one-way hashes of names, so
// without it an operator could not tell which object is which. It is a
// plain file, not a directory, so it is never taken for a facet or object.
const objectNameFile = "name.txt"

// SetObjectName records that the object id was made from name, so that
// Objects can show it. The name is written once: later calls with the same
// name do nothing (they cost one small read), and a different name is an
// error, since one id cannot come from two names of one namespace. The
// object's directory is created if needed.
func (n *Namespace) SetObjectName(id, name string) error {
	dir, err := n.dirOf(id, nil)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, objectNameFile)
	old, err := os.ReadFile(path)
	if err == nil && len(old) > 0 {
		if string(old) != name {
			return fmt.Errorf("storage: object %s of %s already has the name %q, not %q", id, n.name, old, name)
		}
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := n.writeNames(id, nil); err != nil {
		return err
	}
	// Written aside, synced and renamed so that a crash never leaves half a
	// name (an empty file, which a crash could still leave behind, counts
	// as no name and is rewritten).
	tmp, err := os.CreateTemp(dir, objectNameFile+".tmp-*")
	if err != nil {
		return err
	}
	werr := tmp.Chmod(0o644) // as readable as the databases; CreateTemp makes it private
	if werr == nil {
		_, werr = tmp.WriteString(name)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	return nil
}

// objectName reads the name recorded by SetObjectName ("" when none).
func objectName(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, objectNameFile))
	if err != nil {
		return ""
	}
	return string(b)
}

// Object describes an object's stored files.
type Object struct {
	ID string
	// Name is the name the id was made from (SetObjectName), or "" when the
	// object was not made from a name or its name was not recorded.
	Name string
	// Size is the size in bytes of the object's own database files (WAL
	// included, shared-memory index not), not its facets'.
	Size int64
	// Facets lists its facets, outermost first, each followed by its own.
	Facets []Facet
}

// Facet describes a facet's stored files.
type Facet struct {
	Path []string // facet names from the outermost in
	Size int64
}

// Objects lists the objects of the namespace that have a database, with
// their facets, sorted by id.
func (n *Namespace) Objects() ([]Object, error) {
	ids, err := listNames(n.dir)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, id := range ids {
		dir := filepath.Join(n.dir, encodeName(id))
		facets, err := listFacets(dir, nil)
		if err != nil {
			return nil, err
		}
		size, has := dbSize(dir)
		if !has && len(facets) == 0 {
			continue
		}
		out = append(out, Object{ID: id, Name: objectName(dir), Size: size, Facets: facets})
	}
	return out, nil
}

// Facets lists an object's facets (at every depth).
func (n *Namespace) Facets(id string) ([]Facet, error) {
	dir, err := n.dirOf(id, nil)
	if err != nil {
		return nil, err
	}
	return listFacets(dir, nil)
}

func listFacets(dir string, prefix []string) ([]Facet, error) {
	fdir := filepath.Join(dir, "facets")
	names, err := listNames(fdir)
	if err != nil {
		return nil, err
	}
	var out []Facet
	for _, name := range names {
		path := append(slices.Clone(prefix), name)
		sub := filepath.Join(fdir, encodeName(name))
		if size, ok := dbSize(sub); ok {
			out = append(out, Facet{Path: path, Size: size})
		}
		children, err := listFacets(sub, path)
		if err != nil {
			return nil, err
		}
		out = append(out, children...)
	}
	return out, nil
}

// dbSize sums the database files in dir; ok is false when there is none.
// The shared-memory index (-shm) is left out: it holds no data, and a
// read-only connection (an operator's) leaves a 32 KiB one behind, which
// would make an object seem to grow by being looked at.
func dbSize(dir string) (int64, bool) {
	var size int64
	ok := false
	for _, suffix := range []string{"", "-wal", "-journal"} {
		if fi, err := os.Stat(filepath.Join(dir, dbFile+suffix)); err == nil {
			size += fi.Size()
			if suffix == "" {
				ok = true
			}
		}
	}
	return size, ok
}

// DeleteObject deletes an object and all its facets. None of them may be
// open.
func (n *Namespace) DeleteObject(id string) error {
	dir, err := n.dirOf(id, nil)
	if err != nil {
		return err
	}
	return n.d.removeTree(dir)
}

// DeleteFacet deletes a facet's database and its own facets
// (ctx.facets.delete()). None of them may be open.
func (n *Namespace) DeleteFacet(id string, facet []string) error {
	if len(facet) == 0 {
		return errors.New("storage: DeleteFacet needs a facet path")
	}
	dir, err := n.dirOf(id, facet)
	if err != nil {
		return err
	}
	return n.d.removeTree(dir)
}

func (d *Directory) removeTree(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for path := range d.open {
		if path == dir || strings.HasPrefix(path, dir+string(filepath.Separator)) {
			return fmt.Errorf("storage: cannot delete %s: %s is open", dir, path)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// encodeName turns any name into a file name; see Directory.
func encodeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' && i > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() > 200 {
		sum := sha256.Sum256([]byte(name))
		return "~" + hex.EncodeToString(sum[:20])
	}
	return b.String()
}

// decodeName reverses encodeName for the entry called enc in dir.
func decodeName(dir, enc string) (string, bool) {
	if strings.HasPrefix(enc, "~") {
		b, err := os.ReadFile(filepath.Join(dir, enc, ".name"))
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	var b []byte
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(enc) {
			return "", false
		}
		v, err := hex.DecodeString(enc[i+1 : i+3])
		if err != nil {
			return "", false
		}
		b = append(b, v[0])
		i += 2
	}
	return string(b), true
}

// listNames lists the decoded names of the subdirectories of dir, sorted.
func listNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if name, ok := decodeName(dir, e.Name()); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// mkdirAll is os.MkdirAll that returns the directories it created.
func mkdirAll(dir string) ([]string, error) {
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return created, nil
}

// parents returns the parent directories of dirs.
func parents(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = filepath.Dir(d)
	}
	return out
}

// syncDir fsyncs a directory, making the names in it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("storage: fsync %s: %w", dir, err)
	}
	return nil
}
