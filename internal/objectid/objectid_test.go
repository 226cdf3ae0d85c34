package objectid

import (
	"errors"
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	a, b := New("w-A"), New("w-B")
	x := a.FromName("my-app")
	if len(x) != 64 || x != a.FromName("my-app") || x == b.FromName("my-app") || x == a.FromName("my-app2") {
		t.Fatalf("FromName not stable and namespaced: %s", x)
	}
	if got, err := a.Parse(strings.ToUpper(x)); err != nil || got != x {
		t.Fatalf("Parse(own id) = %q, %v", got, err)
	}
	if _, err := b.Parse(x); !errors.Is(err, ErrForeign) {
		t.Fatalf("Parse(foreign id) err = %v", err)
	}
	if _, err := a.Parse("xyz"); !errors.Is(err, ErrSyntax) {
		t.Fatalf("Parse(short) err = %v", err)
	}
	u1, u2 := a.Unique(), a.Unique()
	if u1 == u2 {
		t.Fatal("Unique repeated")
	}
	if _, err := a.Parse(u1); err != nil {
		t.Fatal(err)
	}
}
