//go:build unix

package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
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

// TestReadFileUnreadable: a file the filesystem refuses to open, and a directory it refuses to
// read, are denied (ErrDenied). Root reads everything, so as root the test runs itself again
// as nobody (uid and gid 65534) instead of skipping: CI runs the tests as root.
func TestReadFileUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestReadFileUnreadable")
		return
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
	d := filepath.Join(fx.root, "lockeddir")
	mkfile(t, filepath.Join(d, "inside.txt"), "x")
	if err := os.Chmod(d, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(d, 0o755) }) // so that TempDir's cleanup can remove it
	if _, _, err := fx.paths.List(d, ListOptions{}); !errors.Is(err, ErrDenied) {
		t.Fatalf("List(unreadable directory) = %v, want ErrDenied", err)
	}
}

// TestOSPermissionErrorIsDenied injects the os's permission errors, bare and wrapped, into the
// translation every open and read goes through.
func TestOSPermissionErrorIsDenied(t *testing.T) {
	for _, err := range []error{
		syscall.EACCES,
		syscall.EPERM,
		&fs.PathError{Op: "openat", Path: "/secret/x", Err: syscall.EACCES},
		fmt.Errorf("open: %w", fs.ErrPermission),
	} {
		got := osPathErr("/w/x", err)
		if !errors.Is(got, ErrDenied) {
			t.Errorf("osPathErr(%v) = %v, want ErrDenied", err, got)
		}
		if strings.Contains(got.Error(), "/secret") {
			t.Errorf("osPathErr(%v) repeats the os's path: %v", err, got)
		}
	}
}

// nobodyEnv marks the copy of the test binary runAsNobody starts.
const nobodyEnv = "PAL_TEST_AS_NOBODY"

// runAsNobody runs the test named test again in a copy of this test binary as uid and gid
// 65534, and fails if it fails there. The copy lives in a directory nobody may enter: the go
// tool's build directory is private to root.
func runAsNobody(t *testing.T, test string) {
	t.Helper()
	if os.Getenv(nobodyEnv) != "" {
		t.Fatal("still root after dropping privileges")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pal-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe := filepath.Join(dir, "policy.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^"+test+"$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = []string{nobodyEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + os.TempDir()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as nobody: %v\n%s", test, err, out)
	}
	// A run that matched nothing also exits 0: the test must have run and passed.
	if !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("%s did not run as nobody:\n%s", test, out)
	}
	t.Logf("as nobody:\n%s", out)
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
