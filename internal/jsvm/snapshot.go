package jsvm

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	goruntime "runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// A Snapshot is the engine memory of a VM as it stands after some start-up
// work (for Isola, the prelude), from which Clone makes new VMs without
// doing that work again: a start copies ~280 KB and fixes its pointers
// instead of building the global object and running the prelude (RATIONALE.md,
// "Isolates cloned from a snapshot").
//
// The engine's memory holds pointers to its own blocks, which a copy at new
// addresses must change. Which words are pointers is learnt by building the
// same VM twice, A and B, side by side: a word equal in both is data (or a
// pointer outside the engine's blocks, such as a C function); a word that
// differs must point into the same block, at the same offset, in each. Each
// template records its blocks in allocation order (so A's nth block is B's
// nth), zeroes fresh blocks and keeps freed ones unused (so a stale pointer
// in unused memory is recognisably stale). Words that differ for other
// reasons are cleared before the comparison and set again for each clone:
// the heap id and the interrupt flag the runtime points at, the promise
// rejection tracker, the context's random seed and host table id, and the
// shape hash table, whose buckets depend on prototype addresses and which
// each clone rebuilds. Anything else that differs fails the snapshot, so a
// change to the engine or the prelude that the comparison cannot explain
// shows up as an error, not as a clone that shares state with its template.
type Snapshot struct {
	data   []byte      // every block, concatenated, pointers as in A
	blocks []snapBlock // in allocation order
	relocs []snapReloc // sorted by position
	rt     snapPtr
	ctx    snapPtr
	values []snapValue
	shapes []snapShape

	interruptHandler  uintptr
	callbackClassInit bool
	hostNames         []string
}

type snapBlock struct {
	start uint32 // in data
	size  uint32 // usable bytes
}

type snapPtr struct {
	blk uint32
	off uint32
}

// snapReloc is a pointer word: at is its offset in data.
type snapReloc struct {
	at uint32
	to snapPtr
}

type snapValue struct {
	tag int64
	ptr snapPtr // for tags that carry a pointer
	raw uint64  // for the others
}

// snapShape is a hashed shape. Its hash depends on its prototype's address:
// h = hash + (initial(proto) - initial) * mul (mod 2^32), checked on B.
type snapShape struct {
	at      snapPtr
	hash    uint32
	initial uint32
	mul     uint32
}

// recording is what a template's heap notes while it is built.
type recording struct {
	goroutine uint64             // the builder's
	seq       map[uintptr]uint64 // live blocks: allocation order
	next      uint64
	freed     []span // blocks the runtime freed, kept until the heap goes
}

type span struct{ start, end uintptr }

// recordNext is claimed by the next heap the builder's goroutine makes: the
// template's. Another goroutine's runtime, made meanwhile, must not take it:
// a heap that records never reuses what it frees.
var recordNext atomic.Pointer[recording]

// claimRecording is newHeap's: the pending recording, if this goroutine
// is its builder.
func claimRecording() *recording {
	r := recordNext.Load()
	if r == nil || r.goroutine != goroutineID() || !recordNext.CompareAndSwap(r, nil) {
		return nil
	}
	return r
}

// goroutineID is the current goroutine's number, from its stack trace's
// first line. It is slow (~1 µs), and asked only while a snapshot's
// template is being made.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:goruntime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

func (r *recording) allocated(tls *libc.TLS, p uintptr) {
	clear(unsafe.Slice((*byte)(unsafe.Add(nil, p)), blockSize(tls, p)))
	r.seq[p] = r.next
	r.next++
}

func (r *recording) released(tls *libc.TLS, p uintptr) {
	delete(r.seq, p)
	r.freed = append(r.freed, span{p, p + uintptr(blockSize(tls, p))})
}

// snapshotMu keeps template builds apart, so that each claims its own
// recording.
var snapshotMu sync.Mutex

// template is one of the two VMs a snapshot is learnt from.
type template struct {
	vm     *quickjs.VM
	values []quickjs.Value
	blocks []uintptr // live, in allocation order
	sizes  []uintptr
	byAddr []int  // indexes of blocks sorted by address
	freed  []span // sorted
	img    []byte
	starts []uintptr
	rt     *lib.TJSRuntime
}

