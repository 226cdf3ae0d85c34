package jsvm

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// A Profile samples where a VM's JavaScript spends its time: no Go profile
// can, as every JavaScript function runs inside the same few engine
// functions. QuickJS calls its interrupt handler after a count of calls and
// backward jumps; the profiler's handler records the JavaScript stack there
// (one sample), sets the count to the next call to sampleEvery, and then calls
// the handler it displaced (the wrapper's: Interrupt, eval time limits).
//
// Samples are taken after a count of work, but each is weighted by the time
// since the one before (or since Resume), so the profile is one of time: a
// loop of cheap jumps and a call into Go that runs SQLite for a millisecond
// count for what they cost, not for how many ticks they took. The time goes
// to the stack seen at the sample, which lags what ran by at most one
// interval's work. The bookkeeping of a sample is not counted.
type Profile struct {
	id    uintptr
	vm    *quickjs.VM
	names map[lib.TJSAtom]atomName
	// The displaced handler, a C function pointer as the transpiled engine
	// holds one, and its argument.
	next, nextOpaque uintptr

	last time.Time // the end of the last sample, or of the last Resume; the VM's goroutine only

	mu     sync.Mutex
	stacks map[string]time.Duration // time by stack, "outer;...;inner"
}

var (
	profilesMu sync.Mutex
	profiles   = map[uintptr]*Profile{}
	profileIDs atomic.Uintptr
)

// StartProfile installs a profiler on vm. Call it on the VM's goroutine;
// Stop it before the VM closes.
func StartProfile(vm *quickjs.VM) *Profile {
	p := &Profile{id: profileIDs.Add(1), vm: vm, names: map[lib.TJSAtom]atomName{}, stacks: map[string]time.Duration{}, last: time.Now()}
	profilesMu.Lock()
	profiles[p.id] = p
	profilesMu.Unlock()
	m := mirror(vm)
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	p.next, p.nextOpaque = rt.Finterrupt_handler, rt.Finterrupt_opaque
	lib.XJS_SetInterruptHandler(m.runtime.tls, m.runtime.cRuntime, funcPointer(profileInterrupt), p.id)
	return p
}

// Stop puts the displaced handler back. Call it on the VM's goroutine.
func (p *Profile) Stop() {
	m := mirror(p.vm)
	lib.XJS_SetInterruptHandler(m.runtime.tls, m.runtime.cRuntime, p.next, p.nextOpaque)
	profilesMu.Lock()
	delete(profiles, p.id)
	profilesMu.Unlock()
}

// Resume tells the profile that JavaScript starts running now, after a
// pause in which the VM did nothing: the next sample's time counts from
// here. Call it on the VM's goroutine before each call into the VM.
func (p *Profile) Resume() { p.last = time.Now() }

// Stacks returns the time spent in each stack, outermost frame first.
func (p *Profile) Stacks() map[string]time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]time.Duration, len(p.stacks))
	for k, v := range p.stacks {
		out[k] = v
	}
	return out
}

func profileInterrupt(tls *libc.TLS, rt, opaque uintptr) int32 {
	profilesMu.Lock()
	p := profiles[opaque]
	profilesMu.Unlock()
	if p == nil {
		return 0
	}
	p.sample(tls, rt)
	ctx := (*lib.TJSContext)(unsafe.Add(nil, mirror(p.vm).cContext))
	ctx.Finterrupt_counter = sampleEvery
	if p.next == 0 {
		return 0
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{p.next})))(tls, rt, p.nextOpaque)
}

const jsTagObject = -1

// sampleEvery is the count of calls and backward jumps between samples:
// small, because the time after a job's last sample is lost, and the jobs
// of a busy server (an RPC answered, a promise settled) are short.
const sampleEvery = 50

func (p *Profile) sample(tls *libc.TLS, rt uintptr) {
	d := time.Since(p.last)
	defer func() { p.last = time.Now() }()
	var frames []string
	for sf := (*lib.TJSRuntime)(unsafe.Add(nil, rt)).Fcurrent_stack_frame; sf != 0; {
		f := (*lib.TJSStackFrame)(unsafe.Add(nil, sf))
		frames = append(frames, p.funcName(tls, f.Fcur_func))
		sf = f.Fprev_frame
	}
	if len(frames) == 0 {
		return
	}
	for i, j := 0, len(frames)-1; i < j; i, j = i+1, j-1 {
		frames[i], frames[j] = frames[j], frames[i]
	}
	key := strings.Join(frames, ";")
	p.mu.Lock()
	p.stacks[key] += d
	p.mu.Unlock()
}

