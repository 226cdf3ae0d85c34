package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestKVBasics(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		if _, ok := get(t, s, "missing"); ok {
			t.Fatal("found a key in an empty store")
		}
		if ok, err := s.Delete("missing"); err != nil || ok {
			t.Fatal(ok, err)
		}
		must(t, s.Put("a", []byte("1")))
		must(t, s.Put("a", []byte("2"))) // overwrite
		if v, ok := get(t, s, "a"); !ok || v != "2" {
			t.Fatalf("got %q %v", v, ok)
		}
		// The empty key, keys with NUL bytes and empty values are all
		// distinct, ordinary keys and values.
		must(t, s.Put("", []byte("empty key")))
		must(t, s.Put("a\x00b", []byte{0, 1, 2, 0}))
		must(t, s.Put("empty", nil))
		if v, ok := get(t, s, ""); !ok || v != "empty key" {
			t.Fatalf("empty key: %q %v", v, ok)
		}
		if v, ok := get(t, s, "a\x00b"); !ok || v != "\x00\x01\x02\x00" {
			t.Fatalf("NUL key: %q %v", v, ok)
		}
		v, ok, err := s.Get("empty")
		must(t, err)
		if !ok || v == nil || len(v) != 0 {
			t.Fatalf("empty value: %v %v", v, ok)
		}
		if n, _ := s.Count(); n != 4 {
			t.Fatalf("count %d", n)
		}
		if ok, err := s.Delete("a"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if _, ok := get(t, s, "a"); ok {
			t.Fatal("deleted key still there")
		}
		// A large value (1 MiB of random bytes) round-trips.
		big := make([]byte, 1<<20)
		for i := range big {
			big[i] = byte(rand.Uint32())
		}
		must(t, s.Put("big", big))
		got, _, err := s.Get("big")
		must(t, err)
		if !bytes.Equal(got, big) {
			t.Fatal("big value corrupted")
		}
	})
}

func TestKVValueTooBig(t *testing.T) {
	s := memStore(t)
	err := s.Put("k", make([]byte, 2300000))
	wantErr(t, err, "Error", "string or blob too big: SQLITE_TOOBIG")
	if _, ok := get(t, s, "k"); ok {
		t.Fatal("oversized value stored")
	}
}

func TestKVMany(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		must(t, s.PutMany([]KV{{"c", []byte("3")}, {"a", []byte("1")}, {"b", []byte("2")}}))
		got, err := s.GetMany([]string{"c", "missing", "a", "c"})
		must(t, err)
		want := []KV{{"a", []byte("1")}, {"c", []byte("3")}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("GetMany = %v, want %v (sorted, deduplicated, missing left out)", got, want)
		}
		n, err := s.DeleteMany([]string{"a", "missing", "a", "b"})
		must(t, err)
		if n != 2 {
			t.Fatalf("DeleteMany counted %d, want 2", n)
		}
		if n, _ := s.Count(); n != 1 {
			t.Fatalf("%d keys left, want 1", n)
		}
	})
}

func TestKVBatchLimits(t *testing.T) {
	s := memStore(t)
	keys := make([]string, MaxBatchKeys+1)
	entries := make([]KV, MaxBatchKeys+1)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
		entries[i] = KV{keys[i], []byte("v")}
	}
	_, err := s.GetMany(keys)
	wantErr(t, err, "RangeError", "Maximum number of keys is 128.")
	wantErr(t, s.PutMany(entries), "RangeError", "Maximum number of keys is 128.")
	_, err = s.DeleteMany(keys)
	wantErr(t, err, "RangeError", "Maximum number of keys is 128.")
	if n, _ := s.Count(); n != 0 {
		t.Fatal("a refused batch wrote something")
	}
	// Exactly the limit is fine.
	must(t, s.PutMany(entries[:MaxBatchKeys]))
	got, err := s.GetMany(keys[:MaxBatchKeys])
	must(t, err)
	if len(got) != MaxBatchKeys {
		t.Fatalf("got %d pairs", len(got))
	}
	n, err := s.DeleteMany(keys[:MaxBatchKeys])
	must(t, err)
	if n != MaxBatchKeys {
		t.Fatalf("deleted %d", n)
	}
}

