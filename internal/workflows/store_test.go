package workflows

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// A journal written before the code columns existed opens, gains them, and
// keeps its rows.
func TestStoreAddsColumnsToOlderDatabases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "workflows.sqlite")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', 'old', 'complete', '{}', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range addedColumns {
		if _, err := db.Exec(`ALTER TABLE ` + c.table + ` DROP COLUMN ` + c.column); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, err := s.Instance("w", "old")
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != Complete || in.CodeStarted != "" {
		t.Fatalf("instance after reopening: %+v", in)
	}
	if _, err := s.Steps("w", "old"); err != nil {
		t.Fatal(err)
	}
}
