package wasm

import (
	"errors"
	"fmt"
)

// A runaway loop must end at its isolate's CPU limit, and must not hold up
// the rest of the process meanwhile. wazero can stop running code
// (WithCloseOnContextDone), but its check calls out of the compiled code on
// every loop iteration and starts a goroutine on every call: measured here,
// 18x slower arithmetic and 1.1 µs more per call. Without it, compiled code
// never stops, and never lets Go's garbage collector stop the world: every
// isolate of the process would wait on one tenant's loop.
//
// So Isola puts a check of its own into each module it compiles, at each
// function's entry and each loop's head: a counter (a global) counts down,
// and every yieldEvery rounds the code leaves to Go for a moment (a
// memory.grow by 0, which wazero runs in Go: Go's scheduler can stop the
// goroutine there) and traps if the stop global is set. A watchdog sets that
// when a call runs past the deadline (runtime/wasmhost.go); the trap is then
// reported as the CPU limit. The common path costs a few instructions.

// stopExport is the name the stop global is exported under; JavaScript
// never sees it (exports are listed from the original binary).
const stopExport = "\x00isola.stop"

// yieldEvery is how many function entries and loop iterations run between
// two visits to Go: a few microseconds of the tightest loop.
const yieldEvery = 10000

// stopCheck is the check, for the counter global c and the stop global s.
func stopCheck(c, s uint32) []byte {
	b := uleb([]byte{0x23}, uint64(c))             // global.get c
	b = append(b, 0x41, 0x01, 0x6b)                // i32.const 1; i32.sub
	b = uleb(append(b, 0x24), uint64(c))           // global.set c
	b = uleb(append(b, 0x23), uint64(c))           // global.get c
	b = append(b, 0x45, 0x04, 0x40)                // i32.eqz; if
	b = sleb(append(b, 0x41), yieldEvery)          //   i32.const yieldEvery
	b = uleb(append(b, 0x24), uint64(c))           //   global.set c
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a)    // i32.const 0; memory.grow 0; drop
	b = uleb(append(b, 0x23), uint64(s))           //   global.get s
	return append(b, 0x04, 0x40, 0x00, 0x0b, 0x0b) // if; unreachable; end; end
}

// instrument returns b with the counter and stop globals and their checks
// added (and a memory of no pages, if b has none, for the check's
// memory.grow). b is a module the compiler validated; sh is its shape.
func instrument(b []byte, sh *shape) ([]byte, error) {
	counter := uint32(sh.nImports[KindGlobal] + len(sh.globals))
	stop, depth, overflow := counter+1, counter+2, counter+3
	check := stopCheck(counter, stop)
	// Blocks that wrap a body returning several values need a type of
	// their own (no parameters, those results), added after the module's.
	multi := map[string]uint32{}
	var newTypes []byte
	for _, t := range sh.funcs {
		ft := sh.types[t]
		if len(ft.Results) < 2 {
			continue
		}
		key := string(valTypeBytes(ft.Results))
		if _, ok := multi[key]; !ok {
			multi[key] = uint32(len(sh.types) + len(multi))
			newTypes = funcType(newTypes, &FuncType{Results: ft.Results})
		}
	}
	frame := frameChecks{depth: depth, overflow: overflow, multi: multi, sh: sh}
	needMemory := sh.nImports[KindMemory] == 0 && len(sh.memories) == 0
	out := append([]byte(nil), b[:8]...)
	r := &reader{b: b, pos: 8}
	wroteMemory, wroteGlobal, wroteExport := !needMemory, false, false
	globals := []byte{byte(I32), 1}
	globals = constExpr(globals, I32, yieldEvery)
	for range 3 { // stop, depth, overflow: mutable i32s, 0
		globals = append(globals, byte(I32), 1, 0x41, 0, 0x0b)
	}
	stopEntry := append(name(nil, stopExport), 3)
	stopEntry = uleb(stopEntry, uint64(stop))
	stopEntry = append(name(stopEntry, depthExport), 3)
	stopEntry = uleb(stopEntry, uint64(depth))
	stopEntry = append(name(stopEntry, overflowExport), 3)
	stopEntry = uleb(stopEntry, uint64(overflow))
	// order ranks sections as a module must order them (tags sit between
	// memories and globals); custom sections (0) go anywhere.
	order := map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = uleb(out, uint64(len(body)))
		out = append(out, body...)
	}
	flush := func(before byte) {
		rank := order[before]
		if before == 0xff { // the module's end
			rank = 100
		}
		if !wroteMemory && rank > order[5] {
			emit(5, append(uleb(nil, 1), limits(nil, Limits{HasMax: true})...))
			wroteMemory = true
		}
		if !wroteGlobal && rank > order[6] {
			emit(6, append(uleb(nil, 4), globals...))
			wroteGlobal = true
		}
		if !wroteExport && rank > order[7] {
			emit(7, append(uleb(nil, 3), stopEntry...))
			wroteExport = true
		}
	}
	for r.pos < len(b) {
		id, body, err := r.section()
		if err != nil {
			return nil, err
		}
		if id != 0 {
			flush(id)
		}
		switch id {
		case 1, 6, 7:
			sr := &reader{b: body}
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			add, extra := 3, stopEntry
			switch id {
			case 6:
				add, extra = 4, globals
			case 1:
				add, extra = len(multi), newTypes
			}
			nb := uleb(nil, uint64(n)+uint64(add))
			nb = append(nb, body[sr.pos:]...)
			nb = append(nb, extra...)
			if id == 6 {
				wroteGlobal = true
			} else if id == 7 {
				wroteExport = true
			}
			emit(id, nb)
		case 10:
			code, err := instrumentCode(body, check, &frame)
			if err != nil {
				return nil, err
			}
			emit(id, code)
		default:
			emit(id, body)
		}
	}
	flush(0xff)
	return out, nil
}