// NewSnapshot builds a VM twice with build, which makes a VM with
// quickjs.NewVM and does the start-up work; the values it returns are handed
// to each clone (the clone owns them). Host functions must be registered in
// the same order each time; a clone gets them by name from BindHost.
func NewSnapshot(build func() (*quickjs.VM, []quickjs.Value, error)) (*Snapshot, error) {
	snapshotMu.Lock()
	defer snapshotMu.Unlock()
	a, err := buildTemplate(build)
	if err != nil {
		return nil, err
	}
	defer a.close()
	b, err := buildTemplate(build)
	if err != nil {
		return nil, err
	}
	defer b.close()
	return diffTemplates(a, b)
}

func buildTemplate(build func() (*quickjs.VM, []quickjs.Value, error)) (*template, error) {
	rec := &recording{goroutine: goroutineID(), seq: map[uintptr]uint64{}}
	recordNext.Store(rec)
	vm, values, err := build()
	recordNext.CompareAndSwap(rec, nil)
	if err != nil {
		if vm != nil {
			Close(vm)
		}
		return nil, err
	}
	m := mirror(vm)
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	h := heaps.get(rt.Fmalloc_ctx.Fmalloc_state.Fopaque)
	if h == nil || h.rec != rec {
		Close(vm)
		return nil, errors.New("jsvm: snapshot: the template's runtime was not the one recorded")
	}
	t := &template{vm: vm, values: values, rt: rt}
	h.blocks.each(func(p uintptr) { t.blocks = append(t.blocks, p) })
	slices.SortFunc(t.blocks, func(x, y uintptr) int { return cmp.Compare(rec.seq[x], rec.seq[y]) })
	tls := m.runtime.tls
	for _, p := range t.blocks {
		n := uintptr(blockSize(tls, p))
		t.starts = append(t.starts, uintptr(len(t.img)))
		t.sizes = append(t.sizes, n)
		t.img = append(t.img, unsafe.Slice((*byte)(unsafe.Add(nil, p)), n)...)
	}
	t.byAddr = make([]int, len(t.blocks))
	for i := range t.byAddr {
		t.byAddr[i] = i
	}
	sort.Slice(t.byAddr, func(i, j int) bool { return t.blocks[t.byAddr[i]] < t.blocks[t.byAddr[j]] })
	t.freed = slices.Clone(rec.freed)
	slices.SortFunc(t.freed, func(x, y span) int { return cmp.Compare(x.start, y.start) })
	return t, nil
}

func (t *template) close() {
	Close(t.vm)
}

// locate finds the live block p points into (or just past the end of).
func (t *template) locate(p uintptr) (snapPtr, bool) {
	i := sort.Search(len(t.byAddr), func(i int) bool { return t.blocks[t.byAddr[i]] > p }) - 1
	if i < 0 {
		return snapPtr{}, false
	}
	b := t.byAddr[i]
	if off := p - t.blocks[b]; off <= t.sizes[b] {
		return snapPtr{uint32(b), uint32(off)}, true
	}
	return snapPtr{}, false
}

func (t *template) wasFreed(p uintptr) bool {
	i := sort.Search(len(t.freed), func(i int) bool { return t.freed[i].start > p }) - 1
	return i >= 0 && p <= t.freed[i].end
}

// imgAt is where live address p is in t.img.
func (t *template) imgAt(p uintptr) (uintptr, bool) {
	at, ok := t.locate(p)
	if !ok {
		return 0, false
	}
	return t.starts[at.blk] + uintptr(at.off), true
}

// zero clears n bytes at live address p in t.img.
func (t *template) zero(p uintptr, n uintptr) error {
	i, ok := t.imgAt(p)
	if !ok || i+n > uintptr(len(t.img)) {
		return fmt.Errorf("jsvm: snapshot: %#x is not in the runtime's blocks", p)
	}
	clear(t.img[i : i+n])
	return nil
}

