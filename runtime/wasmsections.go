package runtime

import (
	"bytes"
	"errors"
	"fmt"
)

// wasmSection is one section of a module, as splitSections finds it.
type wasmSection struct {
	id byte
	// at is the offset of the id byte; start and end bound the content, after the id and
	// the size (a size may be padded, so start is kept, not computed from at).
	at, start, end int
}

// Errors of splitSections.
var (
	errNoHeader    = errors.New("no wasm header")
	errSectionSize = errors.New("bad section size")
)

// splitSections checks wasm's header and returns its sections in order. A section whose size
// runs past the module's end fails with errSectionSize (wrapped with the section's id and
// offset), a module without the wasm magic with errNoHeader. It reads only ids and sizes:
// what a section holds is its caller's to check.
func splitSections(wasm []byte) ([]wasmSection, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errNoHeader
	}
	var out []wasmSection
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n := uvarint(wasm[p+1:])
		if n <= 0 || size > uint64(len(wasm)-p-1-n) {
			return nil, fmt.Errorf("%w: section %d at byte %d runs past the module's end", errSectionSize, id, p)
		}
		start := p + 1 + n
		out = append(out, wasmSection{id: id, at: p, start: start, end: start + int(size)})
		p = start + int(size)
	}
	return out, nil
}
