//go:build unix

package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// swapLoop flips dir between a real directory and a symlink to target until stop closes.
func swapLoop(t *testing.T, dir, target string, stop <-chan struct{}, done chan<- int) {
	real := dir + ".real"
	flips := 0
	for {
		select {
		case <-stop:
			done <- flips
			return
		default:
		}
		// Both states last a little, so that a walk can see one and open the other.
		if os.Rename(dir, real) == nil {
			if os.Symlink(target, dir) == nil {
				flips++
				time.Sleep(time.Millisecond)
				os.Remove(dir)
			}
			os.Rename(real, dir)
		}
		for t0 := time.Now(); time.Since(t0) < 200*time.Microsecond; {
		}
	}
}

// TestSwapRaces: a directory swapped for a symlink (to a denied directory in the root, or to
// a directory outside it) while files under it are read and while it is listed never shows
// what is behind the symlink: 1,000 reads and 1,000 listings per target.
func TestSwapRaces(t *testing.T) {
	for _, tc := range []struct{ name, target string }{
		{"to a denied directory inside the root", ".ssh"},
		{"to a directory outside the root", "OUTSIDE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			target := filepath.Join(fx.root, tc.target)
			if tc.target == "OUTSIDE" {
				target = fx.outside
			}
			mkfile(t, filepath.Join(fx.root, "swap", "plain.txt"), "plain")
			mkfile(t, filepath.Join(fx.root, "swap", "deeper", "x.txt"), "x")
			mkfile(t, filepath.Join(target, "plain.txt"), "BEHIND-THE-LINK")
			mkfile(t, filepath.Join(target, "only_behind.txt"), "BEHIND-THE-LINK")
			stop, done := make(chan struct{}), make(chan int)
			go swapLoop(t, filepath.Join(fx.root, "swap"), target, stop, done)
			reads, lists := 0, 0
			for i := 0; i < 1000; i++ {
				data, _, err := fx.paths.ReadFile(filepath.Join(fx.root, "swap", "plain.txt"), 0)
				if err == nil {
					reads++
					if string(data) != "plain" {
						close(stop)
						t.Fatalf("read %d returned %q through the swapped-in symlink", i, data)
					}
				}
				entries, _, err := fx.paths.List(fx.root, ListOptions{MaxDepth: 3})
				if err == nil {
					lists++
				}
				for _, e := range entries {
					if strings.Contains(e.Path, "only_behind") || e.Size == int64(len("BEHIND-THE-LINK")) {
						close(stop)
						t.Fatalf("listing %d showed %s (%d bytes) through the swapped-in symlink", i, e.Path, e.Size)
					}
				}
				for _, sub := range []string{"swap", filepath.Join("swap", "deeper")} {
					entries, _, _ := fx.paths.List(filepath.Join(fx.root, sub), ListOptions{})
					for _, e := range entries {
						if strings.Contains(e.Path, "only_behind") {
							close(stop)
							t.Fatalf("listing of %s showed %s", sub, e.Path)
						}
					}
				}
			}
			close(stop)
			flips := <-done
			t.Logf("%d swaps; %d of 1000 reads and %d of 1000 listings succeeded", flips, reads, lists)
			if flips == 0 {
				t.Fatal("the swap loop never swapped: the test proves nothing")
			}
		})
	}
}

// TestOpenInRootFollowsNoSymlink: os.Root.Open follows a symlink that stays inside the root;
// openInRoot refuses a symlink at any component, so a directory swapped for one is never
// entered.
func TestOpenInRootFollowsNoSymlink(t *testing.T) {
	fx := newFixture(t)
	mkfile(t, filepath.Join(fx.root, "real", "f.txt"), "real")
	symlink(t, "real", filepath.Join(fx.root, "ln"))
	root := fx.paths.roots[0].root
	if f, err := root.Open("ln/f.txt"); err != nil {
		t.Fatalf("os.Root.Open through an in-root symlink: %v (the premise of this test)", err)
	} else {
		f.Close()
	}
	for _, tc := range []struct {
		comps []string
		dir   bool
	}{
		{[]string{"ln"}, true},
		{[]string{"ln", "f.txt"}, false},
		{[]string{"sshlink"}, true},
		{[]string{"abs_in"}, false},
	} {
		f, err := openInRoot(root, tc.comps, tc.dir)
		if err == nil {
			f.Close()
			t.Errorf("openInRoot(%q) opened through a symlink", tc.comps)
		} else if !errors.Is(err, errLoop) && !errors.Is(err, errNotDir) {
			t.Errorf("openInRoot(%q) = %v, want ELOOP or ENOTDIR", tc.comps, err)
		}
	}
	f, err := openInRoot(root, []string{"real", "f.txt"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := io.ReadAll(f); string(b) != "real" {
		t.Fatalf("read %q", b)
	}
}
