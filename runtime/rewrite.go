package runtime

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"path/filepath"
	"sync/atomic"

	"github.com/pal-mcp/pal/internal/privfs"
)

// rewriteVersion names the rewrites below in cache keys: change it when their output changes.
const rewriteVersion = "1"

// maxRewrittenFileBytes bounds a rewritten module read back from the cache (256 MiB).
const maxRewrittenFileBytes = 256 << 20

// rewrites counts the rewrites computed (not read from the cache), for tests.
var rewrites atomic.Int32

// rewrite returns what the module compiles on the engine's runtime: code (the module as
// newModule prepared it) with its data segments merged (mergeData) and the loop-head
// interrupt added (addInterrupt), or false when addInterrupt refuses it (the module then runs
// on the guarded runtime). With an on-disk cache, the result is kept under the module's
// sha256, authenticated by the cache's HMAC like the manifests: the two rewrites cost tens of
// milliseconds at every compile, a cache hit included (docs/RATIONALE.md), and what is read
// back decides whether the deadline check is there, so a file pal did not write is ignored.
func (m *Module) rewrite(code []byte) ([]byte, bool) {
	key := m.sha256 + "-" + rewriteVersion
	if m.snapshots {
		key += "-g" // exportGlobals ran first
	}
	c := m.engine.disk
	path := ""
	if c != nil {
		path = filepath.Join(c.dir, rewrittenDir, key+".wasm")
		if raw, err := privfs.ReadFile(path); err == nil && len(raw) <= maxRewrittenFileBytes {
			if macHex, body, ok := bytes.Cut(raw, []byte("\n")); ok {
				if mac, err := hex.DecodeString(string(macHex)); err == nil && hmac.Equal(mac, c.rewriteMAC(key, body)) {
					return body, true
				}
			}
		}
	}
	rewrites.Add(1)
	if merged, err := mergeData(code); err == nil {
		code = merged
	}
	out, err := addInterrupt(code)
	if err != nil {
		return nil, false
	}
	if c != nil {
		mac := hex.EncodeToString(c.rewriteMAC(key, out))
		file := make([]byte, 0, len(mac)+1+len(out))
		file = append(append(append(file, mac...), '\n'), out...)
		_ = privfs.WriteFileAtomic(path, file, 0o600) // a cache: a failed write costs a rewrite later
	}
	return out, true
}