func TestKVPutManyIsAtomic(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		must(t, s.Put("a", []byte("old")))
		err := s.PutMany([]KV{{"a", []byte("new")}, {"b", []byte("b")}, {"c", make([]byte, 2300000)}})
		wantErr(t, err, "Error", "SQLITE_TOOBIG")
		if v, _ := get(t, s, "a"); v != "old" {
			t.Fatalf("a = %q: a failed PutMany was partly applied", v)
		}
		if _, ok := get(t, s, "b"); ok {
			t.Fatal("b written by a failed PutMany")
		}
		// Inside a batch too: the failed PutMany leaves the batch's other
		// writes alone.
		must(t, s.Begin())
		must(t, s.Put("x", []byte("x")))
		if err := s.PutMany([]KV{{"y", []byte("y")}, {"z", make([]byte, 2300000)}}); err == nil {
			t.Fatal("no error")
		}
		must(t, s.Commit())
		if _, ok := get(t, s, "x"); !ok {
			t.Fatal("x lost")
		}
		if _, ok := get(t, s, "y"); ok {
			t.Fatal("y written")
		}
	})
}

// listModel is what List must return: the keys matching every option,
// computed the obvious way.
func listModel(keys []string, o ListOptions) []string {
	var out []string
	for _, k := range keys {
		if o.Start != nil && k < *o.Start ||
			o.StartAfter != nil && k <= *o.StartAfter ||
			o.End != nil && k >= *o.End ||
			o.Prefix != nil && !strings.HasPrefix(k, *o.Prefix) {
			continue
		}
		out = append(out, k)
	}
	slices.Sort(out)
	if o.Reverse {
		slices.Reverse(out)
	}
	if o.Limit > 0 && len(out) > o.Limit {
		out = out[:o.Limit]
	}
	return out
}

func listKeys(t *testing.T, s *Store, o ListOptions) []string {
	t.Helper()
	kvs, err := s.List(o)
	must(t, err)
	var keys []string
	for _, kv := range kvs {
		if string(kv.Value) != "v:"+kv.Key {
			t.Fatalf("key %q has value %q", kv.Key, kv.Value)
		}
		keys = append(keys, kv.Key)
	}
	return keys
}

