package runtime

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Paths written and read without encoding/json agree with it, whatever the
// names hold.
func TestCallPathsRoundTrip(t *testing.T) {
	for _, p := range [][]string{nil, {"a"}, {"fetch"}, {"a", "b"}, {`q"x`}, {`b\s`}, {"ü"}, {""}, {"\n"}, {"a,b"}, {`","`}} {
		s := pathJSON(p)
		var want []string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		got, err := parsePath(s)
		if err != nil || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%q: got %q want %q (%v)", s, got, want, err)
		}
		m, _ := json.Marshal(p)
		got2, _ := parsePath(string(m))
		if !reflect.DeepEqual(got2, want) && !(len(got2) == 0 && len(want) == 0) {
			t.Fatalf("%q: json.Marshal form parsed %q", m, got2)
		}
	}
}