// normalize clears, in t.img, the words that differ between templates for
// reasons other than addresses; each clone sets them again.
func (t *template) normalize() error {
	rt := t.rt
	ctxp := mirror(t.vm).cContext
	ctx := (*lib.TJSContext)(unsafe.Add(nil, ctxp))
	for _, f := range []struct {
		p uintptr
		n uintptr
	}{
		{uintptr(unsafe.Pointer(&rt.Fmalloc_ctx.Fmalloc_state.Fopaque)), 8},
		{uintptr(unsafe.Pointer(&rt.Finterrupt_opaque)), 8},
		{uintptr(unsafe.Pointer(&rt.Fhost_promise_rejection_tracker)), 8},
		{uintptr(unsafe.Pointer(&rt.Fhost_promise_rejection_tracker_opaque)), 8},
		{uintptr(unsafe.Pointer(&ctx.Frandom_state)), 8},
		{uintptr(unsafe.Pointer(&ctx.Fuser_opaque)), 8},
	} {
		if err := t.zero(f.p, f.n); err != nil {
			return err
		}
	}
	// The shape hash table's buckets, and every shape's hash and chain: a
	// hashed shape's are rebuilt for each clone; one that is not hashed
	// keeps those it had, which nothing reads again (only a hashed shape's
	// copy is ever hashed).
	if err := t.zero(rt.Fshape_hash, uintptr(rt.Fshape_hash_size)*8); err != nil {
		return err
	}
	list := uintptr(unsafe.Pointer(&rt.Fgc_obj_list))
	for el := rt.Fgc_obj_list.Fnext; el != list; el = (*lib.Tlist_head)(unsafe.Add(nil, el)).Fnext {
		switch *(*uint8)(unsafe.Add(nil, el-8+3)) & 0x7f {
		case lib.EJS_GC_OBJ_TYPE_SHAPE:
			s := (*lib.TJSShape)(unsafe.Add(nil, el))
			if err := t.zero(uintptr(unsafe.Pointer(&s.Fhash)), 4); err != nil {
				return err
			}
			if err := t.zero(uintptr(unsafe.Pointer(&s.Fshape_hash_next)), 8); err != nil {
				return err
			}
		case lib.EJS_GC_OBJ_TYPE_JS_OBJECT:
			// An object's second flag byte has one flag; the engine leaves
			// its other bits as the arena slot's last user left them.
			i, ok := t.imgAt(el + 17)
			if !ok {
				return fmt.Errorf("jsvm: snapshot: object %#x is not in the runtime's blocks", el)
			}
			t.img[i] &= 1
		}
	}
	// Free blocks in the engine's arenas keep whatever their last object
	// held, hashes included.
	for idx := range lib.MJS_MALLOC_BLOCK_SIZE_COUNT {
		head := &rt.Fmalloc_ctx.Farena_list[idx]
		hp := uintptr(unsafe.Pointer(head))
		for el := head.Fnext; el != hp; el = (*lib.Tlist_head)(unsafe.Add(nil, el)).Fnext {
			ar := el - unsafe.Offsetof(lib.TJSMallocArena{}.Flink)
			a := (*lib.TJSMallocArena)(unsafe.Add(nil, ar))
			size := uintptr(arenaBlockSizes[a.Fblock_size_idx])
			for i := a.Ffirst_free_block; i != lib.MFREE_NIL; {
				b := ar + unsafe.Sizeof(lib.TJSMallocArena{}) + uintptr(i)*size
				if err := t.zero(b+8, size-8); err != nil {
					return err
				}
				i = *(*uint16)(unsafe.Add(nil, b))
			}
		}
	}
	return nil
}

// arenaBlockSizes are the engine's arena block sizes
// (_js_malloc_block_sizes in the engine).
var arenaBlockSizes = [lib.MJS_MALLOC_BLOCK_SIZE_COUNT]uint16{16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512}

func (t *template) hashedShapes() []uintptr {
	var out []uintptr
	for i := range uintptr(t.rt.Fshape_hash_size) {
		for sh := *(*uintptr)(unsafe.Add(nil, t.rt.Fshape_hash+i*8)); sh != 0; sh = (*lib.TJSShape)(unsafe.Add(nil, sh)).Fshape_hash_next {
			out = append(out, sh)
		}
	}
	return out
}

const shapeHashMul = 0x9e370001

func shapeInitialHash(proto uintptr) uint32 {
	h := (1 + uint32(proto)) * shapeHashMul
	return (h + uint32(proto>>32)) * shapeHashMul
}

