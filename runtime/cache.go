package runtime

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pal-mcp/pal/internal/privfs"
)

// The on-disk compilation cache is native code that wazero maps executable after checking
// only a checksum of each file, so a file pal did not write must never reach wazero. pal
// keeps an index of every file wazero wrote, with its sha256, authenticated by an
// HMAC-SHA256 under a key only the user can read (Config.CacheKey). Before each compile,
// under an exclusive lock on the cache, every file under compiled/ that is not in the index,
// or whose sha256 differs, is deleted; after the compile, the files wazero added are
// recorded and the index is MACed again. Manifests carry their own HMAC.
//
// Layout of Config.CacheDir (all made by pal, 0700 directories, 0600 files):
//
//	lock                     flock(2) target serialising sweeps and compiles
//	index                    the authenticated index of compiled/
//	compiled/wazero-V-A-O/   wazero's files, one per compiled module (hex names)
//	manifests/HASH.json      one manifest per module sha256, with its HMAC
//	rewritten/KEY.wasm       a module as compile rewrites it (rewrite.go), with its HMAC
//	snapshots/KEY.snap       a module's state after _initialize (snapshot.go), with its HMAC

// Errors of the cache.
var (
	// ErrCacheKey: a CacheKey shorter than MinCacheKeyBytes.
	ErrCacheKey = errors.New("runtime: compile cache key is too short")
	// errIndexMAC: the index is not the one pal wrote under this key.
	errIndexMAC = errors.New("compile cache index does not verify")
)

// MinCacheKeyBytes is the shortest Config.CacheKey accepted: 16 bytes.
const MinCacheKeyBytes = 16

const (
	indexHeader    = "pal compile cache index 2\n"
	indexMACLabel  = "mac "
	indexUsedLabel = "used"
	compiledDir    = "compiled"
	manifestsDir   = "manifests"
	rewrittenDir   = "rewritten"
	snapshotsDir   = "snapshots"
	// maxIndexBytes bounds the index read back: 4 MiB, some 40 000 entries.
	maxIndexBytes = 4 << 20
)

// diskCache guards the on-disk compilation cache of one engine.
type diskCache struct {
	dir string // Config.CacheDir
	key []byte
	now func() time.Time // time.Now; tests set it

	mu sync.Mutex // guards seen, and serialises this engine's sweeps
	// seen holds, for files verified by this process, the stamp they had (inode, size,
	// mtime, ctime) and their sha256: an unchanged stamp needs no rehash.
	seen map[string]seenFile
	// hashed counts the files this cache hashed (sum), for tests.
	hashed int
}

type seenFile struct {
	stamp string
	sum   string
}

// openDiskCache makes and checks the cache directories and the lock. It does not sweep compiled/: wazero
// reads that directory only inside a compile, and every compile sweeps first (compile), so
// start-up does not pay for hashing the cached code (docs/RATIONALE.md).
func openDiskCache(dir string, key []byte) (*diskCache, error) {
	if len(key) < MinCacheKeyBytes {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrCacheKey, len(key), MinCacheKeyBytes)
	}
	if err := privfs.EnsureDirs(dir, compiledDir, manifestsDir, rewrittenDir, snapshotsDir); err != nil {
		return nil, fmt.Errorf("runtime: cache dir: %w", err)
	}
	// Others may not even read it: it tells which modules the user runs. It is ours (checked).
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("runtime: cache dir: %w", err)
		}
	}
	c := &diskCache{dir: dir, key: bytes.Clone(key), now: time.Now, seen: map[string]seenFile{}}
	// Take the lock once, so that a lock file that is not ours is refused at start.
	if err := c.withLock(func() error { return nil }); err != nil {
		return nil, err
	}
	return c, nil
}

// withLock runs fn holding the engine's mutex and an exclusive flock on dir/lock, which every
// pal process using the cache takes before touching compiled/.
func (c *diskCache) withLock(fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	unlock, err := privfs.Lock(filepath.Join(c.dir, "lock"))
	if err != nil {
		return fmt.Errorf("runtime: cache lock: %w", err)
	}
	defer unlock()
	return fn()
}

