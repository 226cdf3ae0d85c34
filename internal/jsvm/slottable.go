package jsvm

import "sync"

// slotTable maps small ids to values without a lock on lookup: an id is
// published under the mutex before the VM that carries it can run.
type slotTable[T any] struct {
	mu    sync.Mutex
	pages [1 << 12]*[1 << 10]*T
	free  []uintptr
	next  uintptr
}

func (t *slotTable[T]) add(v *T) (uintptr, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var id uintptr
	if n := len(t.free); n > 0 {
		id = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.next++
		id = t.next
		if id>>10 >= uintptr(len(t.pages)) {
			return 0, false
		}
		if t.pages[id>>10] == nil {
			t.pages[id>>10] = new([1 << 10]*T)
		}
	}
	t.pages[id>>10][id&(1<<10-1)] = v
	return id, true
}

func (t *slotTable[T]) get(id uintptr) *T {
	if id == 0 || id>>10 >= uintptr(len(t.pages)) {
		return nil
	}
	pg := t.pages[id>>10]
	if pg == nil {
		return nil
	}
	return pg[id&(1<<10-1)]
}

func (t *slotTable[T]) remove(id uintptr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pages[id>>10][id&(1<<10-1)] = nil
	t.free = append(t.free, id)
}
