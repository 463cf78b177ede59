//go:build unix

package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFileRefusesFIFO(t *testing.T) {
	fx := newFixture(t)
	fifo := filepath.Join(fx.root, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Without the type check this would block forever waiting for a writer.
	if _, _, err := fx.paths.ReadFile(fifo, 0); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("ReadFile(fifo) = %v, want ErrNotRegular", err)
	}
	if ErrorCode(ErrNotRegular) != CodeInvalid {
		t.Fatal("fifo code")
	}
	entries, _, err := fx.paths.List(fx.root, ListOptions{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Path == fifo {
			t.Fatal("a FIFO was listed")
		}
	}
}

func TestReadFileUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	fx := newFixture(t)
	f := filepath.Join(fx.root, "locked.txt")
	mkfile(t, f, "x")
	if err := os.Chmod(f, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.paths.ReadFile(f, 0); !errors.Is(err, ErrDenied) {
		t.Fatalf("ReadFile(unreadable) = %v, want ErrDenied", err)
	}
}

// A FIFO planted as the project's pal.toml neither hangs nor is read.
func TestProjectFileMustBeRegular(t *testing.T) {
	dir := scratch(t)
	src := testSources(dir, nil)
	if err := syscall.Mkfifo(filepath.Join(src.WorkDir, "pal.toml"), 0o600); err != nil {
		t.Skip(err)
	}
	if _, err := LoadLayers(src); err != nil {
		t.Errorf("a FIFO is not a project file and is skipped: %v", err)
	}
}

// readConfigFile refuses a FIFO without blocking, even when asked for one directly.
func TestReadConfigFileRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pal.toml")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	if _, err := readConfigFile(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("readConfigFile(FIFO) = %v", err)
	}
}