// instrumentCode rewrites a code section: each function body gets check at
// its start and after each loop instruction, and is framed by fc.
func instrumentCode(body []byte, check []byte, fc *frameChecks) ([]byte, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if int(n) != len(fc.sh.funcs) {
		return nil, errors.New("the code section does not match the function section")
	}
	out := uleb(nil, uint64(n))
	for i := range n {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		fn, err := r.bytes(size)
		if err != nil {
			return nil, err
		}
		nf, err := fc.instrumentFunc(fn, check, &fc.sh.types[fc.sh.funcs[i]])
		if err != nil {
			return nil, err
		}
		out = uleb(out, uint64(len(nf)))
		out = append(out, nf...)
	}
	return out, nil
}

// wazero lets a call stack grow to 400 MB before it overflows, memory no
// budget counts. So each function also counts the depth of the calls under
// way (a global, in units weighted by the function's locals: a frame's
// size), and traps past maxDepthUnits, setting the overflow global so the
// trap is told as V8's stack overflow. The body is wrapped in a block whose
// end takes the count back down, each return becoming a branch to it; a
// trap unwinds without that, so the count is reset when a call fails
// (Instance.Call).
const maxDepthUnits = 40000

const (
	depthExport    = "\x00isola.depth"
	overflowExport = "\x00isola.overflow"
)

type frameChecks struct {
	depth, overflow uint32
	multi           map[string]uint32 // block types for several results
	sh              *shape
}

func valTypeBytes(ts []ValType) []byte {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}

func (fc *frameChecks) instrumentFunc(fn []byte, check []byte, ft *FuncType) ([]byte, error) {
	r := &reader{b: fn}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	locals := uint64(len(ft.Params))
	for range groups {
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		locals += uint64(n)
		if err := r.skipValType(); err != nil {
			return nil, err
		}
	}
	units := int64(1 + locals/16)
	out := append([]byte(nil), fn[:r.pos]...)
	out = append(out, check...)
	// depth += units; if depth > max: overflow = 1, unreachable
	out = uleb(append(out, 0x23), uint64(fc.depth))
	out = sleb(append(out, 0x41), units)
	out = append(out, 0x6a)
	out = uleb(append(out, 0x24), uint64(fc.depth))
	out = uleb(append(out, 0x23), uint64(fc.depth))
	out = sleb(append(out, 0x41), maxDepthUnits)
	out = append(out, 0x4b, 0x04, 0x40, 0x41, 0x01) // i32.gt_u; if; i32.const 1
	out = uleb(append(out, 0x24), uint64(fc.overflow))
	out = append(out, 0x00, 0x0b) // unreachable; end
	// block (results)
	out = append(out, 0x02)
	switch len(ft.Results) {
	case 0:
		out = append(out, 0x40)
	case 1:
		out = append(out, byte(ft.Results[0]))
	default:
		out = sleb(out, int64(fc.multi[string(valTypeBytes(ft.Results))]))
	}
	from := r.pos
	nesting := 0
	for r.pos < len(fn) {
		at := r.pos
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		if err := r.skipImmediates(op); err != nil {
			return nil, fmt.Errorf("opcode 0x%02x: %w", op, err)
		}
		switch op {
		case 0x02, 0x03, 0x04, 0x06, 0x1f: // block, loop, if, try, try_table
			nesting++
			if op == 0x03 { // loop: the check runs at each iteration's start
				out = append(out, fn[from:r.pos]...)
				out = append(out, check...)
				from = r.pos
			}
		case 0x0b: // end
			if nesting == 0 { // the function's: close the block, count down
				out = append(out, fn[from:at]...)
				out = append(out, 0x0b)
				out = uleb(append(out, 0x23), uint64(fc.depth))
				out = sleb(append(out, 0x41), units)
				out = append(out, 0x6b)
				out = uleb(append(out, 0x24), uint64(fc.depth))
				out = append(out, 0x0b)
				if r.pos != len(fn) {
					return nil, errors.New("code after a function's end")
				}
				return out, nil
			}
			nesting--
		case 0x0f: // return: a branch to the block, whose end counts down
			out = append(out, fn[from:at]...)
			out = uleb(append(out, 0x0c), uint64(nesting))
			from = r.pos
		}
	}
	return nil, errors.New("a function without an end")
}

