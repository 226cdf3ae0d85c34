package workflows

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// olderJournal makes a journal holding the rows inserts make, rewrites it
// as an older release would have left it (older: SQL run on the closed
// database), and opens it again.
func olderJournal(t *testing.T, inserts []string, older ...string) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workflows.sqlite")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error {
		for _, q := range inserts {
			if _, err := tx.Exec(q); err != nil {
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
	for _, q := range older {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A journal written before the code columns existed opens, gains them, and
// keeps its rows.
func TestStoreAddsColumnsToOlderDatabases(t *testing.T) {
	var drops []string
	for _, c := range addedColumns {
		drops = append(drops, `ALTER TABLE `+c.table+` DROP COLUMN `+c.column)
	}
	s := olderJournal(t, []string{`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', 'old', 'complete', '{}', 1)`}, drops...)
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
	s := olderJournal(t, []string{
		`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', 'b', 'queued', '{}', 2)`,
		`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', 'done', 'complete', '{}', 1)`,
		`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', 'a', 'running', '{}', 1)`,
		`INSERT INTO instances (workflow, id, status, params, created_ms) VALUES ('w', 'c', 'waitingForPause', '{}', 3)`,
	}, `DROP INDEX instances_unfinished`,
		`CREATE INDEX instances_active ON instances(status) WHERE status IN ('queued', 'running', 'waitingForPause')`)
	var names []string
	rows, err := s.read.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'instances' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
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
