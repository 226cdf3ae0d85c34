package storage

import (
	"strings"
	"time"
)

// Description summarizes what an object stored, for operators.
type Description struct {
	Size     int64   // DatabaseSize
	KVKeys   int64   // pairs in the KV table
	Tables   []Table // the object's own SQL tables (not _cf_*, not sqlite_*)
	Alarm    time.Time
	HasAlarm bool
}

// Table is one SQL table of an object.
type Table struct {
	Name string
	Rows int64
}

// Describe summarizes the database. Open it with Namespace.OpenReadOnly to
// inspect an object that is not running.
func (s *Store) Describe() (Description, error) {
	var d Description
	var err error
	if d.Size, err = s.DatabaseSize(); err != nil {
		return d, err
	}
	if d.KVKeys, err = s.Count(); err != nil {
		return d, err
	}
	if d.Alarm, d.HasAlarm, err = s.GetAlarm(); err != nil {
		return d, err
	}
	names, err := s.queryTrustedText(`SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return d, err
	}
	for _, name := range names {
		rows, err := s.queryTrustedText(`SELECT count(*) FROM "` + strings.ReplaceAll(name, `"`, `""`) + `"`)
		if err != nil {
			// Virtual tables may not be countable without their module's
			// help; report what we can.
			d.Tables = append(d.Tables, Table{Name: name, Rows: -1})
			continue
		}
		var n int64
		if len(rows) == 1 {
			for _, c := range rows[0] {
				n = n*10 + int64(c-'0')
			}
		}
		d.Tables = append(d.Tables, Table{Name: name, Rows: n})
	}
	return d, nil
}
