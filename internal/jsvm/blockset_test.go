package jsvm

import (
	"math/rand/v2"
	"testing"
)

func TestBlockSetMatchesAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var s blockSet
	want := map[uintptr]bool{}
	for step := range 200000 {
		p := uintptr(0x7f0000000000 + r.IntN(5000)*16)
		if r.IntN(2) == 0 {
			s.add(p)
			want[p] = true
		} else {
			s.remove(p)
			delete(want, p)
		}
		if step%10000 == 0 || step == 199999 {
			got := map[uintptr]bool{}
			s.each(func(p uintptr) { got[p] = true })
			if len(got) != len(want) || s.len() != len(want) {
				t.Fatalf("step %d: set has %d (len %d), want %d", step, len(got), s.len(), len(want))
			}
			for p := range want {
				if !got[p] {
					t.Fatalf("step %d: %#x missing", step, p)
				}
			}
		}
	}
}
