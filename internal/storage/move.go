package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MoveTo gives n's objects to the namespace to (a class renamed by a
// migration). It does nothing when n has nothing stored, and refuses to
// merge into a namespace that already has objects: two classes' objects
// under one name would be a silent data mix-up.
func (n *Namespace) MoveTo(to *Namespace) error {
	if _, err := os.Stat(n.dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(to.dir); err == nil {
		return fmt.Errorf("cannot rename the stored objects of %q to %q: %s already exists", n.name, to.name, to.dir)
	}
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	for p := range n.d.open {
		if rel, err := filepath.Rel(n.dir, p); err == nil && filepath.IsLocal(rel) {
			return fmt.Errorf("cannot rename the stored objects of %q while one is open", n.name)
		}
	}
	if err := os.Rename(n.dir, to.dir); err != nil {
		return err
	}
	if strings.HasPrefix(filepath.Base(to.dir), "~") {
		// A hashed directory name keeps its real name in .name.
		os.WriteFile(filepath.Join(to.dir, ".name"), []byte(to.name), 0o644)
	}
	return syncDir(filepath.Dir(to.dir))
}
