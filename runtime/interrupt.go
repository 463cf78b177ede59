package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero/api"
)

// interruptExport names the global addInterrupt adds and exports: 0 while a call may run, 1
// once its context is done. A module that already exports the name is not rewritten.
const interruptExport = "pal.interrupt"

// interruptPeriod is how many loop iterations a guest runs between two looks at the
// interrupt global. Each look is a memory.grow of 0 pages, which wazero serves in Go: the
// goroutine running the guest then reaches a Go preemption point, so a stop-the-world (the
// garbage collector's) and the goroutine that sets the global both get to run. A guest that
// ran wasm with no such exit would hold a stop-the-world, and with it the whole process, for
// as long as it loops.
const interruptPeriod = 10000

// loopCheck returns what addInterrupt puts at the head of every loop, given the indexes of
// the countdown and interrupt globals:
//
//	if (global.get $count) { $count = $count - 1 }
//	else { $count = interruptPeriod; drop(memory.grow(0)); if (global.get $interrupt) { unreachable } }
func loopCheck(count, interrupt uint64) []byte {
	b := binary.AppendUvarint([]byte{0x23}, count)
	b = append(b, 0x04, 0x40, 0x23)
	b = binary.AppendUvarint(b, count)
	b = append(b, 0x41, 0x01, 0x6b, 0x24)
	b = binary.AppendUvarint(b, count)
	b = append(b, 0x05, 0x41)
	b = appendSLEB(b, interruptPeriod)
	b = append(b, 0x24)
	b = binary.AppendUvarint(b, count)
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a, 0x23)
	b = binary.AppendUvarint(b, interrupt)
	return append(b, 0x04, 0x40, 0x00, 0x0b, 0x0b)
}

// addInterrupt returns wasm with two new mutable i32 globals, a countdown and the interrupt
// flag (0; exported as interruptExport), and loopCheck at the head of every loop of every
// function: once the host sets the flag, a loop traps within interruptPeriod iterations. It
// is how a call's deadline stops a guest that never calls the host, for a few instructions
// per iteration, where wazero's WithCloseOnContextDone leaves wasm for Go at every one
// (docs/RATIONALE.md). Everything else is copied byte for byte. It wraps errNoRewrite when the
// module has no export section or memory, already exports interruptExport, or holds an
// instruction or a layout it does not parse; such a module runs on a runtime with
// WithCloseOnContextDone (Engine.runtime).
func addInterrupt(wasm []byte) ([]byte, error) {
	sections, err := splitSections(wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoRewrite, err)
	}
	var importedGlobals, definedGlobals uint64
	globalAt, exportAt, codeAt := -1, -1, -1
	memory := false
	for i, s := range sections {
		r := &reader{b: wasm[s.start:s.end]}
		switch s.id {
		case 2: // imports
			for k := r.u(); k > 0 && r.err == nil; k-- {
				r.name()
				r.name()
				switch r.byte() {
				case 0:
					r.u()
				case 1:
					r.byte()
					r.limits()
				case 2:
					r.limits()
					memory = true
				case 3:
					r.byte()
					r.byte()
					importedGlobals++
				default:
					r.fail()
				}
			}
			if r.err != nil || len(r.b) != 0 {
				return nil, fmt.Errorf("%w: cannot parse the import section", errNoRewrite)
			}
		case 5:
			memory = memory || r.u() > 0
		case 6:
			globalAt = i
			definedGlobals = r.u()
		case 7:
			exportAt = i
			for k := r.u(); k > 0 && r.err == nil; k-- {
				if bytes.Equal(r.name(), []byte(interruptExport)) {
					return nil, fmt.Errorf("%w: the module exports %s", errNoRewrite, interruptExport)
				}
				r.byte()
				r.u()
			}
			if r.err != nil || len(r.b) != 0 {
				return nil, fmt.Errorf("%w: cannot parse the export section", errNoRewrite)
			}
		case 10:
			codeAt = i
		}
	}
	if exportAt < 0 || !memory {
		return nil, fmt.Errorf("%w: no export section or no memory", errNoRewrite)
	}
	count := importedGlobals + definedGlobals
	idx := count + 1
	check := loopCheck(count, idx)

	out := make([]byte, 0, len(wasm)+len(wasm)/8+64)
	out = append(out, wasm[:8]...)
	appendSection := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	// The new globals: the countdown (i32, mutable, interruptPeriod) and the flag (i32,
	// mutable, 0).
	newGlobals := append(appendSLEB([]byte{0x7f, 0x01, 0x41}, interruptPeriod), 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b)
	for i, s := range sections {
		switch {
		case i == globalAt:
			r := &reader{b: wasm[s.start:s.end]}
			n := r.u()
			body := binary.AppendUvarint(nil, n+2)
			body = append(body, r.b...)
			appendSection(6, append(body, newGlobals...))
		case i == exportAt:
			if globalAt < 0 {
				appendSection(6, append([]byte{2}, newGlobals...))
			}
			r := &reader{b: wasm[s.start:s.end]}
			n := r.u()
			body := binary.AppendUvarint(nil, n+1)
			body = append(body, r.b...)
			body = binary.AppendUvarint(body, uint64(len(interruptExport)))
			body = append(body, interruptExport...)
			body = append(body, 3) // global
			appendSection(7, binary.AppendUvarint(body, idx))
		case i == codeAt:
			body, err := instrumentCode(wasm[s.start:s.end], check)
			if err != nil {
				return nil, err
			}
			appendSection(10, body)
		default:
			out = append(out, wasm[s.at:s.end]...)
		}
	}
	return out, nil
}

