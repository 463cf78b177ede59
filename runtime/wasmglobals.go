package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// snapshotGlobalPrefix names the exports exportGlobals adds: the prefix, then the global's
// index (wazero refuses a NUL in a name). A module that already
// exports such a name is left unchanged (and gets no snapshot).
const snapshotGlobalPrefix = "pal.snapshot.global."

// errNoRewrite: the module's layout is one exportGlobals does not rewrite. Not an error of
// the module: it runs as before, initialised in every instance.
var errNoRewrite = errors.New("runtime: module not rewritten for snapshots")

// exportGlobals returns wasm with one export added for each mutable global the module
// defines (of type i32, i64, f32 or f64), named snapshotGlobalPrefix and the global's index,
// and those names, so that the host can read and restore the module's whole global state
// through wazero's public API. Everything else is copied byte for byte. It wraps
// errNoRewrite when the module has a mutable global of another type (v128, a reference), no
// export section, an export name with the prefix, or a layout it cannot parse; a module it
// cannot parse is left for wazero's decoder to refuse.
func exportGlobals(wasm []byte) ([]byte, []string, error) {
	sections, err := splitSections(wasm)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errNoRewrite, err)
	}
	var importedGlobals uint64
	var mutable []uint64 // indexes in the global index space
	exportAt := -1
	for i, s := range sections {
		r := &reader{b: wasm[s.start:s.end]}
		switch s.id {
		case 2: // imports
			for k := r.u(); k > 0 && r.err == nil; k-- {
				r.name()
				r.name()
				switch kind := r.byte(); kind {
				case 0: // function: type index
					r.u()
				case 1: // table: reference type, limits
					r.byte()
					r.limits()
				case 2: // memory: limits
					r.limits()
				case 3: // global: value type, mutability
					r.byte()
					r.byte()
					importedGlobals++
				default:
					r.fail()
				}
			}
		case 6: // globals
			n := r.u()
			for g := uint64(0); g < n && r.err == nil; g++ {
				typ, mut := r.byte(), r.byte()
				r.constExpr()
				if mut == 1 {
					switch typ {
					case 0x7f, 0x7e, 0x7d, 0x7c: // i32, i64, f32, f64
						mutable = append(mutable, importedGlobals+g)
					default:
						return nil, nil, fmt.Errorf("%w: mutable global of type 0x%x", errNoRewrite, typ)
					}
				}
			}
		case 7: // exports
			exportAt = i
			for k := r.u(); k > 0 && r.err == nil; k-- {
				if bytes.HasPrefix(r.name(), []byte(snapshotGlobalPrefix)) {
					return nil, nil, fmt.Errorf("%w: export name with the reserved prefix", errNoRewrite)
				}
				r.byte()
				r.u()
			}
		default:
			continue
		}
		if r.err != nil || len(r.b) != 0 {
			return nil, nil, fmt.Errorf("%w: cannot parse section %d", errNoRewrite, s.id)
		}
	}
	if exportAt < 0 {
		return nil, nil, fmt.Errorf("%w: no export section", errNoRewrite)
	}
	if len(mutable) == 0 {
		return wasm, nil, nil
	}
	ex := sections[exportAt]
	old := &reader{b: wasm[ex.start:ex.end]}
	count := old.u()
	body := binary.AppendUvarint(nil, count+uint64(len(mutable)))
	body = append(body, old.b...) // the existing entries, unchanged
	names := make([]string, len(mutable))
	for i, idx := range mutable {
		names[i] = fmt.Sprintf("%s%d", snapshotGlobalPrefix, idx)
		body = binary.AppendUvarint(body, uint64(len(names[i])))
		body = append(body, names[i]...)
		body = append(body, 3) // global
		body = binary.AppendUvarint(body, idx)
	}
	out := make([]byte, 0, len(wasm)+len(body)-(ex.end-ex.start)+8)
	out = append(out, wasm[:ex.at]...)
	out = append(out, 7)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	out = append(out, wasm[ex.end:]...)
	return out, names, nil
}

// uvarint reads an unsigned LEB128 of at most 10 bytes (binary.Uvarint's encoding).
func uvarint(b []byte) (uint64, int) { return binary.Uvarint(b) }

// reader walks a section's content; the first problem sets err and later reads return zero.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errNoRewrite
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u() uint64 {
	v, n := uvarint(r.b)
	if r.err != nil || n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// leb skips a LEB128, signed or not, of at most 10 bytes.
func (r *reader) leb() {
	for i := 0; i < 10; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail()
}

func (r *reader) skip(n uint64) []byte {
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) name() []byte { return r.skip(r.u()) }

func (r *reader) limits() {
	flags := r.byte()
	r.u()
	if flags&1 != 0 {
		r.u()
	}
}

// constExpr skips a constant expression up to and including its end opcode.
func (r *reader) constExpr() {
	for r.err == nil {
		switch op := r.byte(); op {
		case 0x0b: // end
			return
		case 0x41, 0x42: // i32.const, i64.const: a signed LEB128
			r.leb()
		case 0x23, 0xd2: // global.get, ref.func
			r.u()
		case 0x43: // f32.const
			r.skip(4)
		case 0x44: // f64.const
			r.skip(8)
		case 0xd0: // ref.null
			r.byte()
		case 0xfd: // v128.const
			if r.u() != 12 {
				r.fail()
			}
			r.skip(16)
		default:
			r.fail()
		}
	}
}
