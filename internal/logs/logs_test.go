package logs

import (
	"fmt"
	"testing"
)

func TestRingKeepsTheLastEntries(t *testing.T) {
	h := New(3)
	for i := 1; i <= 5; i++ {
		h.Publish(Entry{Message: fmt.Sprint(i)})
	}
	got := h.Recent()
	if len(got) != 3 || got[0].Message != "3" || got[2].Message != "5" || got[2].Seq != 5 {
		t.Fatalf("Recent = %+v, want entries 3, 4, 5", got)
	}
}

func TestWatchSeesEveryLaterEntryOnce(t *testing.T) {
	h := New(10)
	h.Publish(Entry{Message: "before"})
	recent, ch, stop := h.Watch()
	defer stop()
	h.Publish(Entry{Message: "after"})
	if len(recent) != 1 || recent[0].Message != "before" {
		t.Fatalf("recent = %+v", recent)
	}
	if e := <-ch; e.Message != "after" || e.Seq != 2 {
		t.Fatalf("watched %+v, want the second entry", e)
	}
	stop()
	h.Publish(Entry{Message: "unwatched"})
	select {
	case e := <-ch:
		t.Fatalf("a stopped watcher got %+v", e)
	default:
	}
}

func TestSlowWatcherDoesNotBlockPublish(t *testing.T) {
	h := New(10)
	_, ch, stop := h.Watch()
	defer stop()
	for i := 0; i < watchBuffer+50; i++ {
		h.Publish(Entry{Message: fmt.Sprint(i)})
	}
	if len(ch) != watchBuffer {
		t.Fatalf("buffered %d entries, want %d (the rest dropped)", len(ch), watchBuffer)
	}
}