// instrumentCode rewrites a code section's content with check after every loop's block type.
func instrumentCode(code, check []byte) ([]byte, error) {
	r := &reader{b: code}
	n := r.u()
	out := make([]byte, 0, len(code)+len(code)/8+16) // the built-in module's grows by 4 %
	out = binary.AppendUvarint(out, n)
	var body []byte
	for f := uint64(0); f < n && r.err == nil; f++ {
		fn := r.skip(r.u())
		if r.err != nil {
			break
		}
		var err error
		if body, err = instrumentBody(body[:0], fn, check); err != nil {
			return nil, err
		}
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: cannot parse the code section", errNoRewrite)
	}
	return out, nil
}

// instrumentBody appends fn, one function body, to out with check after every loop's block
// type. It decodes every instruction of the WebAssembly 2.0 core (with SIMD), the features
// the engine's runtime enables; anything else wraps errNoRewrite. It walks fn by index, not
// with a reader: it runs over every byte of code at each compile, cache hit or not.
func instrumentBody(out, fn, check []byte) ([]byte, error) {
	i := 0
	var k uint64
	if k, i = lebU(fn, i); i < 0 { // locals: count, type
		return nil, errBadBody
	}
	for ; k > 0 && i >= 0; k-- {
		if i = skipLEB(fn, i); i >= 0 && i < len(fn) {
			i++
		} else {
			i = -1
		}
	}
	from := 0 // fn[from:] is not copied yet
	for i >= 0 && i < len(fn) {
		op := fn[i]
		i++
		switch {
		case op == 0x03: // loop bt
			if i = skipLEB(fn, i); i < 0 {
				break
			}
			out = append(out, fn[from:i]...)
			out = append(out, check...)
			from = i
		case op == 0x02 || op == 0x04: // block, if: a block type (an s33)
			i = skipLEB(fn, i)
		case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1:
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0xd2: // br, br_if, call, ref.func
			i = skipLEB(fn, i)
		case op == 0x0e: // br_table
			var n uint64
			for n, i = lebU(fn, i); n > 0 && i >= 0; n-- {
				i = skipLEB(fn, i)
			}
			i = skipLEB(fn, i)
		case op == 0x11: // call_indirect
			i = skipLEB(fn, skipLEB(fn, i))
		case op == 0x1c: // select t*
			var n uint64
			if n, i = lebU(fn, i); i >= 0 && n <= uint64(len(fn)-i) {
				i += int(n)
			} else {
				i = -1
			}
		case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
			i = skipLEB(fn, i)
		case op >= 0x28 && op <= 0x3e: // memarg
			i = skipLEB(fn, skipLEB(fn, i))
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			i = skipN(fn, i, 1)
		case op == 0x41 || op == 0x42:
			i = skipLEB(fn, i)
		case op == 0x43:
			i = skipN(fn, i, 4)
		case op == 0x44:
			i = skipN(fn, i, 8)
		case op >= 0x45 && op <= 0xc4: // numeric, no immediates
		case op == 0xd0: // ref.null t
			i = skipN(fn, i, 1)
		case op == 0xfc:
			var sub uint64
			switch sub, i = lebU(fn, i); {
			case i < 0:
			case sub <= 7: // saturating truncations
			case sub == 8: // memory.init
				i = skipN(fn, skipLEB(fn, i), 1)
			case sub == 9 || sub == 13 || sub == 15 || sub == 16 || sub == 17:
				i = skipLEB(fn, i)
			case sub == 10:
				i = skipN(fn, i, 2)
			case sub == 11:
				i = skipN(fn, i, 1)
			case sub == 12 || sub == 14:
				i = skipLEB(fn, skipLEB(fn, i))
			default:
				i = -1
			}
		case op == 0xfd:
			var sub uint64
			switch sub, i = lebU(fn, i); {
			case i < 0:
			case sub <= 11 || sub == 92 || sub == 93:
				i = skipLEB(fn, skipLEB(fn, i))
			case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
				i = skipN(fn, i, 16)
			case sub >= 21 && sub <= 34: // extract/replace lane
				i = skipN(fn, i, 1)
			case sub >= 84 && sub <= 91: // load/store lane
				i = skipN(fn, skipLEB(fn, skipLEB(fn, i)), 1)
			case sub <= 255:
			default:
				i = -1
			}
		default:
			i = -1
		}
	}
	if i != len(fn) || fn[len(fn)-1] != 0x0b {
		return nil, errBadBody
	}
	return append(out, fn[from:]...), nil
}

