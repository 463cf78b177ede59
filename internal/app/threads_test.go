package app

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/privfs"
	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
)

// TestThreadsOnDisk: [memory] path is refused inside a root and when the file is a symlink,
// another user's, hard-linked or readable by others; a good one is made 0600 in a 0700
// directory, and a second pal on it is told another pal holds it.
func TestThreadsOnDisk(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "proj")
	os.Mkdir(root, 0o700)
	cfgFor := func(path string) *policy.Config {
		c := policy.Default()
		c.Audit.Enabled = false
		c.Cache.Dir = ""
		c.Memory.Path = path
		return c
	}
	open := func(path string) (memory.Threads, error) {
		c := cfgFor(path)
		if err := checkPrivateDirs(c, []string{root}); err != nil {
			return nil, err
		}
		return openThreads(c, false, os.Getenv, func(string) {}, slog.New(slog.DiscardHandler))
	}

	if s, err := open(""); err != nil || s == nil {
		t.Fatalf("in memory: %v", err)
	}
	for _, p := range []string{filepath.Join(root, "threads.db"), filepath.Join(root, "sub", "t.db"), root} {
		if _, err := open(p); err == nil || !strings.Contains(err.Error(), "inside a root") {
			t.Errorf("%s: want refusal inside a root, got %v", p, err)
		}
	}

	good := filepath.Join(base, "state", "pal", "threads.db")
	s, err := open(good)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := s.Create("local", "chat", nil)
	if fi, _ := os.Stat(good); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(good)); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", fi.Mode().Perm())
	}
	if _, err := open(good); !errors.Is(err, memory.ErrLocked) || !strings.Contains(err.Error(), "another pal holds") || !strings.Contains(err.Error(), good) {
		t.Errorf("second pal: %v", err)
	}
	s.Close()
	s, err = open(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("local", id); err != nil {
		t.Errorf("thread lost across a reopen: %v", err)
	}
	s.Close()

	link := filepath.Join(base, "state", "pal", "link.db")
	os.Symlink(good, link)
	if _, err := open(link); !errors.Is(err, privfs.ErrSymlink) {
		t.Errorf("symlink: %v", err)
	}
	hard := filepath.Join(base, "state", "pal", "hard.db")
	os.Link(good, hard)
	if _, err := open(hard); !errors.Is(err, privfs.ErrHardLinked) {
		t.Errorf("hard link: %v", err)
	}
	os.Remove(hard)
	os.Chmod(good, 0o640)
	if _, err := open(good); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable file: %v", err)
	}
}