func diffTemplates(a, b *template) (*Snapshot, error) {
	if len(a.blocks) != len(b.blocks) {
		return nil, fmt.Errorf("jsvm: snapshot: the templates hold %d and %d blocks", len(a.blocks), len(b.blocks))
	}
	for i := range a.sizes {
		if a.sizes[i] != b.sizes[i] {
			return nil, fmt.Errorf("jsvm: snapshot: block %d is %d bytes in one template, %d in the other", i, a.sizes[i], b.sizes[i])
		}
	}
	if len(a.img) >= 1<<32 {
		return nil, errors.New("jsvm: snapshot: too large")
	}
	s := &Snapshot{interruptHandler: a.rt.Finterrupt_handler}
	s.callbackClassInit = mirror(a.vm).runtime.callbackClassInit
	var ok bool
	if s.rt, ok = a.locate(uintptr(unsafe.Pointer(a.rt))); !ok || s.rt.off != 0 {
		return nil, errors.New("jsvm: snapshot: the runtime is not a block of its own")
	}
	if s.ctx, ok = a.locate(mirror(a.vm).cContext); !ok {
		return nil, errors.New("jsvm: snapshot: the context is not in the runtime's blocks")
	}
	// Shapes, paired by where they are.
	bShapes := map[snapPtr]uintptr{}
	for _, sh := range b.hashedShapes() {
		at, ok := b.locate(sh)
		if !ok {
			return nil, errors.New("jsvm: snapshot: a shape is not in the runtime's blocks")
		}
		bShapes[at] = sh
	}
	aShapes := a.hashedShapes()
	if len(aShapes) != len(bShapes) {
		return nil, fmt.Errorf("jsvm: snapshot: the templates hash %d and %d shapes", len(aShapes), len(bShapes))
	}
	for _, sh := range aShapes {
		at, ok := a.locate(sh)
		if !ok {
			return nil, errors.New("jsvm: snapshot: a shape is not in the runtime's blocks")
		}
		shb, ok := bShapes[at]
		if !ok {
			return nil, errors.New("jsvm: snapshot: the templates hash different shapes")
		}
		sa, sb := (*lib.TJSShape)(unsafe.Add(nil, sh)), (*lib.TJSShape)(unsafe.Add(nil, shb))
		mul := uint32(1)
		for range 2 * sa.Fprop_count {
			mul *= shapeHashMul
		}
		ss := snapShape{at: at, hash: sa.Fhash, initial: shapeInitialHash(sa.Fproto), mul: mul}
		if ss.rehash(sb.Fproto) != sb.Fhash {
			return nil, errors.New("jsvm: snapshot: a shape's hash does not follow its prototype's address")
		}
		s.shapes = append(s.shapes, ss)
	}
	if err := a.normalize(); err != nil {
		return nil, err
	}
	if err := b.normalize(); err != nil {
		return nil, err
	}
	// Values handed to clones.
	if len(a.values) != len(b.values) {
		return nil, errors.New("jsvm: snapshot: the templates returned different values")
	}
	for i, v := range a.values {
		va, vb := unwrap(v), unwrap(b.values[i])
		sv := snapValue{tag: va.Ftag, raw: va.Fu.Fuint641}
		if va.Ftag < 0 {
			pa, oka := a.locate(uintptr(va.Fu.Fuint641))
			pb, okb := b.locate(uintptr(vb.Fu.Fuint641))
			if !oka || !okb || pa != pb {
				return nil, fmt.Errorf("jsvm: snapshot: value %d is not the same object in both templates", i)
			}
			sv.ptr = pa
		}
		s.values = append(s.values, sv)
	}
	// Host functions.
	ta := hostTables.get(lib.XJS_GetContextOpaque(mirror(a.vm).runtime.tls, mirror(a.vm).cContext))
	tb := hostTables.get(lib.XJS_GetContextOpaque(mirror(b.vm).runtime.tls, mirror(b.vm).cContext))
	if ta != nil {
		if tb == nil || len(ta.fns) != len(tb.fns) {
			return nil, errors.New("jsvm: snapshot: the templates registered different host functions")
		}
		for i, f := range ta.fns {
			if tb.fns[i].name != f.name {
				return nil, fmt.Errorf("jsvm: snapshot: host function %d is %s in one template, %s in the other", i, f.name, tb.fns[i].name)
			}
			s.hostNames = append(s.hostNames, f.name)
		}
	}
	// The words.
	s.data = a.img
	s.blocks = make([]snapBlock, len(a.blocks))
	for i := range a.blocks {
		s.blocks[i] = snapBlock{start: uint32(a.starts[i]), size: uint32(a.sizes[i])}
		for w := uintptr(0); w+8 <= a.sizes[i]; w += 8 {
			at := a.starts[i] + w
			wa := *(*uintptr)(unsafe.Pointer(&a.img[at]))
			wb := *(*uintptr)(unsafe.Pointer(&b.img[b.starts[i]+w]))
			if wa == wb {
				continue
			}
			pa, oka := a.locate(wa)
			pb, okb := b.locate(wb)
			switch {
			case oka && okb && pa == pb:
				s.relocs = append(s.relocs, snapReloc{at: uint32(at), to: pa})
			case !oka && !okb && a.wasFreed(wa) && b.wasFreed(wb):
				// A stale pointer in unused memory.
				clear(s.data[at : at+8])
			default:
				return nil, fmt.Errorf("jsvm: snapshot: block %d (%d bytes) offset %d differs between the templates: %#x and %#x", i, a.sizes[i], w, wa, wb)
			}
		}
	}
	return s, nil
}

