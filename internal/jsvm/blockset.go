package jsvm

// blockSet is a set of block addresses: open addressing with linear probing
// in a power-of-two table at most 7/8 full (deleted entries included), at
// most 3/4 full of live ones after a rehash. An idle isolate holds ~90
// blocks: a Go map of them cost ~4.8 KB per isolate, this 1 KB.
type blockSet struct {
	slots []uintptr // 0: empty; tombstone: deleted
	n     int       // live entries
	used  int       // live entries and tombstones
}

const tombstone = ^uintptr(0)

func hashBlock(p uintptr) uintptr {
	// Blocks are 16-byte aligned and cluster; mix the bits.
	p >>= 4
	p ^= p >> 17
	p *= 0x9e3779b97f4a7c15
	return p ^ p>>29
}

func (s *blockSet) len() int { return s.n }

func (s *blockSet) add(p uintptr) {
	if (s.used+1)*8 > len(s.slots)*7 {
		s.grow()
	}
	mask := uintptr(len(s.slots) - 1)
	for i := hashBlock(p) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = p
			s.n++
			s.used++
			return
		case p:
			return
		}
	}
}

func (s *blockSet) remove(p uintptr) {
	if len(s.slots) == 0 {
		return
	}
	mask := uintptr(len(s.slots) - 1)
	for i := hashBlock(p) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return
		case p:
			s.slots[i] = tombstone
			s.n--
			return
		}
	}
}

func (s *blockSet) grow() {
	size := 128
	for size*3 < (s.n+1)*4 {
		size *= 2
	}
	old := s.slots
	s.slots, s.n, s.used = make([]uintptr, size), 0, 0
	for _, p := range old {
		if p != 0 && p != tombstone {
			s.add(p)
		}
	}
}

// each calls f for every block in the set.
func (s *blockSet) each(f func(uintptr)) {
	for _, p := range s.slots {
		if p != 0 && p != tombstone {
			f(p)
		}
	}
}
