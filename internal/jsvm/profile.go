package jsvm

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// A Profile samples where a VM's JavaScript spends its time: no Go profile
// can, as every JavaScript function runs inside the same few engine
// functions. QuickJS calls its interrupt handler after a count of calls and
// backward jumps; the profiler's handler records the JavaScript stack there
// (one sample), lowers the count to the next call tenfold, and then calls
// the handler it displaced (the wrapper's: Interrupt, eval time limits).
// Samples are spaced by work done, not by time, which is what a profile of
// an interpreter wants.
type Profile struct {
	id    uintptr
	vm    *quickjs.VM
	names map[lib.TJSAtom]string
	// The displaced handler, a C function pointer as the transpiled engine
	// holds one, and its argument.
	next, nextOpaque uintptr

	mu     sync.Mutex
	stacks map[string]int // samples by stack, "outer;...;inner"
}

var (
	profilesMu sync.Mutex
	profiles   = map[uintptr]*Profile{}
	profileIDs atomic.Uintptr
)

// StartProfile installs a profiler on vm. Call it on the VM's goroutine;
// Stop it before the VM closes.
func StartProfile(vm *quickjs.VM) *Profile {
	p := &Profile{id: profileIDs.Add(1), vm: vm, names: map[lib.TJSAtom]string{}, stacks: map[string]int{}}
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

// Stacks returns the samples taken in each stack, outermost frame first.
func (p *Profile) Stacks() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.stacks))
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
	ctx.Finterrupt_counter = lib.MJS_INTERRUPT_COUNTER_INIT / 10
	if p.next == 0 {
		return 0
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{p.next})))(tls, rt, p.nextOpaque)
}

const jsTagObject = -1

func (p *Profile) sample(tls *libc.TLS, rt uintptr) {
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
	p.stacks[key]++
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
	atom := (*lib.TJSFunctionBytecode)(unsafe.Add(nil, b)).Ffunc_name
	if atom == 0 { // JS_ATOM_NULL: an arrow or anonymous function
		return "(anonymous)"
	}
	if name, ok := p.names[atom]; ok {
		return name
	}
	name := "(anonymous)"
	if s := lib.XJS_AtomToCStringLen(tls, mirror(p.vm).cContext, 0, atom); s != 0 {
		// GoString may alias the C string, which is freed next.
		if n := strings.Clone(libc.GoString(s)); n != "" {
			name = n
		}
		lib.XJS_FreeCString(tls, mirror(p.vm).cContext, s)
	}
	p.names[atom] = name
	return name
}

// FunctionSamples sums stacks into each function's own samples (the
// innermost frame) and its total (any frame), largest total first.
func FunctionSamples(stacks map[string]int) []FunctionTime {
	self := map[string]int{}
	total := map[string]int{}
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

// FunctionTime is one function's share of a profile, in samples.
type FunctionTime struct {
	Name        string
	Self, Total int
}
