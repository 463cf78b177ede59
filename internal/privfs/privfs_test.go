//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package privfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// otherUID is a user id that is neither root nor the test's user.
const otherUID = 54321

// needRoot skips a test that must chown to another user: CI runs the tests as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
}

func mkdir(t *testing.T, p string, mode fs.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func chown(t *testing.T, p string, uid int) {
	t.Helper()
	if err := os.Lchown(p, uid, -1); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureDir(t *testing.T) {
	tests := []struct {
		name  string
		root  bool                                   // needs root (chown)
		setup func(t *testing.T, base string) string // returns the dir to ensure
		want  error                                  // nil: accepted
	}{
		{"missing dirs are made", false, func(t *testing.T, base string) string {
			return filepath.Join(base, "a", "b", "c")
		}, nil},
		{"existing private dir", false, func(t *testing.T, base string) string {
			return mkdir(t, filepath.Join(base, "d"), 0o700)
		}, nil},
		{"readable by others is not refused", false, func(t *testing.T, base string) string {
			return mkdir(t, filepath.Join(base, "d"), 0o755)
		}, nil},
		{"symlinked dir", false, func(t *testing.T, base string) string {
			target := mkdir(t, filepath.Join(base, "real"), 0o700)
			link := filepath.Join(base, "link")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, ErrSymlink},
		{"group-writable dir", false, func(t *testing.T, base string) string {
			return mkdir(t, filepath.Join(base, "d"), 0o770)
		}, ErrWritableByOthers},
		{"world-writable dir", false, func(t *testing.T, base string) string {
			return mkdir(t, filepath.Join(base, "d"), 0o707)
		}, ErrWritableByOthers},
		{"a file, not a dir", false, func(t *testing.T, base string) string {
			p := filepath.Join(base, "f")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrNotDir},
		{"dir owned by another user", true, func(t *testing.T, base string) string {
			p := mkdir(t, filepath.Join(base, "d"), 0o700)
			chown(t, p, otherUID)
			return p
		}, ErrNotOwner},
		{"world-writable ancestor without sticky bit", false, func(t *testing.T, base string) string {
			mkdir(t, filepath.Join(base, "open"), 0o777)
			return filepath.Join(base, "open", "cache")
		}, ErrWritableByOthers},
		{"world-writable ancestor without sticky bit, dir exists", false, func(t *testing.T, base string) string {
			mkdir(t, filepath.Join(base, "open", "cache"), 0o700)
			mkdir(t, filepath.Join(base, "open"), 0o777)
			return filepath.Join(base, "open", "cache")
		}, ErrWritableByOthers},
		{"group-writable ancestor", false, func(t *testing.T, base string) string {
			mkdir(t, filepath.Join(base, "grp"), 0o770)
			return filepath.Join(base, "grp", "x", "cache")
		}, ErrWritableByOthers},
		{"sticky world-writable ancestor of ours (like /tmp)", false, func(t *testing.T, base string) string {
			mkdir(t, filepath.Join(base, "tmp"), 0o777|fs.ModeSticky)
			return filepath.Join(base, "tmp", "cache")
		}, nil},
		{"ancestor owned by another user", true, func(t *testing.T, base string) string {
			p := mkdir(t, filepath.Join(base, "theirs"), 0o755)
			mkdir(t, filepath.Join(p, "cache"), 0o700)
			chown(t, p, otherUID)
			return filepath.Join(p, "cache")
		}, ErrNotOwner},
		{"sticky ancestor owned by another user", true, func(t *testing.T, base string) string {
			p := mkdir(t, filepath.Join(base, "theirs"), 0o777|fs.ModeSticky)
			mkdir(t, filepath.Join(p, "cache"), 0o700)
			chown(t, p, otherUID)
			return filepath.Join(p, "cache")
		}, ErrNotOwner},
		{"symlinked ancestor into an open dir", false, func(t *testing.T, base string) string {
			open := mkdir(t, filepath.Join(base, "open"), 0o777)
			if err := os.Symlink(open, filepath.Join(base, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "link", "cache")
		}, ErrWritableByOthers},
		{"symlinked ancestor into a private dir", false, func(t *testing.T, base string) string {
			priv := mkdir(t, filepath.Join(base, "priv"), 0o700)
			if err := os.Symlink(priv, filepath.Join(base, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "link", "cache")
		}, nil},
		{"relative path", false, func(t *testing.T, base string) string { return "rel/cache" }, ErrBadPath},
		{"dot-dot element", false, func(t *testing.T, base string) string {
			return base + "/a/../cache"
		}, ErrBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				needRoot(t)
			}
			dir := tt.setup(t, t.TempDir())
			err := EnsureDir(dir)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("EnsureDir(%s): %v", dir, err)
				}
				fi, err := os.Lstat(dir)
				if err != nil || !fi.IsDir() {
					t.Fatalf("%s not a dir after EnsureDir: %v", dir, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("EnsureDir(%s) = %v, want %v", dir, err, tt.want)
			}
		})
	}
}

func TestEnsureDirMode0700WhateverUmask(t *testing.T) {
	base := t.TempDir()
	old := syscall.Umask(0o777) // takes every bit; the dirs must still end 0700
	defer syscall.Umask(old)
	dir := filepath.Join(base, "x", "y")
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(base, "x"), dir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("%s mode %v, want 0700", p, got)
		}
	}
}

func TestOpenFile(t *testing.T) {
	tests := []struct {
		name  string
		root  bool
		setup func(t *testing.T, dir string) string
		want  error
	}{
		{"private file", false, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("x"), 0o600)
			return p
		}, nil},
		{"symlinked file", false, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("x"), 0o600)
			l := filepath.Join(dir, "l")
			if err := os.Symlink(p, l); err != nil {
				t.Fatal(err)
			}
			return l
		}, ErrSymlink},
		{"file with two hard links", false, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("x"), 0o600)
			if err := os.Link(p, filepath.Join(dir, "g")); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrHardLinked},
		{"group-writable file", false, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("x"), 0o600)
			os.Chmod(p, 0o620)
			return p
		}, ErrWritableByOthers},
		{"world-writable file", false, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("x"), 0o600)
			os.Chmod(p, 0o602)
			return p
		}, ErrWritableByOthers},
		{"file of another user", true, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("x"), 0o600)
			chown(t, p, otherUID)
			return p
		}, ErrNotOwner},
		{"a directory", false, func(t *testing.T, dir string) string {
			return mkdir(t, filepath.Join(dir, "d"), 0o700)
		}, ErrNotRegular},
		{"a FIFO does not hang", false, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
			return p
		}, ErrNotRegular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				needRoot(t)
			}
			p := tt.setup(t, t.TempDir())
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = ReadFile(p); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			if tt.want == nil {
				if err != nil || string(b) != "x" {
					t.Fatalf("ReadFile = %q, %v", b, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadFile(%s) = %v, want %v", p, err, tt.want)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, content := range []string{"one", "two, longer"} {
		if err := WriteFileAtomic(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("ReadFile = %q, %v; want %q", b, err, content)
		}
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	if err := WriteFileAtomic(p, []byte("x"), 0o620); !errors.Is(err, ErrWritableByOthers) {
		t.Errorf("perm 0620: %v, want ErrWritableByOthers", err)
	}

	// A symlink at the path is replaced, its target left alone.
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if err := WriteFileAtomic(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("symlink target changed to %q", b)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink != 0 {
		t.Error("symlink not replaced")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "pal")
	k1, err := LoadOrCreateKey(dir, "cache.key")
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize || bytes.Equal(k1, make([]byte, KeySize)) {
		t.Fatalf("key %x", k1)
	}
	k2, err := LoadOrCreateKey(dir, "cache.key")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %x, %v; want %x", k2, err, k1)
	}
	fi, _ := os.Stat(filepath.Join(dir, "cache.key"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	k3, err := LoadOrCreateKey(dir, "other.key")
	if err != nil || bytes.Equal(k1, k3) {
		t.Fatalf("a second key equals the first (%v)", err)
	}

	t.Run("refusals", func(t *testing.T) {
		base := t.TempDir()
		os.WriteFile(filepath.Join(base, "short.key"), []byte("short"), 0o600)
		os.WriteFile(filepath.Join(base, "target"), bytes.Repeat([]byte{1}, KeySize), 0o600)
		os.Symlink(filepath.Join(base, "target"), filepath.Join(base, "link.key"))
		os.WriteFile(filepath.Join(base, "loose.key"), bytes.Repeat([]byte{1}, KeySize), 0o644)
		os.Chmod(filepath.Join(base, "loose.key"), 0o666)
		for name, want := range map[string]error{
			"short.key": ErrBadKey,
			"link.key":  ErrSymlink,
			"loose.key": ErrWritableByOthers,
			"a/b":       ErrBadPath,
			"..":        ErrBadPath,
			"":          ErrBadPath,
		} {
			if _, err := LoadOrCreateKey(base, name); !errors.Is(err, want) {
				t.Errorf("%q: %v, want %v", name, err, want)
			}
		}
		open := mkdir(t, filepath.Join(base, "open"), 0o777)
		if _, err := LoadOrCreateKey(filepath.Join(open, "pal"), "k"); !errors.Is(err, ErrWritableByOthers) {
			t.Errorf("key dir under an open dir: %v", err)
		}
	})

	t.Run("concurrent creators agree", func(t *testing.T) {
		dir := t.TempDir()
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys[i], errs[i] = LoadOrCreateKey(dir, "k")
			}()
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("creator %d: %x, %v; creator 0: %x", i, keys[i], errs[i], keys[0])
			}
		}
	})
}

func TestInside(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := mkdir(t, filepath.Join(base, "root"), 0o700)
	mkdir(t, filepath.Join(root, "sub"), 0o700)
	outside := mkdir(t, filepath.Join(base, "outside"), 0o700)
	os.Symlink(outside, filepath.Join(root, "out"))                         // root/out -> outside
	os.Symlink(root, filepath.Join(outside, "in"))                          // outside/in -> root
	os.Symlink(filepath.Join(root, "sub"), filepath.Join(base, "rootlink")) // rootlink -> root/sub
	tests := []struct {
		path  string
		roots []string
		want  bool
	}{
		{root, []string{root}, true},
		{filepath.Join(root, "sub", "new", "cache"), []string{root}, true},
		{filepath.Join(root, "out", "cache"), []string{root}, false},
		{filepath.Join(outside, "in", "cache"), []string{root}, true},
		{filepath.Join(base, "rootlink", "c"), []string{root}, true},
		{filepath.Join(outside, "cache"), []string{root}, false},
		{base + "/root2", []string{root}, false}, // a name prefix is not a parent
		{base, []string{root}, false},
		{root + "/out/../sub", []string{root}, false}, // out/.. is outside's parent: base/sub
		{root + "/missing/../out/x", []string{root}, false},
		{filepath.Join(outside, "x"), []string{filepath.Join(root, "out")}, true}, // a symlinked root
		{filepath.Join(outside, "x"), []string{"", root}, false},
		{filepath.Join(outside, "x"), nil, false},
		{filepath.Join(outside, "x"), []string{"/"}, true},
	}
	for _, tt := range tests {
		if got := Inside(tt.path, tt.roots); got != tt.want {
			t.Errorf("Inside(%s, %v) = %v, want %v", tt.path, tt.roots, got, tt.want)
		}
	}
}

// TestReadFileSizes: ReadFile returns a file's exact bytes whatever its size relative to the
// buffer it sizes from the file (empty, one byte, around the old 512-byte start, megabytes).
func TestReadFileSizes(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 5<<20 + 7} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i * 7)
		}
		p := filepath.Join(dir, fmt.Sprintf("f%d", size))
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("size %d: %d bytes, %v", size, len(got), err)
		}
	}
}

