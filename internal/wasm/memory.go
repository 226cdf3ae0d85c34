package wasm

import (
	"sync"
	"unsafe"
)

// Budget bounds the bytes of linear memory an isolate's instances hold in
// all (the reference counts WebAssembly memory against an isolate's limit),
// and tells the isolate when a memory's size changed, so that the
// ArrayBuffers JavaScript holds over it can be detached as the JavaScript
// API asks.
type Budget struct {
	mu    sync.Mutex
	limit uint64
	used  uint64
	// OnResize is called, on the goroutine that grew or freed it, after a
	// memory's size changed.
	OnResize func(*Memory)
}

// NewBudget makes a budget of limit bytes.
func NewBudget(limit uint64) *Budget { return &Budget{limit: limit} }

// Limit is the budget's size in bytes.
func (b *Budget) Limit() uint64 { return b.limit }

// Used is the bytes the budget's memories hold.
func (b *Budget) Used() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Memory is a linear memory at a fixed address: its whole possible size
// (its maximum, or the budget, whichever is smaller) is mapped at once and
// takes memory only where it is touched. So growing never moves it, and an
// ArrayBuffer over it stays valid up to its old length until detached.
type Memory struct {
	budget *Budget
	region []byte
	size   uint64
	unmap  func()
}

func (b *Budget) reserve(capacity, max uint64) *Memory {
	size := max
	if size > b.limit {
		size = b.limit
	}
	if size < capacity {
		size = capacity
	}
	region, unmap := mapRegion(size)
	return &Memory{budget: b, region: region, unmap: unmap}
}

// Reallocate implements experimental.LinearMemory: it grows the memory
// within its region, or refuses (nil) beyond the region or the budget.
func (m *Memory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.region)) {
		return nil
	}
	b := m.budget
	b.mu.Lock()
	if size > m.size && b.used+(size-m.size) > b.limit {
		b.mu.Unlock()
		return nil
	}
	b.used += size - m.size
	b.mu.Unlock()
	grew := size != m.size
	m.size = size
	if grew && b.OnResize != nil {
		b.OnResize(m)
	}
	return m.region[:size:size]
}

// Free implements experimental.LinearMemory, as nothing: wazero frees a
// memory when any module holding it closes, an importer as well as its
// owner (a glue module that failed to link, say), while others still use
// it. The owner's Instance.Close releases it instead.
func (m *Memory) Free() {}

// release gives the memory back: unmapped, taken off the budget, and the
// isolate told (so that it detaches the buffers over it).
func (m *Memory) release() {
	if m.region == nil {
		return
	}
	b := m.budget
	b.mu.Lock()
	b.used -= m.size
	b.mu.Unlock()
	had := m.size
	m.size = 0
	if had > 0 && b.OnResize != nil {
		b.OnResize(m)
	}
	m.unmap()
	m.region = nil
}

// Size is the memory's current length in bytes.
func (m *Memory) Size() uint64 { return m.size }

// Base is the address of the memory's first byte. It never changes while
// the memory lives.
func (m *Memory) Base() uintptr {
	if len(m.region) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&m.region[0]))
}

// Grow grows the memory by delta pages of 64 KiB, returning the old size
// in pages, or false when the maximum or the budget refuses.
func (inst *Instance) Grow(delta uint32) (uint32, bool) {
	if inst.mod == nil {
		return 0, false
	}
	mem := inst.mod.ExportedMemory(inst.memoryName())
	if mem == nil {
		return 0, false
	}
	return mem.Grow(delta)
}

func (inst *Instance) memoryName() string {
	for _, ex := range inst.module.shape.exports {
		if ex.Kind == KindMemory {
			return ex.Name
		}
	}
	return ""
}
