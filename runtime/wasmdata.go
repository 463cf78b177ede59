package runtime

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// Limits of mergeData.
const (
	// mergeDataMinSegments: a module with fewer data segments is left as it is.
	mergeDataMinSegments = 64
	// mergeDataZeroRun: a run of at least this many zero bytes splits the merged data.
	mergeDataZeroRun = 64
	// mergeDataMaxSpan bounds the bytes from the lowest segment's start to the highest
	// segment's end, so that a module cannot make the host allocate more than this.
	mergeDataMaxSpan = 64 << 20
)

// mergeData returns wasm with its active data segments merged into as few as cover their
// bytes, split only at runs of mergeDataZeroRun zero bytes. Instantiating the result puts
// the same bytes in memory as the module as given. Go's linker writes one segment per run of
// non-zero data (the built-in module: 49,467 segments), and wazero evaluates each segment's
// offset expression for every instance, which was most of the cost of a new instance
// (docs/RATIONALE.md). It wraps errNoRewrite, and the module is compiled as it is, when it
// has fewer than mergeDataMinSegments segments, a data count section (then code may name
// segments by index), a segment that is passive, for another memory, or placed by anything
// but an i32.const, or a span over mergeDataMaxSpan.
func mergeData(wasm []byte) ([]byte, error) {
	d, err := parseData(wasm)
	if err != nil {
		return nil, err
	}
	if len(d.segs) < mergeDataMinSegments {
		return nil, fmt.Errorf("%w: %d data segments", errNoRewrite, len(d.segs))
	}
	dataAt, dataStart, dataEnd, segs := d.at, d.start, d.end, d.segs
	lo, hi := ^uint64(0), uint64(0)
	for _, s := range segs {
		lo, hi = min(lo, s.offset), max(hi, s.offset+uint64(len(s.data)))
	}
	if hi <= lo || hi-lo > mergeDataMaxSpan {
		return nil, fmt.Errorf("%w: data spans %d bytes", errNoRewrite, hi-min(lo, hi))
	}
	image := make([]byte, hi-lo)
	for _, s := range segs { // in order: a later segment overwrites an earlier one, as at instantiation
		copy(image[s.offset-lo:], s.data)
	}
	body := make([]byte, 0, len(image)+len(image)/64+16)
	var merged uint64
	for i := 0; i < len(image); {
		if image[i] == 0 {
			i++
			continue
		}
		// A segment from i to the next run of mergeDataZeroRun zeros (or the end).
		end, zeros := i, 0
		for j := i; j < len(image) && zeros < mergeDataZeroRun; j++ {
			if image[j] == 0 {
				zeros++
			} else {
				zeros, end = 0, j+1
			}
		}
		body = append(body, 0, 0x41)
		body = appendSLEB(body, int64(int32(uint32(lo+uint64(i)))))
		body = append(body, 0x0b)
		body = binary.AppendUvarint(body, uint64(end-i))
		body = append(body, image[i:end]...)
		merged++
		i = end
	}
	head := binary.AppendUvarint(nil, merged)
	out := make([]byte, 0, len(wasm)-(dataEnd-dataStart)+len(head)+len(body)+16)
	out = append(out, wasm[:dataAt]...)
	out = append(out, 11)
	out = binary.AppendUvarint(out, uint64(len(head)+len(body)))
	out = append(out, head...)
	out = append(out, body...)
	return append(out, wasm[dataEnd:]...), nil
}

// dataSegment is an active data segment of memory 0: the bytes it puts at offset.
type dataSegment struct {
	offset uint64
	data   []byte // a slice of the module's bytes
}

// dataSection is a module's data section, parsed: where it is (the section's id byte, and its
// content), and its segments in order.
type dataSection struct {
	at, start, end int
	segs           []dataSegment
}

// parseData parses wasm's data section. It wraps errNoRewrite when there is none, a data
// count section (then code may name segments by index), or a segment that is passive, for
// another memory, or placed by anything but an i32.const.
func parseData(wasm []byte) (*dataSection, error) {
	sections, err := splitSections(wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoRewrite, err)
	}
	d := &dataSection{at: -1}
	for _, s := range sections {
		switch s.id {
		case 12:
			return nil, fmt.Errorf("%w: a data count section", errNoRewrite)
		case 11:
			d.at, d.start, d.end = s.at, s.start, s.end
		}
	}
	if d.at < 0 {
		return nil, fmt.Errorf("%w: no data section", errNoRewrite)
	}
	r := &reader{b: wasm[d.start:d.end]}
	count := r.u()
	d.segs = make([]dataSegment, 0, min(count, uint64(len(r.b)/4)))
	for i := uint64(0); i < count && r.err == nil; i++ {
		switch flag := r.u(); flag {
		case 0:
		case 2:
			if r.u() != 0 {
				return nil, fmt.Errorf("%w: a segment for another memory", errNoRewrite)
			}
		default:
			return nil, fmt.Errorf("%w: a passive data segment", errNoRewrite)
		}
		if r.byte() != 0x41 {
			return nil, fmt.Errorf("%w: a segment not placed by i32.const", errNoRewrite)
		}
		v := r.s32()
		if r.byte() != 0x0b {
			return nil, fmt.Errorf("%w: a segment not placed by i32.const", errNoRewrite)
		}
		d.segs = append(d.segs, dataSegment{offset: uint64(uint32(v)), data: r.name()})
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: cannot parse the data section", errNoRewrite)
	}
	return d, nil
}

// splitData returns wasm without its data section, and the segments that section held (slices
// of wasm: ownSegments copies them out). A module's memory after instantiating the result and
// writing the segments in order (writeData) is the one instantiating wasm gives. It wraps
// errNoRewrite, and wasm is to be compiled as it is, when parseData refuses the section, or the
// segments hold more than MaxSnapshotBytes.
func splitData(wasm []byte) ([]byte, []dataSegment, error) {
	d, err := parseData(wasm)
	if err != nil {
		return nil, nil, err
	}
	total := 0
	for _, s := range d.segs {
		total += len(s.data)
	}
	if total > MaxSnapshotBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes of data", errNoRewrite, total)
	}
	out := make([]byte, 0, len(wasm)-(d.end-d.at))
	out = append(append(out, wasm[:d.at]...), wasm[d.end:]...)
	return out, d.segs, nil
}

// ownSegments returns segs with their bytes copied into one buffer of their own, so that they
// do not keep the module's bytes alive.
func ownSegments(segs []dataSegment) []dataSegment {
	total := 0
	for _, s := range segs {
		total += len(s.data)
	}
	buf := make([]byte, 0, total)
	own := make([]dataSegment, len(segs))
	for i, s := range segs {
		buf = append(buf, s.data...)
		own[i] = dataSegment{offset: s.offset, data: buf[len(buf)-len(s.data) : len(buf) : len(buf)]}
	}
	return own
}

// writeData writes segs into mem in order, as instantiation would have: false when one does
// not fit the memory.
func writeData(mem api.Memory, segs []dataSegment) bool {
	if len(segs) > 0 && mem == nil {
		return false
	}
	for _, s := range segs {
		if s.offset > math.MaxUint32 || !mem.Write(uint32(s.offset), s.data) {
			return false
		}
	}
	return true
}

// appendSLEB appends v as a signed LEB128 (wasm's encoding of i32.const and i64.const).
func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// s32 reads a signed LEB128 of at most 5 bytes, as an i32.const's operand.
func (r *reader) s32() int32 {
	var v int64
	var shift uint
	for i := 0; i < 5; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v >= 1<<31 {
				r.fail()
				return 0
			}
			return int32(v)
		}
	}
	r.fail()
	return 0
}