func (s snapShape) rehash(proto uintptr) uint32 {
	return s.hash + (shapeInitialHash(proto)-s.initial)*s.mul
}

// interruptDataMirror mirrors quickjs.interruptData.
type interruptDataMirror struct {
	interrupt int32
	timeLimit int64
}

// interrupterMirror mirrors quickjs.interrupter.
type interrupterMirror struct {
	mu   sync.Mutex
	data uintptr
}

// Clone makes a VM from the snapshot, with the values NewSnapshot's build
// returned. Its host functions must be bound (BindHost) before it runs any
// JavaScript; its memory limit, module loader and rejection tracking are
// the caller's to set, as after quickjs.NewVM. Close it with Close.
func (s *Snapshot) Clone() (*quickjs.VM, []quickjs.Value, error) {
	tls := getTLS()
	readyStack(tls)
	h := &engineHeap{blocks: &blockSet{}}
	id, ok := heaps.add(h)
	if !ok {
		putTLS(tls)
		return nil, nil, errors.New("jsvm: too many runtimes")
	}
	h.id = id
	addrs := make([]uintptr, len(s.blocks))
	// The blocks are taken under one hold of the pages' lock: each take
	// alone would contend with every other engine allocating.
	pages.mu.Lock()
	for i, b := range s.blocks {
		addrs[i] = pageAllocLocked(uint64(b.size))
	}
	pages.mu.Unlock()
	var extra uint64
	for i, b := range s.blocks {
		p := addrs[i]
		if p == 0 {
			p = libc.Xmalloc(tls, libc.Tsize_t(b.size))
		}
		if p == 0 {
			for _, q := range addrs[:i] {
				freeBlock(tls, q)
			}
			for _, q := range addrs[i+1:] {
				if q != 0 {
					freeBlock(tls, q)
				}
			}
			heaps.remove(id)
			putTLS(tls)
			return nil, nil, errors.New("jsvm: out of memory cloning a snapshot")
		}
		addrs[i] = p
		copy(unsafe.Slice((*byte)(unsafe.Add(nil, p)), b.size), s.data[b.start:b.start+b.size])
		h.blocks.add(p)
		extra += blockSize(tls, p) - uint64(b.size)
	}
	blk := 0
	for _, r := range s.relocs {
		for r.at >= s.blocks[blk].start+s.blocks[blk].size {
			blk++
		}
		*(*uintptr)(unsafe.Add(nil, addrs[blk]+uintptr(r.at-s.blocks[blk].start))) = addrs[r.to.blk] + uintptr(r.to.off)
	}
	rtp := addrs[s.rt.blk]
	ctxp := addrs[s.ctx.blk] + uintptr(s.ctx.off)
	h.runtime = rtp
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, rtp))
	rt.Fmalloc_ctx.Fmalloc_state.Fopaque = id
	rt.Fmalloc_ctx.Fmalloc_state.Fmalloc_size += extra
	for _, sh := range s.shapes {
		p := addrs[sh.at.blk] + uintptr(sh.at.off)
		shape := (*lib.TJSShape)(unsafe.Add(nil, p))
		shape.Fhash = sh.rehash(shape.Fproto)
		bucket := rt.Fshape_hash + uintptr(shape.Fhash>>(32-rt.Fshape_hash_bits))*8
		shape.Fshape_hash_next = *(*uintptr)(unsafe.Add(nil, bucket))
		*(*uintptr)(unsafe.Add(nil, bucket)) = p
	}
	ctx := (*lib.TJSContext)(unsafe.Add(nil, ctxp))
	ctx.Frandom_state = rand.Uint64() | 1
	interruptData := libc.Xcalloc(tls, 1, libc.Tsize_t(unsafe.Sizeof(interruptDataMirror{})))
	argv := libc.Xcalloc(tls, 2, libc.Tsize_t(unsafe.Sizeof(lib.TJSValue{})))
	rt.Finterrupt_handler = s.interruptHandler
	rt.Finterrupt_opaque = interruptData
	m := &vmMirror{
		intr:          unsafe.Pointer(&interrupterMirror{data: interruptData}),
		cContext:      ctxp,
		int32_16:      lib.XNewInt32(tls, ctxp, 16),
		int32_2:       lib.XNewInt32(tls, ctxp, 2),
		runtime:       &runtimeMirror{cRuntime: rtp, tls: tls, callbackClassInit: s.callbackClassInit},
		interruptData: interruptData,
		toStringArgv:  argv,
	}
	vm := (*quickjs.VM)(unsafe.Pointer(m))
	values := make([]quickjs.Value, len(s.values))
	for i, v := range s.values {
		jv := lib.TJSValue{Ftag: v.tag}
		jv.Fu.Fuint641 = v.raw
		if v.tag < 0 {
			jv.Fu.Fuint641 = uint64(addrs[v.ptr.blk] + uintptr(v.ptr.off))
		}
		values[i] = wrap(vm, jv)
	}
	return vm, values, nil
}

