package workflows

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
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

// A journal made when the unfinished instances' index was keyed by status
// alone opens with the index keyed by creation time instead, and finds the
// same instances to resume.
func TestStoreReplacesTheOlderUnfinishedIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "workflows.sqlite")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error {
		for _, r := range []struct {
			id, status string
			created    int
		}{{"b", "queued", 2}, {"done", "complete", 1}, {"a", "running", 1}, {"c", "waitingForPause", 3}} {
			if _, err := tx.Exec(`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', ?, ?, '{}', ?)`,
				r.id, r.status, r.created); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP INDEX instances_unfinished;
	  CREATE INDEX instances_active ON instances(status) WHERE status IN ('queued', 'running', 'waitingForPause')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var names []string
	rows, err := s.read.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'instances' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if got := strings.Join(names, " "); strings.Contains(got, "instances_active") || !strings.Contains(got, "instances_unfinished") {
		t.Fatalf("indexes after reopening: %s", got)
	}
	active, err := s.Active()
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(active); got != "[[w a] [w b] [w c]]" {
		t.Fatalf("Active() = %s", got)
	}
}