var errBadBody = fmt.Errorf("%w: cannot parse a function body", errNoRewrite)

// skipLEB returns the index after the LEB128 (of at most 10 bytes) at b[i], or -1.
func skipLEB(b []byte, i int) int {
	if i < 0 {
		return -1
	}
	for end := min(i+10, len(b)); i < end; {
		c := b[i]
		i++
		if c < 0x80 {
			return i
		}
	}
	return -1
}

// lebU reads the unsigned LEB128 (of at most 10 bytes) at b[i]: its value and the index after
// it, or -1.
func lebU(b []byte, i int) (uint64, int) {
	if i < 0 || i >= len(b) {
		return 0, -1
	}
	if c := b[i]; c < 0x80 {
		return uint64(c), i + 1
	}
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

// skipN returns i+n when b holds n bytes from i, else -1.
func skipN(b []byte, i, n int) int {
	if i < 0 || n > len(b)-i {
		return -1
	}
	return i + n
}

// interrupter sets an instance's interrupt global when a context is done, and never after
// the instance's call is over (so it does not race with a snapshot's reading of the globals).
type interrupter struct {
	mu   sync.Mutex
	g    api.MutableGlobal
	over bool
}

// watch sets g to 1 when ctx is done, until the returned func is called; that func returns
// once no write can follow. A nil g (a module without the global) watches nothing.
func watch(ctx context.Context, g api.MutableGlobal) (stop func()) {
	if g == nil {
		return func() {}
	}
	it := &interrupter{g: g}
	cancel := context.AfterFunc(ctx, func() {
		it.mu.Lock()
		defer it.mu.Unlock()
		if !it.over {
			it.g.Set(1)
		}
	})
	return func() {
		if !cancel() {
			it.mu.Lock()
			it.over = true
			it.mu.Unlock()
		}
	}
}
