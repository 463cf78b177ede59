//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package privfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzInside checks Inside against a model of a small tree:
//
//	base/root/sub/      base/root/out -> base/outside      base/root/in -> base/root/sub
//	base/outside/
//
// The path is base/root/ followed by the fuzzed string. The model walks it as the kernel
// would over existing names (symlinks followed, ".." from the resolved place) and lexically
// over missing ones, coming back to the kernel's view once ".." leads back to existing names.
func FuzzInside(f *testing.F) {
	for _, s := range []string{"", ".", "sub", "sub/x", "out", "out/x", "in/../x", "out/..", "out/../root",
		"missing/../out/x", "missing/../../outside", "..", "../outside/../root/sub", "sub/../../root",
		"//sub//", "./out/./x", "in/x/../../out", "a/b/../../in/../out"} {
		f.Add(s)
	}
	base, err := filepath.EvalSymlinks(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	root := filepath.Join(base, "root")
	for _, d := range []string{filepath.Join(root, "sub"), filepath.Join(base, "outside")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			f.Fatal(err)
		}
	}
	os.Symlink(filepath.Join(base, "outside"), filepath.Join(root, "out"))
	os.Symlink(filepath.Join(root, "sub"), filepath.Join(root, "in"))
	links := map[string][]string{"root/out": {"outside"}, "root/in": {"root", "sub"}}
	dirs := map[string]bool{"": true, "root": true, "root/sub": true, "outside": true}

	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 || strings.ContainsRune(s, 0) {
			return
		}
		cur := []string{"root"}
		real := 1 // how many leading elements of cur exist
		for _, e := range strings.Split(s, "/") {
			switch {
			case e == "" || e == ".":
				continue
			case len(e) > 200:
				return // over the name length limit: the kernel's error, not the model's
			case e == "..":
				if len(cur) == 0 {
					return // above base: outside the model
				}
				cur = cur[:len(cur)-1]
				if real > len(cur) {
					real = len(cur)
				}
				continue
			}
			next := append(append([]string(nil), cur...), e)
			if real == len(cur) {
				if to, ok := links[strings.Join(next, "/")]; ok {
					next = append([]string(nil), to...)
				}
				if dirs[strings.Join(next, "/")] {
					real = len(next)
				}
			}
			cur = next
		}
		want := len(cur) > 0 && cur[0] == "root"
		p := root + "/" + s
		if got := Inside(p, []string{root}); got != want {
			t.Fatalf("Inside(%q, [root]) = %v, model says %v (model path %v)", p, got, want, cur)
		}
		if !Inside(p, []string{p}) {
			t.Fatalf("Inside(%q, itself) = false", p)
		}
		if Inside(p, nil) {
			t.Fatalf("Inside(%q, nil) = true", p)
		}
	})
}
