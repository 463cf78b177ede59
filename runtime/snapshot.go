package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

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
	m.snap, m.data = s, nil // no instance initialises now
	m.storeSnapshot(s)
}

// startState returns what a new instance starts from, read together: the module's snapshot,
// or, while it has none, the data segments compile took out of the module, which such an
// instance writes before it runs _initialize. Read apart, an instance could see no snapshot
// and then, once another instance had taken one, no segments either, and start from a memory
// without its data (a Rust module then traps at its first indirect call).
func (m *Module) startState() (*snapshot, []dataSegment) {
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	if m.snapshots && m.snap != nil {
		return m.snap, nil
	}
	return nil, m.data
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

// snapshotVersion names the snapshot file's layout in its cache key: change it when the layout
// or what a snapshot holds changes.
const snapshotVersion = "1"

// snapshotHeader is a snapshot file's second line: what is not the memory.
type snapshotHeader struct {
	Pages  uint32   `json:"pages"`
	Names  []string `json:"names"`
	Values []uint64 `json:"values"`
}

// snapshotKey names the module's snapshot file: its sha256 and the layout of the rewrite that
// named its globals.
func (m *Module) snapshotKey() string {
	return m.sha256 + "-" + rewriteVersion + "-s" + snapshotVersion
}

func (c *diskCache) snapshotPath(key string) string {
	return filepath.Join(c.dir, snapshotsDir, key+".snap")
}

// storedSnapshot is a snapshot file read and authenticated by readSnapshot, not yet checked
// against the module (useSnapshot).
type storedSnapshot struct {
	head snapshotHeader
	mem  []byte
}

// readSnapshot reads, on its own goroutine, the snapshot a former process stored
// (storeSnapshot) under the module's key, and sends it, or nil when there is none or its MAC
// does not verify under the cache's key. Call it once the bytes are known to be m.sha256's.
func (m *Module) readSnapshot() <-chan *storedSnapshot {
	out := make(chan *storedSnapshot, 1)
	c := m.engine.disk
	if c == nil || m.engine.cfg.NoSnapshots {
		out <- nil
		return out
	}
	key := m.snapshotKey()
	go func() {
		out <- c.readSnapshot(key)
	}()
	return out
}

func (c *diskCache) readSnapshot(key string) *storedSnapshot {
	head, mem, ok := c.readSealed(c.snapshotPath(key), snapshotLabel, key, maxSnapshotFileBytes)
	if !ok {
		return nil
	}
	s := &storedSnapshot{mem: mem}
	if json.Unmarshal(head, &s.head) != nil {
		return nil
	}
	return s
}

// useSnapshot gives the module a stored snapshot, so that not even its first instance runs
// _initialize, unless it names other globals than this compile exported (m.globals) or does
// not fit the engine's memory cap; then the first instance runs _initialize and stores its
// snapshot anew.
func (m *Module) useSnapshot(s *storedSnapshot) {
	if s == nil || !m.snapshots {
		return
	}
	h := s.head
	if !slices.Equal(h.Names, m.globals) || len(h.Values) != len(h.Names) ||
		uint64(len(s.mem)) > uint64(h.Pages)*65536 || len(s.mem) > MaxSnapshotBytes ||
		uint64(h.Pages)*65536 > m.engine.cfg.MemoryLimitBytes {
		return
	}
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	if !m.snapTried {
		m.snapTried = true
		m.snap = &snapshot{pages: h.Pages, mem: s.mem, values: h.Values, names: m.globals}
	}
}

// storeSnapshot writes s to the cache in the background, for the next process (readSnapshot, useSnapshot).
func (m *Module) storeSnapshot(s *snapshot) {
	c := m.engine.disk
	if c == nil {
		return
	}
	done, ok := m.engine.track()
	if !ok {
		return
	}
	go func() {
		defer done()
		head, err := json.Marshal(snapshotHeader{Pages: s.pages, Names: s.names, Values: s.values})
		if err != nil {
			return
		}
		key := m.snapshotKey()
		c.writeSealed(c.snapshotPath(key), snapshotLabel, key, head, s.mem) // a failed write costs an _initialize later
	}()
}

// maxSnapshotFileBytes bounds a snapshot file read back: MaxSnapshotBytes and a header.
const maxSnapshotFileBytes = MaxSnapshotBytes + 1<<20
