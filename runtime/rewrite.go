package runtime

import (
	"path/filepath"
	"strings"
	"sync/atomic"
)

// rewriteVersion names the rewrites below and the cache file's layout in cache keys: change
// it when their output changes. 2: exportGlobals runs here, and the file records its names.
const rewriteVersion = "2"

// maxRewrittenFileBytes bounds a rewritten module read back from the cache (256 MiB).
const maxRewrittenFileBytes = 256 << 20

// Words of a rewritten file's second line: the mutable globals exportGlobals exported, or none
// when it left the module as it was (no snapshots).
const (
	rewriteMetaGlobals   = "globals"
	rewriteMetaNoGlobals = "no-globals"
)

// rewrites counts the rewrites computed (not read from the cache), for tests.
var rewrites atomic.Int32

// rewrite returns what the module compiles, and whether that is on the engine's runtime (the
// loop-head interrupt is in it) rather than the guarded one, and sets m.globals and
// m.snapshots. load returns the module as given; the result has its mutable globals exported for
// snapshots (exportGlobals, unless the engine has them off or the module's layout is one it
// leaves alone), its data segments merged (mergeData) and the loop-head interrupt added
// (addInterrupt); when addInterrupt refuses the module, it is compiled with only its globals
// exported, for the guarded runtime. The bytes must pass check before any of this; its error is
// returned.
//
// With an on-disk cache, an interruptible result is kept under the module's sha256 with the
// names of the globals, authenticated by the cache's HMAC like the manifests: the rewrites
// cost tens of milliseconds at every compile, a cache hit included (docs/RATIONALE.md), and
// what is read back decides whether the deadline check is there, so a file pal did not write
// is ignored. A file read back is used without reading code at all: pal wrote it from bytes
// that passed check and had that sha256, so a module whose hash came from its build
// (BuildSHA256) compiles the code of that hash, and its own bytes, not read, cannot differ
// from it in what runs. Change rewriteVersion when check gets stricter.
func (m *Module) rewrite(load func() ([]byte, error), check func([]byte) error) ([]byte, bool, error) {
	snapshots := !m.engine.cfg.NoSnapshots
	key := m.sha256 + "-" + rewriteVersion
	if snapshots {
		key += "-g" // exportGlobals runs first
	}
	c := m.engine.disk
	path := ""
	if c != nil && !m.engine.noInterrupt {
		path = filepath.Join(c.dir, rewrittenDir, key+".wasm")
		if body, globals, ok := c.readRewritten(path, key); ok {
			m.globals, m.snapshots = globals, globals != nil
			return body, true, nil
		}
	}
	code, err := load() // only now: a cache hit needs no bytes (ReadBytes)
	if err != nil {
		return nil, false, err
	}
	if err := check(code); err != nil {
		return nil, false, err
	}
	if snapshots {
		if out, names, err := exportGlobals(code); err == nil {
			code, m.globals, m.snapshots = out, names, true
		}
	}
	if m.engine.noInterrupt {
		return code, false, nil
	}
	rewrites.Add(1)
	merged := code
	if b, err := mergeData(code); err == nil {
		merged = b
	}
	out, err := addInterrupt(merged)
	if err != nil {
		return code, false, nil
	}
	if c != nil {
		c.writeRewritten(path, key, out, m.snapshots, m.globals)
	}
	return out, true, nil
}

// readRewritten reads a rewritten module written by writeRewritten under key: its bytes and
// the names of its exported globals (nil: none, no snapshots; empty: snapshots of memory
// only), or false when there is none or its MAC does not verify.
func (c *diskCache) readRewritten(path, key string) (body []byte, globals []string, ok bool) {
	meta, body, ok := c.readSealed(path, rewrittenLabel, key, maxRewrittenFileBytes)
	if !ok {
		return nil, nil, false
	}
	words := strings.Fields(string(meta))
	switch {
	case len(words) == 1 && words[0] == rewriteMetaNoGlobals:
		return body, nil, true
	case len(words) >= 1 && words[0] == rewriteMetaGlobals:
		globals = words[1:]
		for _, g := range globals {
			if !strings.HasPrefix(g, snapshotGlobalPrefix) {
				return nil, nil, false
			}
		}
		return body, append([]string{}, globals...), true
	}
	return nil, nil, false
}

// writeRewritten stores a rewritten module under key: its MAC, a line naming the globals
// exportGlobals exported (when snapshots), and its bytes. A failed write costs a rewrite later.
func (c *diskCache) writeRewritten(path, key string, wasm []byte, snapshots bool, globals []string) {
	meta := rewriteMetaNoGlobals
	if snapshots {
		meta = strings.Join(append([]string{rewriteMetaGlobals}, globals...), " ")
	}
	c.writeSealed(path, rewrittenLabel, key, []byte(meta), wasm)
}
