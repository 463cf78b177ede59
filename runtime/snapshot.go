package runtime

import (
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// MaxSnapshotBytes bounds the memory a module's snapshot keeps: a module whose memory after
// _initialize is larger gets none, and every instance of it runs _initialize. It is held once
// per module for the engine's life, so it bounds what a hostile module's start-up can make the
// host keep.
const MaxSnapshotBytes = 32 << 20

// snapshot is a module's state right after _initialize, taken from an instance that has not
// served a call: its linear memory (up to the last non-zero byte; the rest is zero) and size,
// and the values of its mutable globals, in the order of Module.globals. A new instance gets
// it in place of running _initialize: the same bytes every instance would compute, but for
// what _initialize read from the clock and the random source (see docs/RATIONALE.md).
type snapshot struct {
	pages  uint32
	mem    []byte
	values []uint64
	names  []string
}

// snapshot returns the module's snapshot, or nil while it has none.
func (m *Module) snapshot() *snapshot {
	if !m.snapshots {
		return nil
	}
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	return m.snap
}

// takeSnapshot records inst's state as the module's snapshot, unless one was taken or
// refused already. inst must have run _initialize and nothing else.
func (m *Module) takeSnapshot(inst *instance) {
	if !m.snapshots {
		return
	}
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	if m.snapTried {
		return
	}
	m.snapTried = true
	s, err := capture(inst.mod, m.globals)
	if err != nil {
		return // this module initialises every instance
	}
	m.snap = s
}

var errNoSnapshot = errors.New("runtime: no snapshot")

// capture copies mod's memory and the named globals.
func capture(mod api.Module, names []string) (*snapshot, error) {
	mem := mod.Memory()
	if mem == nil {
		return nil, fmt.Errorf("%w: no memory", errNoSnapshot)
	}
	size := mem.Size()
	if uint64(size) > MaxSnapshotBytes {
		return nil, fmt.Errorf("%w: %d bytes of memory", errNoSnapshot, size)
	}
	buf, ok := mem.Read(0, size)
	if !ok {
		return nil, fmt.Errorf("%w: memory unreadable", errNoSnapshot)
	}
	end := len(buf)
	for end > 0 && buf[end-1] == 0 {
		end--
	}
	s := &snapshot{pages: size / 65536, mem: append([]byte(nil), buf[:end]...), names: names}
	for _, name := range names {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return nil, fmt.Errorf("%w: global %q not exported", errNoSnapshot, name)
		}
		s.values = append(s.values, g.Get())
	}
	return s, nil
}

// restore puts the snapshot's memory and globals in mod, a new instance of the module it was
// taken from that has run no start function. Memory past the snapshot's bytes is zeroed (the
// module's data segments may have put bytes there that _initialize cleared).
func (s *snapshot) restore(mod api.Module) error {
	mem := mod.Memory()
	if mem == nil {
		return fmt.Errorf("%w: no memory", errNoSnapshot)
	}
	if have := mem.Size() / 65536; have < s.pages {
		if _, ok := mem.Grow(s.pages - have); !ok {
			return fmt.Errorf("%w: memory cannot grow to %d pages", errNoSnapshot, s.pages)
		}
	}
	if !mem.Write(0, s.mem) {
		return fmt.Errorf("%w: memory too small", errNoSnapshot)
	}
	if rest, ok := mem.Read(uint32(len(s.mem)), mem.Size()-uint32(len(s.mem))); ok {
		clear(rest)
	}
	for i, name := range s.names {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("%w: global %q not exported", errNoSnapshot, name)
		}
		g.Set(s.values[i])
	}
	return nil
}