// HostBinding is the Go side of a snapshot's host functions, made once and
// shared by every clone: a clone's functions would otherwise be closures
// over its own Go object, dozens made at each start and kept while it
// lives (~2 KB an idle isolate). Functions that need that object take it as
// their first parameter, from the clone's receiver (BindHost).
type HostBinding struct {
	recv reflect.Type
	fns  []hostFunc
}

// NewHostBinding gives the snapshot's host functions their Go functions, by
// the names they were registered under in its template. recv is the type of
// the receivers BindHost will be given (nil: none).
func (s *Snapshot) NewHostBinding(fns map[string]any, recv reflect.Type) (*HostBinding, error) {
	b := &HostBinding{recv: recv, fns: make([]hostFunc, len(s.hostNames))}
	for i, name := range s.hostNames {
		fn, ok := fns[name]
		if !ok {
			return nil, fmt.Errorf("jsvm: no Go function for host function %s", name)
		}
		f, err := newHostFunc(name, fn, recv)
		if err != nil {
			return nil, err
		}
		b.fns[i] = f
	}
	return b, nil
}

// BindHost gives vm, a clone of b's snapshot, b's host functions, with recv
// as its receiver (of the type b was made for).
func BindHost(vm *quickjs.VM, b *HostBinding, recv any) error {
	r := reflect.ValueOf(recv)
	if b.recv != nil && (!r.IsValid() || r.Type() != b.recv) {
		return fmt.Errorf("jsvm: BindHost: a receiver of type %T for functions that take %v", recv, b.recv)
	}
	t, err := tableOf(vm)
	if err != nil {
		return err
	}
	if len(t.fns) > 0 {
		return errors.New("jsvm: BindHost: the VM has host functions already")
	}
	// Capped, so that a function registered later (NewHostFunc) appends to
	// a copy, not to the shared array.
	t.fns = b.fns[:len(b.fns):len(b.fns)]
	t.recv = r
	return nil
}

// Size is the engine memory each clone copies.
func (s *Snapshot) Size() int { return len(s.data) }

// Pointers is how many pointers each clone fixes.
func (s *Snapshot) Pointers() int { return len(s.relocs) }