// skipValType steps over a value type (a reference type may carry a heap
// type index).
func (r *reader) skipValType() error {
	t, err := r.byte()
	if err != nil {
		return err
	}
	if t == 0x63 || t == 0x64 { // (ref null ht), (ref ht)
		return r.skipS33()
	}
	return nil
}

func (r *reader) skipS33() error {
	_, err := r.leb(5)
	return err
}

func (r *reader) skipBlockType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch {
	case c == 0x40 || (c >= 0x6f && c <= 0x7f): // empty, or a value type
		return nil
	case c == 0x63 || c == 0x64:
		return r.skipS33()
	}
	r.pos--
	return r.skipS33() // a type index
}

func (r *reader) skipMemarg() error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 { // multi-memory: a memory index follows
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	_, err = r.u64()
	return err
}

func (r *reader) skipU32s(n int) error {
	for range n {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// skipImmediates steps over the immediates of instruction op.
func (r *reader) skipImmediates(op byte) error {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block, loop, if, try
		return r.skipBlockType()
	case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x18: // catch, throw, rethrow, delegate
		return r.skipU32s(1)
	case op == 0x0c || op == 0x0d || op == 0xd5 || op == 0xd6: // br, br_if, br_on_null, br_on_non_null
		return r.skipU32s(1)
	case op == 0x0e: // br_table
		n, err := r.u32()
		if err != nil {
			return err
		}
		return r.skipU32s(int(n) + 1)
	case op == 0x10 || op == 0x12 || op == 0x14 || op == 0x15 || op == 0xd2: // call, return_call, call_ref, return_call_ref, ref.func
		return r.skipU32s(1)
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		return r.skipU32s(2)
	case op == 0x1c: // select t*
		n, err := r.u32()
		if err != nil {
			return err
		}
		for range n {
			if err := r.skipValType(); err != nil {
				return err
			}
		}
		return nil
	case op == 0x1f: // try_table
		if err := r.skipBlockType(); err != nil {
			return err
		}
		n, err := r.u32()
		if err != nil {
			return err
		}
		for range n {
			kind, err := r.byte()
			if err != nil {
				return err
			}
			k := 1
			if kind == 0 || kind == 1 {
				k = 2
			}
			if err := r.skipU32s(k); err != nil {
				return err
			}
		}
		return nil
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
		return r.skipU32s(1)
	case op >= 0x28 && op <= 0x3e: // loads and stores
		return r.skipMemarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		return r.skipU32s(1)
	case op == 0x41: // i32.const
		return r.skipS33()
	case op == 0x42: // i64.const
		_, err := r.u64()
		return err
	case op == 0x43:
		_, err := r.bytes(4)
		return err
	case op == 0x44:
		_, err := r.bytes(8)
		return err
	case op == 0xd0: // ref.null ht
		return r.skipS33()
	case op == 0xfc:
		return r.skipPrefixFC()
	case op == 0xfd:
		return r.skipPrefixFD()
	case op == 0xfe:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		if sub == 0x03 { // atomic.fence
			_, err = r.byte()
			return err
		}
		return r.skipMemarg()
	case op <= 0x01 || op == 0x05 || op == 0x0a || op == 0x0b || op == 0x0f || op == 0x19 ||
		op == 0x1a || op == 0x1b || (op >= 0x45 && op <= 0xc4) || op == 0xd1 || op == 0xd3 || op == 0xd4:
		return nil
	}
	return errors.New("unknown instruction")
}

func (r *reader) skipPrefixFC() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncations
		return nil
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		return r.skipU32s(2)
	case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		return r.skipU32s(1)
	}
	return fmt.Errorf("unknown 0xfc instruction %d", sub)
}

func (r *reader) skipPrefixFD() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11, sub == 92, sub == 93: // loads and stores
		return r.skipMemarg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		_, err := r.bytes(16)
		return err
	case sub >= 21 && sub <= 34: // lane extracts and replaces
		_, err := r.byte()
		return err
	case sub >= 84 && sub <= 91: // lane loads and stores
		if err := r.skipMemarg(); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	}
	return nil
}
