package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// escapes are path payloads that must all be refused: none may read or list a byte outside
// the root (or a denied file inside it).
func escapes(w *world, pid int) []string {
	r, o := w.root, w.outside
	var out []string
	for depth := 1; depth <= 12; depth++ {
		out = append(out, r+"/"+strings.Repeat("../", depth)+"elsewhere/notes.txt")
	}
	out = append(out,
		r+"/src/../../elsewhere/notes.txt",
		r+"/src/./../../elsewhere/notes.txt",
		r+"/./../elsewhere/notes.txt",
		r+"//..//elsewhere//notes.txt",
		r+"/src/../src/../../elsewhere",
		r+"/..",
		r+"/../",
		// Encoded forms: pal takes paths literally, so these name nothing or fail.
		r+"/%2e%2e/elsewhere/notes.txt",
		r+"/..%2felsewhere%2fnotes.txt",
		r+"/%252e%252e/elsewhere/notes.txt",
		r+"/\uff0e\uff0e/elsewhere/notes.txt",
		r+"/..\\elsewhere\\notes.txt",
		r+"/\u2025/elsewhere/notes.txt",
		// NUL bytes.
		r+"/a.txt\x00/../../elsewhere/notes.txt",
		"\x00"+o+"/notes.txt",
		o+"/notes.txt\x00",
		// Home and variables: never expanded.
		"~/.ssh/id_rsa",
		"~",
		"~root/.ssh/authorized_keys",
		"$HOME/.bashrc",
		"${HOME}/.profile",
		r+"/$HOME",
		// Relative paths.
		"elsewhere/notes.txt",
		"../elsewhere/notes.txt",
		"a.txt",
		"",
		// /proc.
		"/proc/self/root"+o+"/notes.txt",
		"/proc/self/root/etc/passwd",
		"/proc/self/cwd/../elsewhere/notes.txt",
		"/proc/self/environ",
		"/proc/self/fd/0",
		fmt.Sprintf("/proc/%d/root%s/notes.txt", pid, o),
		fmt.Sprintf("/proc/%d/cwd/.env", pid),
		r+"/../../proc/self/environ",
		// Plain absolute paths outside.
		o+"/notes.txt",
		o,
		"/etc/passwd",
		"/etc/shadow",
		"/",
		"//etc/passwd",
		"/etc/../etc/passwd",
		// Symlinks out: a file, a directory, a three-hop chain, relative, to / and /etc.
		r+"/src/notes.txt",
		r+"/outdir",
		r+"/outdir/notes.txt",
		r+"/outdir/../elsewhere/notes.txt",
		r+"/hop1",
		r+"/hop2",
		r+"/src/hop3",
		r+"/relout",
		r+"/slash/etc/passwd",
		r+"/slash",
		r+"/etc/passwd",
		// Hard link to a file outside.
		r+"/hard.txt",
		// Denied inside the root, under every spelling.
		r+"/.env",
		r+"/src/../.env",
		r+"/.ENV",
		r+"/.ssh/plain.txt",
		r+"/.ssh",
		r+"/.SSH/plain.txt",
	)
	return out
}

// TestPathEscapes: every payload is refused by fs.read and by fs.list, and no reply carries a
// byte from outside the root.
func TestPathEscapes(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	s := start(t, w, p, "")
	payloads := escapes(w, s.pid)
	if len(payloads) < 60 {
		t.Fatalf("only %d payloads", len(payloads))
	}
	for _, path := range payloads {
		for _, op := range []string{"fs.read", "fs.list"} {
			codes, text, isErr := s.flood(t, map[string]any{"op": op, "path": path}, "", 1, "MARKER-OUTSIDE")
			if isErr {
				t.Fatalf("%s %q: %s", op, path, text)
			}
			if codes["needle"] > 0 || codes["body_bytes"] > 0 {
				t.Errorf("%s %q read outside the root: %v", op, path, codes)
			}
			if op == "fs.read" && codes["ok"] > 0 {
				t.Errorf("fs.read %q succeeded: %v", path, codes)
			}
		}
	}
	// Listings that do succeed (the root itself) show nothing behind a link.
	codes, _, _ := s.flood(t, map[string]any{"op": "fs.list", "path": w.root, "max_depth": 8}, "", 1, "only_behind")
	if codes["ok"] != 1 || codes["needle"] != 0 {
		t.Errorf("listing the root: %v", codes)
	}
	s.mustServe(t, "path escapes")
	t.Logf("%d payloads, each refused by fs.read and fs.list", len(payloads))
}

// swapLoop flips dir between a real directory and a symlink to target until stop closes, and
// reports how many times it did.
func swapLoop(dir, target string, stop <-chan struct{}, done chan<- int) {
	real := dir + ".real"
	flips := 0
	for {
		select {
		case <-stop:
			done <- flips
			return
		default:
		}
		if os.Rename(dir, real) == nil {
			if os.Symlink(target, dir) == nil {
				flips++
				time.Sleep(200 * time.Microsecond)
				os.Remove(dir)
			}
			os.Rename(real, dir)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestSwapRaces: a directory of the root is swapped again and again for a symlink (to a
// directory outside, and to a denied directory inside) while a module reads a file under it
// 1,000 times and lists the root 1,000 times: nothing behind the link is ever returned.
func TestSwapRaces(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	s := start(t, w, p, "")
	for _, target := range []string{w.outside, filepath.Join(w.root, ".ssh")} {
		stop, done := make(chan struct{}), make(chan int)
		go swapLoop(filepath.Join(w.root, "swap"), target, stop, done)
		reads, _, rErr := s.flood(t, map[string]any{"op": "fs.read", "path": filepath.Join(w.root, "swap", "plain.txt")}, "", 1000, "MARKER-OUTSIDE")
		lists, _, lErr := s.flood(t, map[string]any{"op": "fs.list", "path": w.root, "max_depth": 3}, "", 1000, "only_behind")
		subs, _, sErr := s.flood(t, map[string]any{"op": "fs.list", "path": filepath.Join(w.root, "swap")}, "", 1000, "only_behind")
		close(stop)
		flips := <-done
		if rErr || lErr || sErr {
			t.Fatalf("a flood failed: %v %v %v", reads, lists, subs)
		}
		for name, c := range map[string]map[string]int{"reads": reads, "root listings": lists, "swap listings": subs} {
			if c["internal"] != 0 {
				t.Errorf("target %s: %d of 1000 %s failed with an internal error", target, c["internal"], name)
			}
			if c["needle"] != 0 {
				t.Errorf("target %s: %d of 1000 %s showed what is behind the link", target, c["needle"], name)
			}
		}
		if flips == 0 {
			t.Fatal("the swap loop never swapped")
		}
		t.Logf("target %s: %d swaps; reads %v; root listings %v; swap listings %v", target, flips, reads, lists, subs)
	}
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(line, "host op failed") {
			t.Log(line)
			break
		}
	}
	s.mustServe(t, "swap races")
}
