package storage

import (
	"math"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// The alarm is a row of _cf_METADATA (key 1, nanoseconds since the Unix
// epoch, NULL when unset), as in workerd (src/workerd/util/sqlite-metadata.h),
// so it commits and rolls back together with the object's other writes.
const metaSchema = `CREATE TABLE IF NOT EXISTS _cf_METADATA (
  key INTEGER PRIMARY KEY,
  value BLOB
)`

var maxAlarm = time.Unix(0, math.MaxInt64)

type metaStmts struct {
	ready              bool
	getAlarm, setAlarm uintptr
}

func (m *metaStmts) finalize(s *Store) {
	for _, p := range []*uintptr{&m.getAlarm, &m.setAlarm} {
		if *p != 0 {
			sqlite3.Xsqlite3_finalize(s.tls, *p)
			*p = 0
		}
	}
	m.ready = false
}

func (s *Store) prepareMeta() error {
	var err error
	if s.meta.getAlarm, err = s.prepareTrusted("SELECT value FROM _cf_METADATA WHERE key = 1"); err != nil {
		return err
	}
	if s.meta.setAlarm, err = s.prepareTrusted("INSERT INTO _cf_METADATA VALUES(1, ?) ON CONFLICT DO UPDATE SET value = excluded.value"); err != nil {
		return err
	}
	s.meta.ready = true
	return nil
}

// GetAlarm returns the alarm time; ok is false when none is set. It sees
// the writes of the current batch or transaction.
func (s *Store) GetAlarm() (t time.Time, ok bool, err error) {
	if err := s.check(); err != nil {
		return time.Time{}, false, err
	}
	if !s.meta.ready {
		return time.Time{}, false, nil
	}
	st := s.meta.getAlarm
	s.trusted = true
	rc := sqlite3.Xsqlite3_step(s.tls, st)
	defer sqlite3.Xsqlite3_reset(s.tls, st)
	switch rc {
	case sqlite3.SQLITE_ROW:
		if sqlite3.Xsqlite3_column_type(s.tls, st, 0) == sqlite3.SQLITE_NULL {
			return time.Time{}, false, nil
		}
		return time.Unix(0, sqlite3.Xsqlite3_column_int64(s.tls, st, 0)), true, nil
	case sqlite3.SQLITE_DONE:
		return time.Time{}, false, nil
	default:
		return time.Time{}, false, s.dbError(rc)
	}
}

// SetAlarm sets the object's one alarm. Like any write it joins the current
// batch or transaction. Times must be after the Unix epoch; the JavaScript
// side moves times in the past to now, as workerd does, and the runtime's
// scheduler learns of durable changes through Options.OnAlarmChange.
func (s *Store) SetAlarm(t time.Time) error {
	if s.opts.Facet {
		return &Error{Type: "Error", Message: "Facets currently cannot set alarms."}
	}
	if !t.After(time.Unix(0, 0)) {
		return &Error{Type: "TypeError", Message: "setAlarm() cannot be called with an alarm time <= 0"}
	}
	if t.After(maxAlarm) {
		// Stored as nanoseconds since the epoch, as in workerd.
		return &Error{Type: "RangeError", Message: "setAlarm() cannot be called with an alarm time after the year 2262"}
	}
	return s.setAlarm(t)
}

// DeleteAlarm removes the alarm, if any.
func (s *Store) DeleteAlarm() error {
	if err := s.checkWrite(); err != nil {
		return err
	}
	if !s.meta.ready {
		return nil
	}
	return s.setAlarm(time.Time{})
}

// setAlarm writes the alarm; the zero time clears it.
func (s *Store) setAlarm(t time.Time) error {
	if err := s.beforeWrite(); err != nil {
		return err
	}
	if !s.meta.ready {
		if err := s.execTrusted(metaSchema); err != nil {
			return s.writeFailed(err)
		}
		if err := s.prepareMeta(); err != nil {
			return err
		}
	}
	st := s.meta.setAlarm
	if t.IsZero() {
		sqlite3.Xsqlite3_bind_null(s.tls, st, 1)
	} else {
		sqlite3.Xsqlite3_bind_int64(s.tls, st, 1, t.UnixNano())
	}
	if err := s.run(st); err != nil {
		return s.writeFailed(err)
	}
	s.alarmDirty = true
	if s.inAutocommit() {
		s.afterDurable()
	}
	return nil
}
