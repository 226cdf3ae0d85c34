package storage

import (
	"path/filepath"
	"testing"
	"time"
)

func TestAlarm(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		if _, ok, err := s.GetAlarm(); ok || err != nil {
			t.Fatal(ok, err)
		}
		must(t, s.DeleteAlarm()) // nothing to delete
		at := time.UnixMilli(1_800_000_000_123)
		must(t, s.SetAlarm(at))
		got, ok, err := s.GetAlarm()
		must(t, err)
		if !ok || !got.Equal(at) {
			t.Fatal(got, ok)
		}
		later := at.Add(time.Hour)
		must(t, s.SetAlarm(later)) // one alarm per object: replaced
		if got, _, _ := s.GetAlarm(); !got.Equal(later) {
			t.Fatal(got)
		}
		must(t, s.DeleteAlarm())
		if _, ok, _ := s.GetAlarm(); ok {
			t.Fatal("alarm survived DeleteAlarm")
		}
		wantErr(t, s.SetAlarm(time.Unix(0, 0)), "TypeError", "setAlarm() cannot be called with an alarm time <= 0")
		wantErr(t, s.SetAlarm(time.UnixMilli(-5)), "TypeError", "<= 0")
		wantErr(t, s.SetAlarm(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)), "RangeError", "2262")
	})
}

func TestAlarmPersists(t *testing.T) {
	s := diskStore(t)
	at := time.UnixMilli(1_800_000_000_000)
	must(t, s.SetAlarm(at))
	s = reopen(t, s)
	got, ok, err := s.GetAlarm()
	must(t, err)
	if !ok || !got.Equal(at) {
		t.Fatal(got, ok)
	}
	must(t, s.DeleteAlarm())
	s = reopen(t, s)
	if _, ok, _ := s.GetAlarm(); ok {
		t.Fatal("deleted alarm came back")
	}
}

// TestAlarmNotifications checks that the scheduler hears only of durable
// alarm changes.
func TestAlarmNotifications(t *testing.T) {
	type note struct {
		at time.Time
		ok bool
	}
	var notes []note
	s, err := Open(filepath.Join(t.TempDir(), "db.sqlite"), Options{OnAlarmChange: func(at time.Time, ok bool) {
		notes = append(notes, note{at, ok})
	}})
	must(t, err)
	defer s.Close()
	a1, a2 := time.UnixMilli(1_800_000_000_000), time.UnixMilli(1_900_000_000_000)

	must(t, s.SetAlarm(a1)) // autocommit: durable at once
	if len(notes) != 1 || !notes[0].ok || !notes[0].at.Equal(a1) {
		t.Fatalf("%v", notes)
	}

	must(t, s.Begin())
	must(t, s.SetAlarm(a2))
	if len(notes) != 1 {
		t.Fatal("notified before commit")
	}
	must(t, s.Rollback())
	if len(notes) != 1 {
		t.Fatal("notified of a rolled back alarm")
	}

	must(t, s.Begin())
	must(t, s.DeleteAlarm())
	must(t, s.Commit())
	if len(notes) != 2 || notes[1].ok {
		t.Fatalf("%v", notes)
	}

	txn, err := s.BeginTxn()
	must(t, err)
	must(t, s.SetAlarm(a2))
	must(t, txn.Commit())
	if len(notes) != 3 || !notes[2].at.Equal(a2) {
		t.Fatalf("%v", notes)
	}

	must(t, s.DeleteAll(DeleteAllOptions{DeleteAlarm: true}))
	if len(notes) != 4 || notes[3].ok {
		t.Fatalf("%v", notes)
	}
}

func TestFacetCannotSetAlarm(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db.sqlite"), Options{Facet: true})
	must(t, err)
	defer s.Close()
	wantErr(t, s.SetAlarm(time.Now()), "Error", "Facets currently cannot set alarms.")
}