func TestKVListExamples(t *testing.T) {
	s := memStore(t)
	for _, k := range []string{"a", "b", "c", "d", "e", "ba", "bb", "bc", "c\x00", "c\xff", "\xff", "\xff\xff", "\xff\xffz"} {
		must(t, s.Put(k, []byte("v:"+k)))
	}
	for _, tc := range []struct {
		name string
		o    ListOptions
		want []string
	}{
		{"all", ListOptions{}, []string{"a", "b", "ba", "bb", "bc", "c", "c\x00", "c\xff", "d", "e", "\xff", "\xff\xff", "\xff\xffz"}},
		{"start end", ListOptions{Start: sp("b"), End: sp("c")}, []string{"b", "ba", "bb", "bc"}},
		{"startAfter", ListOptions{StartAfter: sp("c"), End: sp("d")}, []string{"c\x00", "c\xff"}},
		{"startAfter empty excludes the empty key only", ListOptions{StartAfter: sp(""), Limit: 1}, []string{"a"}},
		// reverse reads the same range from its end: start stays
		// inclusive, end exclusive.
		{"reverse", ListOptions{Start: sp("b"), End: sp("d"), Reverse: true}, []string{"c\xff", "c\x00", "c", "bc", "bb", "ba", "b"}},
		{"reverse limit", ListOptions{End: sp("c"), Reverse: true, Limit: 2}, []string{"bc", "bb"}},
		{"limit", ListOptions{Limit: 3}, []string{"a", "b", "ba"}},
		{"prefix", ListOptions{Prefix: sp("b")}, []string{"b", "ba", "bb", "bc"}},
		{"prefix reverse limit", ListOptions{Prefix: sp("b"), Reverse: true, Limit: 2}, []string{"bc", "bb"}},
		{"prefix start inside", ListOptions{Prefix: sp("b"), Start: sp("bb")}, []string{"bb", "bc"}},
		{"prefix start after it", ListOptions{Prefix: sp("b"), Start: sp("c")}, nil},
		{"prefix end inside", ListOptions{Prefix: sp("b"), End: sp("bb")}, []string{"b", "ba"}},
		{"prefix end beyond", ListOptions{Prefix: sp("b"), End: sp("z")}, []string{"b", "ba", "bb", "bc"}},
		{"prefix end before", ListOptions{Prefix: sp("b"), End: sp("b")}, nil},
		{"prefix ending in 0xff", ListOptions{Prefix: sp("c\xff")}, []string{"c\xff"}},
		{"prefix of only 0xff", ListOptions{Prefix: sp("\xff")}, []string{"\xff", "\xff\xff", "\xff\xffz"}},
		{"prefix of only 0xff with end", ListOptions{Prefix: sp("\xff\xff"), End: sp("\xff\xffa")}, []string{"\xff\xff"}},
		{"empty prefix is no prefix", ListOptions{Prefix: sp(""), Limit: 2}, []string{"a", "b"}},
		{"end before start", ListOptions{Start: sp("c"), End: sp("b")}, nil},
		{"end equals start", ListOptions{Start: sp("c"), End: sp("c")}, nil},
		{"empty end", ListOptions{End: sp("")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := listKeys(t, s, tc.o); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	_, err := s.List(ListOptions{Start: sp("a"), StartAfter: sp("b")})
	wantErr(t, err, "TypeError", "list() cannot be called with both start and startAfter values.")
	_, err = s.List(ListOptions{Limit: -1})
	wantErr(t, err, "TypeError", "List limit must be positive.")
}

// TestKVListModel compares List with listModel over random keys and random
// options drawn from an alphabet full of edge cases (empty strings, NUL and
// 0xff bytes).
func TestKVListModel(t *testing.T) {
	s := memStore(t)
	alphabet := []string{"", "a", "b", "\x00", "\xff", "é"}
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var b strings.Builder
		for n := r.IntN(4); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	seen := map[string]bool{}
	var keys []string
	for range 150 {
		k := word()
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
			must(t, s.Put(k, []byte("v:"+k)))
		}
	}
	opt := func() *string {
		if r.IntN(2) == 0 {
			return nil
		}
		w := word()
		return &w
	}
	for i := range 3000 {
		o := ListOptions{Start: opt(), End: opt(), Prefix: opt(), Reverse: r.IntN(2) == 0}
		if o.Start == nil {
			o.StartAfter = opt()
		}
		if r.IntN(2) == 0 {
			o.Limit = 1 + r.IntN(5)
		}
		got, want := listKeys(t, s, o), listModel(keys, o)
		if !slices.Equal(got, want) {
			show := func(p *string) string {
				if p == nil {
					return "nil"
				}
				return fmt.Sprintf("%q", *p)
			}
			t.Fatalf("case %d: start=%s startAfter=%s end=%s prefix=%s reverse=%v limit=%d:\ngot  %q\nwant %q",
				i, show(o.Start), show(o.StartAfter), show(o.End), show(o.Prefix), o.Reverse, o.Limit, got, want)
		}
	}
}

func TestKVReadsBeforeTableExists(t *testing.T) {
	s := memStore(t)
	// Reads and deletes on a fresh object neither fail nor create _cf_KV.
	kvs, err := s.List(ListOptions{})
	must(t, err)
	if len(kvs) != 0 {
		t.Fatal(kvs)
	}
	if n, err := s.DeleteMany([]string{"a"}); err != nil || n != 0 {
		t.Fatal(n, err)
	}
	if got := one(t, s, "SELECT count(*) FROM sqlite_schema"); got != int64(0) {
		t.Fatalf("%v schema objects in a fresh database", got)
	}
}