func (p *Profile) funcName(tls *libc.TLS, v lib.TJSValue) string {
	if v.Ftag != jsTagObject {
		return "?"
	}
	obj := *(*uintptr)(unsafe.Pointer(&v.Fu))
	o := (*lib.TJSObject)(unsafe.Add(nil, obj))
	switch int32(o.Fclass_id) {
	case lib.EJS_CLASS_BYTECODE_FUNCTION, lib.EJS_CLASS_GENERATOR_FUNCTION, lib.EJS_CLASS_ASYNC_FUNCTION, lib.EJS_CLASS_ASYNC_GENERATOR_FUNCTION:
	default:
		return "[native]"
	}
	b := *(*uintptr)(unsafe.Add(nil, obj+unsafe.Offsetof(o.Fu)))
	fb := (*lib.TJSFunctionBytecode)(unsafe.Add(nil, b))
	if fb.Ffunc_name == 0 { // JS_ATOM_NULL: an arrow or anonymous function
		// Most of a bundle's closures have no name; where each starts is what
		// tells them apart.
		name := "(anonymous)"
		if line := functionLine(fb); line > 0 {
			file := p.atomString(tls, fb.Fdebug.Ffilename)
			if i := strings.LastIndexByte(file, '/'); i >= 0 {
				file = file[i+1:]
			}
			name = "(anonymous " + file + ":" + strconv.Itoa(line) + ")"
		}
		return name
	}
	if name := p.atomString(tls, fb.Ffunc_name); name != "" {
		return name
	}
	return "(anonymous)"
}

// atomName is an atom's string as the profile last read it, with the
// engine's record of the atom then: atoms are freed and their numbers used
// again, so a cached name holds only while the record is the same.
type atomName struct {
	record uintptr
	name   string
}

func (p *Profile) atomString(tls *libc.TLS, atom lib.TJSAtom) string {
	if atom == 0 {
		return ""
	}
	m := mirror(p.vm)
	rt := (*lib.TJSRuntime)(unsafe.Add(nil, m.runtime.cRuntime))
	var record uintptr
	if int32(atom) < rt.Fatom_size {
		record = *(*uintptr)(unsafe.Add(nil, rt.Fatom_array+uintptr(atom)*unsafe.Sizeof(uintptr(0))))
	}
	if n, ok := p.names[atom]; ok && n.record == record {
		return n.name
	}
	name := ""
	if s := lib.XJS_AtomToCStringLen(tls, m.cContext, 0, atom); s != 0 {
		// GoString may alias the C string, which is freed next.
		name = strings.Clone(libc.GoString(s))
		lib.XJS_FreeCString(tls, m.cContext, s)
	}
	p.names[atom] = atomName{record, name}
	return name
}

// functionLine is the line a function's source starts on, from its debug
// information (the first number of the pc-to-line table, as the engine's
// find_line_num reads it), or 0 when it has none.
func functionLine(fb *lib.TJSFunctionBytecode) int {
	// The has_debug bit, read where the transpiled engine reads it (byte 18
	// of the struct, bit 2).
	if *(*uint8)(unsafe.Add(unsafe.Pointer(fb), 18))&0x4 == 0 || fb.Fdebug.Fpc2line_buf == 0 || fb.Fdebug.Fpc2line_len <= 0 {
		return 0
	}
	buf := unsafe.Slice((*byte)(unsafe.Add(nil, fb.Fdebug.Fpc2line_buf)), fb.Fdebug.Fpc2line_len)
	v, shift := 0, 0
	for _, c := range buf {
		v |= int(c&0x7f) << shift
		if c < 0x80 {
			return v + 1
		}
		shift += 7
		if shift > 28 {
			break
		}
	}
	return 0
}

// FunctionTimes sums stacks into each function's own time (the innermost
// frame) and its total (any frame), largest total first.
func FunctionTimes(stacks map[string]time.Duration) []FunctionTime {
	self := map[string]time.Duration{}
	total := map[string]time.Duration{}
	for stack, d := range stacks {
		frames := strings.Split(stack, ";")
		self[frames[len(frames)-1]] += d
		seen := map[string]bool{}
		for _, f := range frames {
			if !seen[f] {
				seen[f] = true
				total[f] += d
			}
		}
	}
	out := make([]FunctionTime, 0, len(total))
	for name, t := range total {
		out = append(out, FunctionTime{Name: name, Self: self[name], Total: t})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// FunctionTime is one function's share of a profile.
type FunctionTime struct {
	Name        string
	Self, Total time.Duration
}