// TestReadFileLimit: a file up to the limit is read whole; a larger one is refused from its
// size, before its bytes are read (a sparse file of 1 TiB fails at once).
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFileLimit(p, 5); err != nil || string(got) != "12345" {
		t.Fatalf("at the limit: %q, %v", got, err)
	}
	if got, err := ReadFileLimit(p, 4); !errors.Is(err, ErrTooLarge) || got != nil {
		t.Fatalf("past the limit: %q, %v; want ErrTooLarge", got, err)
	}
	huge := filepath.Join(dir, "huge")
	f, err := os.OpenFile(huge, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("no sparse file of 1 TiB here: %v", err)
	}
	f.Close()
	if _, err := ReadFileLimit(huge, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("sparse 1 TiB: %v; want ErrTooLarge", err)
	}
}

// TestEnsureDirs: the subdirectories are made 0700 under a checked dir; dir itself is checked
// as by EnsureDir (an open ancestor refuses all); a subdirectory that is a symlink, a file,
// open to others or another user's is refused, and so is a name that is not one element.
func TestEnsureDirs(t *testing.T) {
	tests := []struct {
		name  string
		root  bool
		setup func(t *testing.T, dir string) // dir is the (maybe missing) directory to ensure
		names []string
		want  error
	}{
		{"all missing", false, func(*testing.T, string) {}, []string{"a", "b"}, nil},
		{"some exist", false, func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "a"), 0o700) }, []string{"a", "b"}, nil},
		{"open dir refuses its subdirectories too", false, func(t *testing.T, dir string) { mkdir(t, dir, 0o777) }, []string{"a"}, ErrWritableByOthers},
		{"subdirectory is a symlink", false, func(t *testing.T, dir string) {
			mkdir(t, dir, 0o700)
			if err := os.Symlink(t.TempDir(), filepath.Join(dir, "a")); err != nil {
				t.Fatal(err)
			}
		}, []string{"a"}, ErrSymlink},
		{"subdirectory is a file", false, func(t *testing.T, dir string) {
			mkdir(t, dir, 0o700)
			if err := os.WriteFile(filepath.Join(dir, "a"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"a"}, ErrNotDir},
		{"subdirectory open to others", false, func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "a"), 0o777) }, []string{"a"}, ErrWritableByOthers},
		{"subdirectory of another user", true, func(t *testing.T, dir string) {
			chown(t, mkdir(t, filepath.Join(dir, "a"), 0o700), otherUID)
		}, []string{"a"}, ErrNotOwner},
		{"name with a separator", false, func(*testing.T, string) {}, []string{"a/b"}, ErrBadPath},
		{"dot-dot name", false, func(*testing.T, string) {}, []string{".."}, ErrBadPath},
		{"dot name", false, func(*testing.T, string) {}, []string{"."}, ErrBadPath},
		{"empty name", false, func(*testing.T, string) {}, []string{""}, ErrBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				needRoot(t)
			}
			dir := filepath.Join(t.TempDir(), "cache")
			tt.setup(t, dir)
			err := EnsureDirs(dir, tt.names...)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("EnsureDirs(%s, %q) = %v, want %v", dir, tt.names, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureDirs(%s, %q): %v", dir, tt.names, err)
			}
			for _, n := range tt.names {
				fi, err := os.Lstat(filepath.Join(dir, n))
				if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
					t.Errorf("%s after EnsureDirs: %v, %v", n, fi.Mode(), err)
				}
			}
		})
	}
}
