package jsvm

import (
	"sync"
	"unsafe"
)

// The engine asks its malloc functions for two kinds of blocks: its own
// arenas, each at most one 4 KiB page, in which it carves its small objects,
// and "large" blocks of 513 bytes up (strings, arrays, hash tables,
// bytecode). libc's allocator rounds every request up to a power of two and
// keeps 4 KiB blocks fifteen to a 64 KiB page, which cost an idle isolate
// ~30 KiB. So blocks of up to 32 KiB come from here instead: whole pages
// for arenas, slabs of pages cut into blocks of 22 sizes (at most 1/8 lost to
// rounding) for blocks under a page, runs of pages above. Larger blocks still
// go to libc.
//
// The pages come from one reservation of address space made at start-up
// (untouched pages cost no memory), so telling whose block a pointer is
// takes a comparison, and a page's metadata is an index away. One mutex
// guards it all: the engine calls these functions once per arena or large
// block, not per object. Blocks of two to eight pages are runs of whole
// pages. A slab whose blocks are all free goes back to the pages, and pages
// are reused hottest first (a fresh page costs a fault,
// ~12 µs on the machines measured).

const (
	pageShift = 12
	pageSize  = 1 << pageShift
	// reserveSize is the address space reserved for pages. Past it, blocks
	// come from libc.
	reserveSize = 64 << 30
)

// sizeClasses are the block sizes of slabs; a request takes the smallest
// class that holds it. The last class is a whole page.
var sizeClasses = [...]uint32{64, 128, 256, 384, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2560, 2816, 3072, 3584, pageSize}

const wholePage = len(sizeClasses) - 1

// runClass marks pages of a block of 2 to slabPages whole pages (a big atom
// table, a long string); the first page's used field holds how many.
const runClass = len(sizeClasses)

// populateStep is how much fresh memory is populated at once.
const populateStep = 1 << 20

// slabPages is how many pages a slab spans: at 32 KiB, what is left at a
// slab's end is at most 1.6% for every class.
const slabPages = 8

// pageMeta describes one page of the reservation.
type pageMeta struct {
	class uint8  // the size class of the slab the page is in
	first uint16 // how many pages into its slab the page is
	used  uint16 // on a slab's first page: blocks handed out
}

// freeLink is the link a free slab block holds.
type freeLink struct{ prev, next uintptr }

var pages struct {
	mu     sync.Mutex
	base   uintptr // 0: no reservation, everything from libc
	brk    uintptr // first never-used byte
	backed uintptr // pages below it are populated (populate)
	meta   []pageMeta
	// Free pages (index 1) and free slabs' runs of pages (index
	// slabPages), each list linked through the runs' first words.
	freeRuns [slabPages + 1]uintptr
	free     [len(sizeClasses)]uintptr
}

func init() {
	base, ok := reserve(reserveSize)
	if !ok {
		return
	}
	n := reserveSize >> pageShift
	meta, ok := reserve(n * int(unsafe.Sizeof(pageMeta{})))
	if !ok {
		return
	}
	// The metadata too is reserved address space, touched a page at a time
	// as pages are used, not Go memory.
	pages.meta = unsafe.Slice((*pageMeta)(unsafe.Add(nil, meta)), n)
	pages.base, pages.brk, pages.backed = base, base, base
}

// classBySize maps a size, in 64-byte steps, to its class.
var classBySize = func() (t [pageSize/64 + 1]uint8) {
	c := 0
	for i := range t {
		for uint32(i*64) > sizeClasses[c] {
			c++
		}
		t[i] = uint8(c)
	}
	return t
}()

func classOf(size uint64) int {
	return int(classBySize[(size+63)/64])
}

// owns reports whether p is a block of the pages.
func owns(p uintptr) bool {
	return pages.base != 0 && p >= pages.base && p < pages.base+reserveSize
}

// pageAlloc returns a block of at least size bytes, or 0 when the block is
// not the pages' to give.
func pageAlloc(size uint64) uintptr {
	if pages.base == 0 || size > slabPages*pageSize {
		return 0
	}
	pages.mu.Lock()
	b := pageAllocLocked(size)
	pages.mu.Unlock()
	return b
}

func pageAllocLocked(size uint64) uintptr {
	if pages.base == 0 || size > slabPages*pageSize {
		return 0
	}
	var b uintptr
	if size > pageSize {
		n := uint32((size + pageSize - 1) / pageSize)
		if b = takeRun(n, uint8(runClass)); b != 0 {
			pages.meta[(b-pages.base)>>pageShift].used = uint16(n)
		}
	} else {
		b = takeBlock(classOf(size))
	}
	return b
}

