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
	stop := counter + 1
	check := stopCheck(counter, stop)
	needMemory := sh.nImports[KindMemory] == 0 && len(sh.memories) == 0
	out := append([]byte(nil), b[:8]...)
	r := &reader{b: b, pos: 8}
	wroteMemory, wroteGlobal, wroteExport := !needMemory, false, false
	globals := []byte{byte(I32), 1}
	globals = constExpr(globals, I32, yieldEvery)
	globals = append(globals, byte(I32), 1, 0x41, 0, 0x0b)
	stopEntry := append(name(nil, stopExport), 3)
	stopEntry = uleb(stopEntry, uint64(stop))
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
			emit(6, append(uleb(nil, 2), globals...))
			wroteGlobal = true
		}
		if !wroteExport && rank > order[7] {
			emit(7, append(uleb(nil, 1), stopEntry...))
			wroteExport = true
		}
	}
	for r.pos < len(b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		body, err := r.bytes(size)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			flush(id)
		}
		switch id {
		case 6, 7:
			sr := &reader{b: body}
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			add, extra := 1, stopEntry
			if id == 6 {
				add, extra = 2, globals
			}
			nb := uleb(nil, uint64(n)+uint64(add))
			nb = append(nb, body[sr.pos:]...)
			nb = append(nb, extra...)
			if id == 6 {
				wroteGlobal = true
			} else {
				wroteExport = true
			}
			emit(id, nb)
		case 10:
			code, err := instrumentCode(body, check)
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
// its start and after each loop instruction.
func instrumentCode(body []byte, check []byte) ([]byte, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := uleb(nil, uint64(n))
	for range n {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		fn, err := r.bytes(size)
		if err != nil {
			return nil, err
		}
		nf, err := instrumentFunc(fn, check)
		if err != nil {
			return nil, err
		}
		out = uleb(out, uint64(len(nf)))
		out = append(out, nf...)
	}
	return out, nil
}

func instrumentFunc(fn []byte, check []byte) ([]byte, error) {
	r := &reader{b: fn}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	for range groups {
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		if err := r.skipValType(); err != nil {
			return nil, err
		}
	}
	out := append([]byte(nil), fn[:r.pos]...)
	out = append(out, check...)
	from := r.pos
	for r.pos < len(fn) {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		if err := r.skipImmediates(op); err != nil {
			return nil, fmt.Errorf("opcode 0x%02x: %w", op, err)
		}
		if op == 0x03 { // loop: the check runs at each iteration's start
			out = append(out, fn[from:r.pos]...)
			out = append(out, check...)
			from = r.pos
		}
	}
	return append(out, fn[from:]...), nil
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
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return errors.New("malformed LEB128 number")
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

func (r *reader) u64() (uint64, error) {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("malformed LEB128 number")
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