// compile runs compile (a wazero compile of the module whose sha256 is owner, "" for none
// known) between a sweep and a record, under the lock.
func (c *diskCache) compile(owner string, compile func() error) error {
	var cerr error
	err := c.withLock(func() error {
		index, err := c.sweep(owner)
		if err != nil {
			return err
		}
		cerr = compile()
		return c.record(index, owner)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// cacheIndex is what the index file holds: every file under compiled/ pal vouches for, and the
// day each module was last compiled.
type cacheIndex struct {
	files map[string]indexEntry // by path under compiled/
	used  map[string]int64      // module sha256 -> unix day (UTC) of its last compile
}

// indexEntry is one file of compiled/: its sha256, the module whose compile wrote it ("" when
// none was named), and its stamp (fileStamp) when that sha256 was computed.
type indexEntry struct {
	sum, owner, stamp string
}

func newCacheIndex() *cacheIndex {
	return &cacheIndex{files: map[string]indexEntry{}, used: map[string]int64{}}
}

func (x *cacheIndex) equal(y *cacheIndex) bool {
	if len(x.files) != len(y.files) || len(x.used) != len(y.used) {
		return false
	}
	for rel, e := range x.files {
		if y.files[rel] != e {
			return false
		}
	}
	for owner, day := range x.used {
		if d, ok := y.used[owner]; !ok || d != day {
			return false
		}
	}
	return true
}

// today is the unix day (UTC) of c.now.
func (c *diskCache) today() int64 { return c.now().Unix() / 86400 }

// sweep deletes every file under compiled/ that the index does not vouch for, and what the
// cache holds for modules not compiled for CacheUnusedDays (pruneUnused); it drops index
// entries whose file is gone, records owner as compiled today, and returns the index
// (rewritten if it changed). A file whose stamp is the one the index recorded with its
// sha256 is not hashed again: the index is authenticated, and any write to the file changes
// its ctime, which no process can set back. Call it with the lock held.
func (c *diskCache) sweep(owner string) (*cacheIndex, error) {
	index, rerr := c.readIndex()
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && !errors.Is(rerr, errIndexMAC) {
		return nil, rerr
	}
	if rerr != nil {
		index = newCacheIndex() // no index, or not ours: nothing in compiled/ is vouched for
	}
	today := c.today()
	stale := map[string]bool{}
	for o, day := range index.used {
		if o != owner && today-day > CacheUnusedDays {
			stale[o] = true
		}
	}
	for rel, e := range index.files {
		if _, ok := c.seen[rel]; !ok && e.stamp != "" {
			c.seen[rel] = seenFile{stamp: e.stamp, sum: e.sum}
		}
	}
	found, err := c.scan(func(rel string, sum string) bool {
		e, ok := index.files[rel]
		return ok && sum != "" && e.sum == sum && !stale[e.owner]
	})
	if err != nil {
		return nil, err
	}
	next := newCacheIndex()
	for rel, sum := range found {
		next.files[rel] = indexEntry{sum: sum, owner: index.files[rel].owner, stamp: c.seen[rel].stamp}
	}
	for o, day := range index.used {
		if !stale[o] {
			next.used[o] = day
		}
	}
	if owner != "" {
		next.used[owner] = today
	}
	if err := c.pruneUnused(stale, next.used); err != nil {
		return nil, err
	}
	if rerr != nil || !next.equal(index) {
		if err := c.writeIndex(next); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// CacheUnusedDays is how long the compile cache keeps what it holds for a module no pal
// compiled: 30 days. Past it, the module's compiled code, rewritten module, snapshot and
// manifest are deleted at the next compile of another module; a module used again compiles
// from nothing once.
const CacheUnusedDays = 30

// pruneUnused deletes the rewritten modules, snapshots and manifests of the stale modules,
// and those of modules the index does not know (written before it recorded uses, or by a
// compile that failed before its record) not modified for CacheUnusedDays. Their names start
// with the module's sha256; any other name is left alone.
func (c *diskCache) pruneUnused(stale map[string]bool, used map[string]int64) error {
	old := c.now().Add(-CacheUnusedDays * 24 * time.Hour)
	for _, sub := range []string{rewrittenDir, snapshotsDir, manifestsDir} {
		dir := filepath.Join(c.dir, sub)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("runtime: cache: %w", err)
		}
		for _, ent := range ents {
			name := ent.Name()
			if len(name) < sha256HexLen || !isLowerHex(name[:sha256HexLen]) || !ent.Type().IsRegular() {
				continue
			}
			hash := name[:sha256HexLen]
			if !stale[hash] {
				if _, known := used[hash]; known {
					continue
				}
				fi, err := ent.Info()
				if err != nil || fi.ModTime().After(old) {
					continue
				}
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("runtime: cache: pruning %s/%s: %w", sub, name, err)
			}
		}
	}
	return nil
}

// sha256HexLen is the length of a sha256 in hex.
const sha256HexLen = 64

func isLowerHex(s string) bool {
	for i := range len(s) {
		if b := s[i]; (b < '0' || b > '9') && (b < 'a' || b > 'f') {
			return false
		}
	}
	return true
}

// record adds the files wazero wrote during the compile of owner (any file not in before) to
// the index. Call it with the lock held, right after the compile: nothing else writes
// compiled/ then.
func (c *diskCache) record(before *cacheIndex, owner string) error {
	found, err := c.scan(func(rel, sum string) bool {
		if sum == "" || strings.HasSuffix(rel, ".tmp") {
			return false // a file we cannot vouch for, or a write wazero abandoned
		}
		return true
	})
	if err != nil {
		return err
	}
	next := &cacheIndex{files: make(map[string]indexEntry, len(found)), used: before.used}
	for rel, sum := range found {
		e := indexEntry{sum: sum, owner: owner, stamp: c.seen[rel].stamp}
		if b, ok := before.files[rel]; ok && b.sum == sum {
			e.owner = b.owner
		}
		next.files[rel] = e
	}
	if next.equal(before) {
		return nil
	}
	return c.writeIndex(next)
}

// scan walks compiled/ (directories one level deep, files in them) and hashes each file;
// keep decides which files stay. Anything else (a symlink, a file directly in compiled/, a
// deeper directory, a file the privfs checks refuse) is deleted. It returns what was kept.
func (c *diskCache) scan(keep func(rel, sum string) bool) (kept map[string]string, err error) {
	top := filepath.Join(c.dir, compiledDir)
	kept = map[string]string{}
	remove := func(rel string) error {
		if err := os.RemoveAll(filepath.Join(top, rel)); err != nil {
			return fmt.Errorf("runtime: cache: removing %s: %w", rel, err)
		}
		return nil
	}
	subs, err := os.ReadDir(top)
	if err != nil {
		return nil, fmt.Errorf("runtime: cache: %w", err)
	}
	for _, sub := range subs {
		// Only a real directory of ours, as wazero makes one per version, arch and OS.
		if !sub.IsDir() || sub.Type()&fs.ModeSymlink != 0 || privfs.EnsureDir(filepath.Join(top, sub.Name())) != nil {
			if err := remove(sub.Name()); err != nil {
				return nil, err
			}
			continue
		}
		files, err := os.ReadDir(filepath.Join(top, sub.Name()))
		if err != nil {
			return nil, fmt.Errorf("runtime: cache: %w", err)
		}
		for _, f := range files {
			rel := sub.Name() + "/" + f.Name()
			sum := ""
			if f.Type().IsRegular() && !strings.ContainsAny(rel, " \n\r") {
				sum = c.sum(rel, filepath.Join(top, sub.Name(), f.Name()))
			}
			if keep(rel, sum) {
				kept[rel] = sum
				continue
			}
			delete(c.seen, rel)
			if err := remove(rel); err != nil {
				return nil, err
			}
		}
	}
	return kept, nil
}

// sum returns the sha256 (hex) of the file at path, opened with privfs's checks, or "" when
// it cannot be read or fails them. A file whose stamp is the one this process last hashed is
// not hashed again.
func (c *diskCache) sum(rel, path string) string {
	f, err := privfs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	stamp := fileStamp(fi)
	if s, ok := c.seen[rel]; ok && stamp != "" && s.stamp == stamp {
		return s.sum
	}
	c.hashed++
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if stamp != "" {
		c.seen[rel] = seenFile{stamp: stamp, sum: sum}
	}
	return sum
}

// readIndex reads and verifies the index: errIndexMAC when its MAC is not ours, or when it is
// an older layout (its files are then compiled again).
func (c *diskCache) readIndex() (*cacheIndex, error) {
	raw, err := privfs.ReadFileLimit(filepath.Join(c.dir, "index"), maxIndexBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// A symlink, a file of someone else's, a hard link, one too large: not an index pal wrote.
		return nil, fmt.Errorf("%w: %v", errIndexMAC, err)
	}
	i := bytes.LastIndex(raw, []byte("\n"+indexMACLabel))
	if i < 0 {
		return nil, errIndexMAC
	}
	body, macLine := raw[:i+1], raw[i+1:]
	got, err := hex.DecodeString(strings.TrimSuffix(strings.TrimPrefix(string(macLine), indexMACLabel), "\n"))
	if err != nil || !hmac.Equal(got, c.mac(body)) {
		return nil, errIndexMAC
	}
	if !bytes.HasPrefix(body, []byte(indexHeader)) {
		return nil, errIndexMAC
	}
	index := newCacheIndex()
	sc := bufio.NewScanner(bytes.NewReader(body[len(indexHeader):]))
	sc.Buffer(nil, maxIndexBytes)
	for sc.Scan() {
		f := strings.Split(sc.Text(), " ")
		switch {
		case len(f) == 3 && f[0] == indexUsedLabel:
			day, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil || len(f[1]) != sha256HexLen || !isLowerHex(f[1]) {
				return nil, errIndexMAC
			}
			index.used[f[1]] = day
		case len(f) == 4:
			index.files[f[1]] = indexEntry{sum: f[0], owner: noneToEmpty(f[2]), stamp: noneToEmpty(f[3])}
		default:
			return nil, errIndexMAC
		}
	}
	return index, nil
}

// indexNone stands for an empty owner or stamp in the index.
const indexNone = "-"

func noneToEmpty(s string) string {
	if s == indexNone {
		return ""
	}
	return s
}

func emptyToNone(s string) string {
	if s == "" {
		return indexNone
	}
	return s
}

// writeIndex writes the index and its MAC: a line "SHA256 REL OWNER STAMP" per file of
// compiled/ and "used OWNER DAY" per module, sorted.
func (c *diskCache) writeIndex(index *cacheIndex) error {
	lines := make([]string, 0, len(index.files)+len(index.used))
	for rel, e := range index.files {
		lines = append(lines, fmt.Sprintf("%s %s %s %s", e.sum, rel, emptyToNone(e.owner), emptyToNone(e.stamp)))
	}
	for owner, day := range index.used {
		lines = append(lines, fmt.Sprintf("%s %s %d", indexUsedLabel, owner, day))
	}
	sort.Strings(lines)
	var b bytes.Buffer
	b.WriteString(indexHeader)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	mac := c.mac(b.Bytes())
	b.WriteString(indexMACLabel + hex.EncodeToString(mac) + "\n")
	if err := privfs.WriteFileAtomic(filepath.Join(c.dir, "index"), b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("runtime: cache index: %w", err)
	}
	return nil
}

func (c *diskCache) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// manifestMAC authenticates a manifest for module hash: the MAC binds the hash, so a
// manifest cannot be moved to another module.
func (c *diskCache) manifestMAC(hash string, manifest []byte) []byte {
	return c.mac([]byte("pal manifest 1\x00"+hash+"\x00"), manifest)
}

// Labels of the sealed cache files (writeSealed): what a file holds, and its layout's version.
const (
	rewrittenLabel = "pal rewritten 2" // a module as compile rewrites it (rewrite.go)
	snapshotLabel  = "pal snapshot 1"  // a module's state after _initialize (snapshot.go)
)

// sealMAC authenticates a sealed file's head line and body under label and its cache key.
func (c *diskCache) sealMAC(label, key string, head, body []byte) []byte {
	return c.mac([]byte(label+"\x00"+key+"\x00"), head, []byte{0}, body)
}

// writeSealed writes path as a sealed file: the hex sealMAC, a newline, head (one line), a
// newline, body. A failed write is dropped: the files are a cache, and a missing one costs
// the work that made it.
func (c *diskCache) writeSealed(path, label, key string, head, body []byte) {
	mac := hex.EncodeToString(c.sealMAC(label, key, head, body))
	file := make([]byte, 0, len(mac)+len(head)+2+len(body))
	file = append(append(append(append(append(file, mac...), '\n'), head...), '\n'), body...)
	_ = privfs.WriteFileAtomic(path, file, 0o600)
}

// readSealed reads a file writeSealed wrote under label and key, of at most limit bytes: its
// head and body, or false when there is none, it is larger, or its MAC does not verify.
func (c *diskCache) readSealed(path, label, key string, limit int) (head, body []byte, ok bool) {
	raw, err := privfs.ReadFileLimit(path, limit)
	if err != nil {
		return nil, nil, false
	}
	macHex, rest, ok := bytes.Cut(raw, []byte("\n"))
	if !ok {
		return nil, nil, false
	}
	head, body, ok = bytes.Cut(rest, []byte("\n"))
	if !ok {
		return nil, nil, false
	}
	mac, err := hex.DecodeString(string(macHex))
	if err != nil || !hmac.Equal(mac, c.sealMAC(label, key, head, body)) {
		return nil, nil, false
	}
	return head, body, true
}

// compileWithCache runs prepare (what a compile reads and rewrites before wazero sees the
// module), then compile. With a disk cache, compile runs under the cache's lock between a
// sweep and a record, and prepare runs beside the sweep (each reads and hashes megabytes; the
// first call after start waits for both).
func (e *Engine) compileWithCache(ctx context.Context, owner string, prepare func(), compile func(context.Context) error) error {
	if e.disk == nil {
		prepare()
		return compile(ctx)
	}
	prepared := make(chan struct{})
	go func() {
		defer close(prepared)
		prepare()
	}()
	defer func() { <-prepared }() // prepare is over whatever the sweep did
	return e.disk.compile(owner, func() error {
		<-prepared
		return compile(ctx)
	})
}
