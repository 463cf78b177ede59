package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/privfs"
	"github.com/pal-mcp/pal/internal/testwasm"
)

// otherCacheKey is a key some other pal (or anyone else) wrote a cache with.
var otherCacheKey = []byte("another user's key, also 32 byte")

// compiledFiles lists the files under dir/compiled with their mtimes (ns). markOld sets the
// mtimes far in the past first, so that a file wazero writes again stands out (inode numbers
// do not: a deleted file's inode is reused at once).
func compiledFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	top := filepath.Join(dir, compiledDir)
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, p)
		out[filepath.ToSlash(rel)] = fi.ModTime().UnixNano()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// markOld sets the mtime of every file under dir/compiled to 2000-01-01.
func markOld(t *testing.T, dir string) {
	t.Helper()
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for rel := range compiledFiles(t, dir) {
		if err := os.Chtimes(filepath.Join(dir, compiledDir, rel), old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// onlyFile returns the one compiled file of dir.
func onlyFile(t *testing.T, dir string) (rel string, mtime int64) {
	t.Helper()
	files := compiledFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%s holds %d compiled files, want 1: %v", dir, len(files), files)
	}
	for rel, ino := range files {
		return rel, ino
	}
	panic("unreachable")
}

// tinyWasm is a valid module of one empty function, told apart by tag (a custom section):
// it compiles in microseconds even under -race, where a Go module takes a minute.
func tinyWasm(tag string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00)     // type section: func() -> ()
	b = append(b, 0x03, 0x02, 0x01, 0x00)                 // function section: one of type 0
	b = append(b, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b)     // code section: an empty body
	b = append(b, 0x00, byte(2+len(tag)), byte(len(tag))) // custom section named tag, one byte
	return append(append(b, tag...), 0x00)
}

// compileTiny compiles tinyWasm(tag) through the disk cache of a new engine on dir.
func compileTiny(t *testing.T, dir string, key []byte, tag string) {
	t.Helper()
	compileTinyAs(t, dir, key, tag, "", time.Now())
}

// compileTinyAs compiles tinyWasm(tag) as the module owner (a sha256, or "") through the disk
// cache of a new engine on dir whose clock reads now, and returns the engine's cache.
func compileTinyAs(t *testing.T, dir string, key []byte, tag, owner string, now time.Time) *diskCache {
	t.Helper()
	e := newEngine(t, Config{CacheDir: dir, CacheKey: key, PoolSize: -1})
	e.disk.now = func() time.Time { return now }
	err := e.compileWithCache(context.Background(), owner, func() {}, func(ctx context.Context) error {
		rt, err := e.runtime(false)
		if err != nil {
			return err
		}
		_, err = rt.CompileModule(ctx, tinyWasm(tag))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e.disk
}

// compileHostile compiles the hostile module in a new engine on dir with key.
func compileHostile(t *testing.T, dir string, key []byte) {
	t.Helper()
	e := newEngine(t, Config{CacheDir: dir, CacheKey: key, PoolSize: -1})
	m := e.newModule("hostile", testwasm.Load(t, "tools-wasm/testdata/hostile"), "")
	if err := m.Compile(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// cloneCache copies the index, compiled/ and manifests/ of the shared cache (pal's own, under
// testCacheKey) into a new directory, so a test starts warm without compiling.
func cloneCache(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	err := filepath.WalkDir(sharedCache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(sharedCache, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o700)
		}
		if d.Type().IsRegular() && rel != "lock" {
			copyFile(t, p, filepath.Join(dir, rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCacheEntryNotWrittenByPalIsNotLoaded plants cache entries pal did not write under its
// key: each is deleted before wazero can see it, and the module is compiled again (a new
// file takes its place; a cache hit would have left the planted file, mtime and all).
func TestCacheEntryNotWrittenByPalIsNotLoaded(t *testing.T) {
	// A valid wazero cache file, written by pal under testCacheKey.
	source := t.TempDir()
	compileTiny(t, source, testCacheKey, "planted")
	validRel, _ := onlyFile(t, source)
	valid := filepath.Join(source, compiledDir, validRel)

	t.Run("valid file from a cache with another key", func(t *testing.T) {
		dir := t.TempDir()
		newEngine(t, Config{CacheDir: dir, CacheKey: otherCacheKey}) // an index of its own, empty
		copyFile(t, valid, filepath.Join(dir, compiledDir, validRel))
		markOld(t, dir)
		_, planted := onlyFile(t, dir)
		compileTiny(t, dir, otherCacheKey, "planted")
		if _, ino := onlyFile(t, dir); ino == planted {
			t.Fatal("the planted file is still the cache entry")
		}
	})

	t.Run("a whole cache, index and all, under another key", func(t *testing.T) {
		dir := t.TempDir()
		compileTiny(t, dir, testCacheKey, "planted")
		markOld(t, dir)
		_, planted := onlyFile(t, dir)
		compileTiny(t, dir, otherCacheKey, "planted")
		if _, ino := onlyFile(t, dir); ino == planted {
			t.Fatal("a file vouched for by another key's index was loaded")
		}
	})

	t.Run("corrupted entry of pal's own", func(t *testing.T) {
		dir := t.TempDir()
		compileTiny(t, dir, testCacheKey, "planted")
		rel, _ := onlyFile(t, dir)
		p := filepath.Join(dir, compiledDir, rel)
		b, _ := os.ReadFile(p)
		b[len(b)-1] ^= 0xff
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		markOld(t, dir)
		_, corrupted := onlyFile(t, dir)
		compileTiny(t, dir, testCacheKey, "planted")
		if _, ino := onlyFile(t, dir); ino == corrupted {
			t.Fatal("the corrupted entry is still there")
		}
	})

	t.Run("pal's own entry is loaded", func(t *testing.T) {
		dir := t.TempDir()
		compileTiny(t, dir, testCacheKey, "planted")
		markOld(t, dir)
		_, first := onlyFile(t, dir)
		compileTiny(t, dir, testCacheKey, "planted")
		if _, ino := onlyFile(t, dir); ino != first {
			t.Fatal("a warm entry of pal's own was compiled again")
		}
	})

	// The Go module, from the shared cache: pal's own entries, warm.
	mustPing(t, loadHostile(t, newEngine(t, Config{})))

	t.Run("stray files, symlinks and directories", func(t *testing.T) {
		dir := cloneCache(t)
		markOld(t, dir)
		before := compiledFiles(t, dir)
		vdir := filepath.Join(dir, compiledDir, filepath.Dir(validRel))
		validRel := validRel
		os.WriteFile(filepath.Join(vdir, "0123abcd"), []byte("planted"), 0o600)
		os.WriteFile(filepath.Join(vdir, filepath.Base(validRel)+".123.tmp"), []byte("planted"), 0o600)
		os.WriteFile(filepath.Join(dir, compiledDir, "top"), []byte("planted"), 0o600)
		os.Symlink(valid, filepath.Join(vdir, "feedbeef"))
		os.Mkdir(filepath.Join(vdir, "deeper"), 0o700)
		os.Symlink(filepath.Dir(valid), filepath.Join(dir, compiledDir, "wazero-link"))
		open := filepath.Join(dir, compiledDir, "wazero-open")
		os.Mkdir(open, 0o700)
		os.Chmod(open, 0o777)
		copyFile(t, valid, filepath.Join(open, filepath.Base(validRel)))
		hard := filepath.Join(vdir, "hardlinked")
		copyFile(t, valid, hard)
		os.Link(hard, filepath.Join(dir, "elsewhere"))

		compileHostile(t, dir, testCacheKey)
		after := compiledFiles(t, dir)
		if len(after) != len(before) {
			t.Fatalf("after the sweep: %v; want what pal wrote: %v", after, before)
		}
		for rel, ino := range before {
			if after[rel] != ino {
				t.Errorf("pal's own %s was replaced", rel)
			}
		}
		ents, _ := os.ReadDir(filepath.Join(dir, compiledDir))
		if len(ents) != 1 {
			t.Fatalf("compiled/ holds %d entries, want the one version dir", len(ents))
		}
	})

	t.Run("manifest under another key or without a MAC", func(t *testing.T) {
		hash := moduleHash(t)
		// pal's own manifest, valid: only its MAC decides.
		raw, err := os.ReadFile(filepath.Join(sharedCache, manifestsDir, hash+".json"))
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := bytes.Cut(raw, []byte("\n"))
		other := &diskCache{key: otherCacheKey}
		for name, content := range map[string][]byte{
			"another key": append([]byte(hex.EncodeToString(other.manifestMAC(hash, body))+"\n"), body...),
			"plain JSON":  body,
			"bad MAC":     append([]byte(strings.Repeat("00", 32)+"\n"), body...),
		} {
			t.Run(name, func(t *testing.T) {
				dir := cloneCache(t)
				if err := os.WriteFile(filepath.Join(dir, manifestsDir, hash+".json"), content, 0o600); err != nil {
					t.Fatal(err)
				}
				e := newEngine(t, Config{CacheDir: dir})
				m, err := e.LoadModule(context.Background(), "hostile", testwasm.Load(t, "tools-wasm/testdata/hostile"), "")
				if err != nil {
					t.Fatal(err)
				}
				if e.describes.Load() != 1 || len(m.Manifest().Tools) == 0 {
					t.Fatal("the planted manifest answered; the module should have been asked")
				}
				// The manifest pal wrote in its place is used next time.
				e2 := newEngine(t, Config{CacheDir: dir})
				m2, err := e2.LoadModule(context.Background(), "hostile", testwasm.Load(t, "tools-wasm/testdata/hostile"), "")
				if err != nil || e2.describes.Load() != 0 || m2.Manifest().Name != m.Manifest().Name {
					t.Fatalf("pal's own manifest was not used: %v", err)
				}
			})
		}
	})
}

func moduleHash(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256(testwasm.Load(t, "tools-wasm/testdata/hostile"))
	return hex.EncodeToString(sum[:])
}

func TestCacheDirRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (dir string, key []byte)
		want  error
		text  string
	}{
		{"symlinked cache dir", func(t *testing.T) (string, []byte) {
			base := t.TempDir()
			os.Mkdir(filepath.Join(base, "real"), 0o700)
			os.Symlink(filepath.Join(base, "real"), filepath.Join(base, "cache"))
			return filepath.Join(base, "cache"), testCacheKey
		}, privfs.ErrSymlink, "is a symbolic link"},
		{"group-writable cache dir", func(t *testing.T) (string, []byte) {
			dir := filepath.Join(t.TempDir(), "cache")
			os.Mkdir(dir, 0o700)
			os.Chmod(dir, 0o770)
			return dir, testCacheKey
		}, privfs.ErrWritableByOthers, "is writable by group or others"},
		{"group-writable compiled dir", func(t *testing.T) (string, []byte) {
			dir := filepath.Join(t.TempDir(), "cache")
			os.MkdirAll(filepath.Join(dir, compiledDir), 0o700)
			os.Chmod(filepath.Join(dir, compiledDir), 0o775)
			return dir, testCacheKey
		}, privfs.ErrWritableByOthers, "compiled is writable by group or others"},
		{"symlinked compiled dir", func(t *testing.T) (string, []byte) {
			dir := filepath.Join(t.TempDir(), "cache")
			os.MkdirAll(dir, 0o700)
			os.Symlink(sharedCache, filepath.Join(dir, compiledDir))
			return dir, testCacheKey
		}, privfs.ErrSymlink, "compiled is a symbolic link"},
		{"symlinked lock file", func(t *testing.T) (string, []byte) {
			dir := filepath.Join(t.TempDir(), "cache")
			os.MkdirAll(dir, 0o700)
			os.WriteFile(filepath.Join(dir, "target"), nil, 0o600)
			os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "lock"))
			return dir, testCacheKey
		}, privfs.ErrSymlink, "lock is a symbolic link"},
		{"short key", func(t *testing.T) (string, []byte) {
			return t.TempDir(), []byte("short")
		}, ErrCacheKey, "key is too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, key := tt.setup(t)
			e, err := New(context.Background(), Config{CacheDir: dir, CacheKey: key})
			if err == nil {
				e.Close(context.Background())
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("New: %v; want %v with %q", err, tt.want, tt.text)
			}
		})
	}
}

// TestCacheWithoutKeyWritesNothing: a CacheDir without a CacheKey is no disk cache at all.
func TestCacheWithoutKeyWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	e, err := New(context.Background(), Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	rt, err := e.runtime(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.CompileModule(context.Background(), tinyWasm("nokey")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("cache dir made without a key: %v", err)
	}
}

// TestCacheSharedByEngines: engines (as pal processes would) compiling through one cache
// dir at once end with an index that vouches for every file, and a later engine loads from
// the cache without deleting or rewriting anything.
func TestCacheSharedByEngines(t *testing.T) {
	dir := t.TempDir()
	tags := []string{"a", "b", "c", "a", "b", "c"}
	var wg sync.WaitGroup
	errs := make(chan error, len(tags))
	for _, tag := range tags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := New(context.Background(), Config{CacheDir: dir, CacheKey: testCacheKey, PoolSize: -1})
			if err != nil {
				errs <- err
				return
			}
			defer e.Close(context.Background())
			errs <- e.compileWithCache(context.Background(), "", func() {}, func(ctx context.Context) error {
				rt, err := e.runtime(false)
				if err != nil {
					return err
				}
				_, err = rt.CompileModule(ctx, tinyWasm(tag))
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	markOld(t, dir)
	files := compiledFiles(t, dir)
	c := &diskCache{dir: dir, key: testCacheKey, now: time.Now, seen: map[string]seenFile{}}
	index, err := c.readIndex()
	if err != nil || len(index.files) != 3 || len(files) != 3 {
		t.Fatalf("index %v, %v; files %v; want three of each", index, err, files)
	}
	for rel := range files {
		if index.files[rel].sum == "" {
			t.Fatalf("%s not in the index", rel)
		}
	}
	for _, tag := range []string{"a", "b", "c"} {
		compileTiny(t, dir, testCacheKey, tag)
	}
	for rel, ino := range compiledFiles(t, dir) {
		if files[rel] != ino {
			t.Fatalf("warm entry %s was rewritten", rel)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "index"))
	if !bytes.HasPrefix(raw, []byte(indexHeader)) {
		t.Fatalf("index: %q", raw)
	}
}

// compileTinyOwned is compileTinyAs under pal's own key.
func compileTinyOwned(t *testing.T, dir, tag, owner string, now time.Time) *diskCache {
	t.Helper()
	return compileTinyAs(t, dir, testCacheKey, tag, owner, now)
}

// TestCacheSweepTrustsRecordedStamps: a new process does not hash the compiled code its index
// recorded with the file's stamp, and a file changed since (same size and mtime, other
// bytes: its ctime moved) is hashed and deleted before wazero can read it.
func TestCacheSweepTrustsRecordedStamps(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	compileTinyOwned(t, dir, "stamped", "", now)
	rel, _ := onlyFile(t, dir)
	if c := compileTinyOwned(t, dir, "stamped", "", now); c.hashed != 0 {
		t.Fatalf("a warm start hashed %d files, want 0", c.hashed)
	}

	p := filepath.Join(dir, compiledDir, rel)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 0xff
	time.Sleep(10 * time.Millisecond) // a ctime the clock's granularity tells apart
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	c := compileTinyOwned(t, dir, "stamped", "", now)
	if c.hashed == 0 {
		t.Fatal("a file changed since the index recorded it was not hashed")
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, b) {
		t.Fatal("the changed file is still the cache entry")
	}
}

// TestCachePrunesUnusedModules: what the cache holds for a module no pal compiled for
// CacheUnusedDays goes at the next compile of another module, and files of modules the index
// does not know go once that old; names that are not a module's hash are left alone.
func TestCachePrunesUnusedModules(t *testing.T) {
	dir := t.TempDir()
	modA := strings.Repeat("a", 64)
	modB := strings.Repeat("b", 64)
	modC := strings.Repeat("c", 64) // unknown to the index
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	side := func(hash string) []string {
		return []string{
			filepath.Join(dir, rewrittenDir, hash+"-2-g.wasm"),
			filepath.Join(dir, snapshotsDir, hash+"-2-s1.snap"),
			filepath.Join(dir, manifestsDir, hash+".json"),
		}
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }

	compileTinyOwned(t, dir, "a", modA, t0)
	relA, _ := onlyFile(t, dir)
	for _, p := range append(side(modA), side(modC)...) {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	recent := t0.Add(-10 * 24 * time.Hour)
	for _, p := range side(modC) {
		os.Chtimes(p, recent, recent)
	}
	foreign := filepath.Join(dir, manifestsDir, "notes.txt")
	os.WriteFile(foreign, []byte("x"), 0o600)
	os.Chtimes(foreign, t0.AddDate(-1, 0, 0), t0.AddDate(-1, 0, 0))

	// Thirty days after A's last compile, A is kept.
	compileTinyOwned(t, dir, "b", modB, t0.Add(30*24*time.Hour))
	if files := compiledFiles(t, dir); len(files) != 2 {
		t.Fatalf("compiled files %v, want A's and B's", files)
	}
	for _, p := range side(modA) {
		if !exists(p) {
			t.Fatalf("%s pruned before its time", p)
		}
	}

	// Thirty-one days after: A's code, rewrite, snapshot and manifest are gone, and the
	// files of C, which the index never knew, are too now that they are 41 days old.
	c := compileTinyOwned(t, dir, "b", modB, t0.Add(31*24*time.Hour))
	files := compiledFiles(t, dir)
	if _, ok := files[relA]; ok || len(files) != 1 {
		t.Fatalf("compiled files %v, want only B's", files)
	}
	for _, p := range append(side(modA), side(modC)...) {
		if exists(p) {
			t.Fatalf("%s not pruned", p)
		}
	}
	if !exists(foreign) {
		t.Fatal("a file not named by a module's hash was pruned")
	}
	index, err := c.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := index.used[modA]; ok || index.used[modB] != t0.Add(31*24*time.Hour).Unix()/86400 {
		t.Fatalf("index uses %v, want only B's, today", index.used)
	}

	// A compiled again is compiled from nothing and recorded anew.
	compileTinyOwned(t, dir, "a", modA, t0.Add(31*24*time.Hour))
	if files := compiledFiles(t, dir); len(files) != 2 {
		t.Fatalf("compiled files %v, want A's and B's", files)
	}
}

// TestCacheIndexOfAnOlderLayout: an index in the first layout (no owners, stamps or uses),
// even under pal's own key, vouches for nothing: its files are compiled again.
func TestCacheIndexOfAnOlderLayout(t *testing.T) {
	dir := t.TempDir()
	compileTiny(t, dir, testCacheKey, "old")
	rel, _ := onlyFile(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, compiledDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	c := &diskCache{dir: dir, key: testCacheKey, now: time.Now, seen: map[string]seenFile{}}
	body := "pal compile cache index 1\n" + hex.EncodeToString(sum[:]) + " " + rel + "\n"
	old := body + indexMACLabel + hex.EncodeToString(c.mac([]byte(body))) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "index"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	markOld(t, dir)
	_, before := onlyFile(t, dir)
	compileTiny(t, dir, testCacheKey, "old")
	if _, after := onlyFile(t, dir); after == before {
		t.Fatal("a file vouched for by an index of the older layout was loaded")
	}
}

// FuzzReadIndex feeds readIndex authenticated bodies of any content (as if the key had
// leaked, or pal had a bug): it never panics, what it accepts names only hex module hashes in
// its uses, and writing it back reads back the same.
func FuzzReadIndex(f *testing.F) {
	f.Add("0123 wazero-v/abcd " + strings.Repeat("a", 64) + " 1:2:3:4:5.6\nused " + strings.Repeat("a", 64) + " 20000\n")
	f.Add("0123 wazero-v/abcd - -\n")
	f.Add("used xyz 1\n")
	f.Add("a  b c\n\n")
	f.Fuzz(func(t *testing.T, lines string) {
		dir := t.TempDir()
		c := &diskCache{dir: dir, key: testCacheKey, now: time.Now, seen: map[string]seenFile{}}
		body := indexHeader + lines
		raw := body + indexMACLabel + hex.EncodeToString(c.mac([]byte(body))) + "\n"
		if err := os.WriteFile(filepath.Join(dir, "index"), []byte(raw), 0o600); err != nil {
			t.Fatal(err)
		}
		index, err := c.readIndex()
		if err != nil {
			return
		}
		for owner := range index.used {
			if len(owner) != sha256HexLen || !isLowerHex(owner) {
				t.Fatalf("accepted a use of %q", owner)
			}
		}
		if err := c.writeIndex(index); err != nil {
			t.Fatal(err)
		}
		again, err := c.readIndex()
		if err != nil || !again.equal(index) {
			t.Fatalf("written back: %v, %+v; want %+v", err, again, index)
		}
	})
}

// TestSealedFiles: a sealed file reads back under its label and key, within its limit; under
// another label (a snapshot offered as a rewritten module), another key (another module's
// file moved), past the limit, or changed, it does not.
func TestSealedFiles(t *testing.T) {
	dir := t.TempDir()
	c := &diskCache{dir: dir, key: testCacheKey, now: time.Now, seen: map[string]seenFile{}}
	p := filepath.Join(dir, "f")
	c.writeSealed(p, snapshotLabel, "k1", []byte("head"), []byte("body\nwith lines"))
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	size := int(fi.Size())
	if head, body, ok := c.readSealed(p, snapshotLabel, "k1", size); !ok || string(head) != "head" || string(body) != "body\nwith lines" {
		t.Fatalf("read back: %q %q %v", head, body, ok)
	}
	for name, read := range map[string]func() bool{
		"other label":    func() bool { _, _, ok := c.readSealed(p, rewrittenLabel, "k1", size); return ok },
		"other key":      func() bool { _, _, ok := c.readSealed(p, snapshotLabel, "k2", size); return ok },
		"past the limit": func() bool { _, _, ok := c.readSealed(p, snapshotLabel, "k1", size-1); return ok },
		"other cache key": func() bool {
			other := &diskCache{dir: dir, key: otherCacheKey}
			_, _, ok := other.readSealed(p, snapshotLabel, "k1", size)
			return ok
		},
	} {
		if read() {
			t.Errorf("%s: read", name)
		}
	}
	raw, _ := os.ReadFile(p)
	raw[len(raw)-1] ^= 1
	os.WriteFile(p, raw, 0o600)
	if _, _, ok := c.readSealed(p, snapshotLabel, "k1", size); ok {
		t.Error("a changed file was read")
	}
}
