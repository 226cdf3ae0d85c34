package jsvm

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// Blocks from the pages never overlap, hold what was written to them, and
// an emptied slab leaves its class's free list.
func TestPagesBlocks(t *testing.T) {
	if pages.base == 0 {
		t.Skip("no address space reserved on this platform; blocks come from libc")
	}
	type block struct {
		p    uintptr
		size uint64
		fill byte
	}
	r := rand.New(rand.NewPCG(1, 2))
	var live []block
	check := func(b block) {
		mem := unsafe.Slice((*byte)(unsafe.Add(nil, b.p)), b.size)
		for i, c := range mem {
			if c != b.fill {
				t.Fatalf("block %#x (%d bytes) byte %d = %d, want %d", b.p, b.size, i, c, b.fill)
			}
		}
	}
	for step := range 20000 {
		if len(live) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(live))
			check(live[i])
			pageFree(live[i].p)
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			continue
		}
		size := uint64(1 + r.IntN(pageSize))
		if r.IntN(8) == 0 {
			size = uint64(1 + r.IntN(slabPages*pageSize))
		}
		p := pageAlloc(size)
		if p == 0 || !owns(p) || p%16 != 0 || pageUsable(p) < size {
			t.Fatalf("step %d: block %#x for %d bytes (usable %d)", step, p, size, pageUsable(p))
		}
		b := block{p, size, byte(step)}
		mem := unsafe.Slice((*byte)(unsafe.Add(nil, p)), size)
		for i := range mem {
			mem[i] = b.fill
		}
		live = append(live, b)
	}
	for _, b := range live {
		check(b)
		pageFree(b.p)
	}
	mine := map[uintptr]bool{}
	for _, b := range live {
		mine[b.p] = true
	}
	pages.mu.Lock()
	defer pages.mu.Unlock()
	for c := range sizeClasses {
		for b := pages.free[c]; b != 0; b = (*freeLink)(unsafe.Add(nil, b)).next {
			if mine[b] {
				t.Errorf("class %d: block %#x of an emptied slab still on the free list", sizeClasses[c], b)
			}
		}
	}
}
