package runtime

import (
	"errors"
	"fmt"
)

// ErrModuleShape: a module's sections declare more entries than their bytes can hold, or a
// size that runs past the module. CheckSections wraps it.
var ErrModuleShape = errors.New("module sections are malformed")

// maxLocals caps the locals one function may declare: the limit the browsers' WebAssembly
// engines enforce (50,000), far above what any compiler here emits.
const maxLocals = 50_000

// CheckSections walks wasm's sections before any decoder sees them and refuses a module whose
// section sizes run past its end, whose vector sections (types, imports, functions, tables,
// memories, globals, exports, elements, code, data) declare more entries than their bytes can
// hold, whose function types declare more parameters or results than they have bytes, or
// whose functions declare more than 50,000 locals. wazero's decoder allocates what such
// counts declare before it finds the bytes missing: a 26-byte file declaring a billion tables
// exhausted the host's memory (runtime/testdata/fuzz/FuzzAddInterrupt). Everything else is
// left to wazero, which refuses what it cannot decode with an error. The error wraps
// ErrModuleShape.
//
// A module's rewrite stored in the cache (rewrite.go) was made after this check and is used
// without it: make the check stricter only with a new rewriteVersion.
func CheckSections(wasm []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrModuleShape, fmt.Sprintf(format, args...))
	}
	sections, err := splitSections(wasm)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrModuleShape, err)
	}
	for _, s := range sections {
		id, content := s.id, wasm[s.start:s.end]
		if s.start-s.at-1 > 5 { // a u32 size takes at most 5 LEB128 bytes
			return bad("section %d at byte %d: a size of %d bytes", id, s.at, s.start-s.at-1)
		}
		switch id {
		case 1, 2, 3, 4, 5, 6, 7, 9, 10, 11:
		default:
			continue // custom, start, data count and later sections carry no vector to check
		}
		count, m := uvarint(content)
		if m <= 0 || m > 5 {
			return bad("section %d: no entry count within its %d bytes", id, len(content))
		}
		if count > uint64(len(content)-m) {
			return bad("section %d declares %d entries in %d bytes", id, count, len(content)-m)
		}
		r := &reader{b: content[m:]}
		switch id {
		case 1:
			if err := checkTypes(r, count); err != nil {
				return bad("type section: %v", err)
			}
		case 10:
			if err := checkCode(r, count); err != nil {
				return bad("code section: %v", err)
			}
		}
	}
	return nil
}

// checkTypes checks the function types' parameter and result counts against their bytes.
func checkTypes(r *reader, count uint64) error {
	for i := uint64(0); i < count && r.err == nil; i++ {
		if r.byte() != 0x60 {
			return nil // not a function type: wazero refuses it
		}
		for range 2 { // parameters, then results: one byte per value type
			k := r.u()
			if r.err == nil && k > uint64(len(r.b)) {
				return fmt.Errorf("type %d declares %d value types in %d bytes", i, k, len(r.b))
			}
			r.skip(k)
		}
	}
	return nil
}

// checkCode checks each function body's size and the locals it declares.
func checkCode(r *reader, count uint64) error {
	for i := uint64(0); i < count && r.err == nil; i++ {
		size := r.u()
		body := &reader{b: r.skip(size)}
		if r.err != nil {
			return fmt.Errorf("function %d: its size runs past the section", i)
		}
		groups := body.u()
		if body.err == nil && groups > uint64(len(body.b)) {
			return fmt.Errorf("function %d declares %d local groups in %d bytes", i, groups, len(body.b))
		}
		var locals uint64
		for g := uint64(0); g < groups && body.err == nil; g++ {
			locals += body.u()
			body.byte()
			if locals > maxLocals {
				return fmt.Errorf("function %d declares over %d locals", i, maxLocals)
			}
		}
	}
	return nil
}