func takeBlock(c int) uintptr {
	if c == wholePage {
		return takeRun(1, uint8(c))
	}
	if pages.free[c] == 0 {
		n := uint32(slabPages)
		s := takeRun(n, uint8(c))
		if s == 0 {
			return 0
		}
		size := uintptr(sizeClasses[c])
		for b := s + (uintptr(n)<<pageShift)/size*size - size; b >= s; b -= size {
			pushFree(c, b)
			if b == s {
				break
			}
		}
	}
	b := pages.free[c]
	unlinkFree(c, b)
	pages.meta[slabOf(b)].used++
	return b
}

func pageFree(p uintptr) {
	pages.mu.Lock()
	pageFreeLocked(p)
	pages.mu.Unlock()
}

func pageFreeLocked(p uintptr) {
	i := (p - pages.base) >> pageShift
	m := pages.meta[i]
	switch int(m.class) {
	case wholePage:
		giveRun(p, 1)
		return
	case runClass:
		giveRun(p, int(m.used))
		return
	}
	c := int(m.class)
	pushFree(c, p)
	s := slabOf(p)
	pages.meta[s].used--
	if pages.meta[s].used > 0 {
		return
	}
	// The slab is empty: its blocks leave the free list and its pages go
	// back.
	start := pages.base + s<<pageShift
	n := uintptr(slabPages)
	size := uintptr(sizeClasses[c])
	for b := start; b+size <= start+n<<pageShift; b += size {
		unlinkFree(c, b)
	}
	giveRun(start, int(n))
}

func pageUsable(p uintptr) uint64 {
	m := pages.meta[(p-pages.base)>>pageShift]
	if int(m.class) == runClass {
		return uint64(m.used) * pageSize
	}
	return uint64(sizeClasses[m.class])
}

func slabOf(b uintptr) uintptr {
	i := (b - pages.base) >> pageShift
	return i - uintptr(pages.meta[i].first)
}

func pushFree(c int, b uintptr) {
	fb := (*freeLink)(unsafe.Add(nil, b))
	fb.prev, fb.next = 0, pages.free[c]
	if fb.next != 0 {
		(*freeLink)(unsafe.Add(nil, fb.next)).prev = b
	}
	pages.free[c] = b
}

func unlinkFree(c int, b uintptr) {
	fb := (*freeLink)(unsafe.Add(nil, b))
	if fb.prev != 0 {
		(*freeLink)(unsafe.Add(nil, fb.prev)).next = fb.next
	} else {
		pages.free[c] = fb.next
	}
	if fb.next != 0 {
		(*freeLink)(unsafe.Add(nil, fb.next)).prev = fb.prev
	}
}

// takeRun returns n contiguous pages for class c: a run given back earlier
// if there is one (its pages were touched, so they cost no fault), else the
// front of a longer free run (the rest stays free), else pages never used.
// Free runs are not joined again.
func takeRun(n uint32, c uint8) uintptr {
	p := pages.freeRuns[n]
	if p != 0 {
		pages.freeRuns[n] = *(*uintptr)(unsafe.Add(nil, p))
	} else {
		for m := n + 1; m <= slabPages; m++ {
			if r := pages.freeRuns[m]; r != 0 {
				pages.freeRuns[m] = *(*uintptr)(unsafe.Add(nil, r))
				giveRun(r+uintptr(n)<<pageShift, int(m-n))
				p = r
				break
			}
		}
	}
	if p == 0 {
		if pages.brk+uintptr(n)<<pageShift > pages.base+reserveSize {
			return 0
		}
		p = pages.brk
		pages.brk += uintptr(n) << pageShift
		if pages.brk > pages.backed {
			// Populate a megabyte at a time, ahead of use.
			end := min(max(pages.brk, pages.backed+populateStep), pages.base+reserveSize)
			populate(pages.backed, end-pages.backed)
			pages.backed = end
		}
	}
	i := (p - pages.base) >> pageShift
	for k := range uintptr(n) {
		pages.meta[i+k] = pageMeta{class: c, first: uint16(k)}
	}
	return p
}

func giveRun(p uintptr, n int) {
	*(*uintptr)(unsafe.Add(nil, p)) = pages.freeRuns[n]
	pages.freeRuns[n] = p
}
