package policy

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseRootURI(t *testing.T) {
	long := "file:///" + strings.Repeat("a", MaxRootURIBytes)
	for _, tc := range []struct {
		uri, want string // want "" means refused
	}{
		{"file:///home/me/proj", "/home/me/proj"},
		{"file:///home/me/proj/", "/home/me/proj"},
		{"FILE:///x", "/x"},
		{"file://localhost/x/y", "/x/y"},
		{"file://LOCALHOST/x", "/x"},
		{"file:///with%20space/caf%C3%A9", "/with space/café"},
		{"file:///", "/"},
		{"file:///a%23b", "/a#b"},
		{"file://host.example/x", ""},
		{"file://user@localhost/x", ""},
		{"file:x", ""},
		{"file:/x", "/x"},
		{"file:///a/../etc", ""},
		{"file:///a/%2e%2e/etc", ""},
		{"file:///a/./b", ""},
		{"file:///a//b", ""},
		{"file:///a%2Fb", ""},
		{"file:///a%5cb", ""},
		{"file:///a%00b", ""},
		{"file:///a%0Ab", ""},
		{"file:///a?x=1", ""},
		{"file:///a?", ""},
		{"file:///a#frag", ""},
		{"file:///a#", ""},
		{"http://localhost/x", ""},
		{"https:///x", ""},
		{"/home/me/proj", ""},
		{"", ""},
		{"file://", ""},
		{"file:///%zz", ""},
		{long, ""},
	} {
		got, err := ParseRootURI(tc.uri)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrBadRootURI) {
				t.Errorf("ParseRootURI(%.60q) = %q, %v; want ErrBadRootURI", tc.uri, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRootURI(%q) = %q, %v; want %q", tc.uri, got, err, tc.want)
		}
	}
}

// rootsFixture is a trusted root holding the directories a client may narrow to, hostile
// symlinks among them, and a directory outside it.
type rootsFixture struct {
	tmp, root, outside string
	paths              *Paths
}

func newRootsFixture(t testing.TB) *rootsFixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symlink fixtures need a Unix filesystem")
	}
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx := &rootsFixture{tmp: tmp, root: filepath.Join(tmp, "trusted"), outside: filepath.Join(tmp, "outside")}
	r := fx.root
	mkfile(t, filepath.Join(fx.outside, "secret.txt"), outsideSecret)
	mkfile(t, filepath.Join(r, "sub", "a.txt"), "in sub")
	mkfile(t, filepath.Join(r, "sub", "deeper", "d.txt"), "deeper")
	mkfile(t, filepath.Join(r, "other", "b.txt"), "in other")
	mkfile(t, filepath.Join(r, "with space", "c.txt"), "spaced")
	mkfile(t, filepath.Join(r, ".config", "gh", "hosts.yml"), envSecret)
	mkfile(t, filepath.Join(r, ".config", "ok.txt"), "fine")
	mkfile(t, filepath.Join(r, "sub", ".env"), envSecret)
	symlink(t, "../other/b.txt", filepath.Join(r, "sub", "toother"))     // stays in the root, leaves sub
	symlink(t, "sub", filepath.Join(r, "sublink"))                       // a directory symlink to sub
	symlink(t, fx.outside, filepath.Join(r, "outlink"))                  // leaves the root
	symlink(t, filepath.Join(r, "other"), filepath.Join(r, "sub", "od")) // a directory out of sub
	p, err := NewPaths([]string{r}, DefaultDeny, Caps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	fx.paths = p
	return fx
}

func fileURI(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

func TestNarrow(t *testing.T) {
	fx := newRootsFixture(t)
	r := fx.root
	type check struct {
		path string
		ok   bool
	}
	for _, tc := range []struct {
		name    string
		uris    []string
		roots   []string // Roots() of the result
		ignored int      // report entries that allow nothing
		checks  []check
	}{
		{"a subdirectory narrows to it", []string{fileURI(r + "/sub")}, []string{r + "/sub"}, 0, []check{
			{r + "/sub/a.txt", true}, {r + "/sub/deeper/d.txt", true}, {r + "/other/b.txt", false},
			{r + "/sub/toother", false}, {r + "/sub/od/b.txt", false}, {r + "/sub/.env", false},
			{r + "/sub/../other/b.txt", false}, {fx.outside + "/secret.txt", false},
		}},
		{"a symlinked client root narrows to its target", []string{fileURI(r + "/sublink")}, []string{r + "/sub"}, 0, []check{
			{r + "/sublink/a.txt", true}, {r + "/sub/a.txt", true}, {r + "/other/b.txt", false},
		}},
		{"a root outside the trusted roots allows nothing", []string{"file:///etc"}, []string{}, 1, []check{
			{"/etc/passwd", false}, {r + "/sub/a.txt", false},
		}},
		{"outside roots are ignored, the others kept", []string{"file:///etc", fileURI(fx.outside), fileURI(r + "/other")}, []string{r + "/other"}, 2, []check{
			{"/etc/passwd", false}, {fx.outside + "/secret.txt", false}, {r + "/other/b.txt", true}, {r + "/sub/a.txt", false},
		}},
		{"a root holding the trusted root keeps it whole", []string{"file:///"}, []string{r}, 0, []check{
			{r + "/sub/a.txt", true}, {r + "/other/b.txt", true}, {fx.outside + "/secret.txt", false}, {"/etc/passwd", false},
		}},
		{"the parent of the trusted root keeps it whole", []string{fileURI(fx.tmp)}, []string{r}, 0, []check{
			{r + "/other/b.txt", true}, {fx.outside + "/secret.txt", false},
		}},
		{"a symlink leaving the root is no way out", []string{fileURI(r + "/outlink")}, []string{}, 1, []check{
			{r + "/outlink/secret.txt", false}, {fx.outside + "/secret.txt", false},
		}},
		{"deny rules still apply inside a client root", []string{fileURI(r + "/.config")}, []string{r + "/.config"}, 0, []check{
			{r + "/.config/ok.txt", true}, {r + "/.config/gh/hosts.yml", false},
		}},
		{"a denied directory is no root", []string{fileURI(r + "/.config/gh")}, []string{}, 1, nil},
		{"percent-decoded", []string{"file://" + strings.ReplaceAll(r, " ", "%20") + "/with%20space"}, []string{r + "/with space"}, 0, []check{
			{r + "/with space/c.txt", true}, {r + "/sub/a.txt", false},
		}},
		{"dot-dot is refused, not cleaned", []string{"file://" + r + "/sub/../other"}, []string{}, 1, []check{{r + "/other/b.txt", false}}},
		{"a file is no root", []string{fileURI(r + "/sub/a.txt")}, []string{}, 1, []check{{r + "/sub/a.txt", false}}},
		{"a missing directory is no root", []string{fileURI(r + "/nope")}, []string{}, 1, nil},
		{"other schemes are ignored", []string{"https://example.invalid" + r, "git://x"}, []string{}, 2, nil},
		{"nested roots merge", []string{fileURI(r + "/sub/deeper"), fileURI(r + "/sub")}, []string{r + "/sub"}, 0, []check{{r + "/sub/deeper/d.txt", true}}},
		{"no roots allow nothing", nil, []string{}, 0, []check{{r + "/sub/a.txt", false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, report := fx.paths.Narrow(tc.uris)
			if !n.Narrowed() || fx.paths.Narrowed() {
				t.Fatal("Narrowed() wrong")
			}
			if got := n.Roots(); !slices.Equal(got, tc.roots) {
				t.Errorf("Roots() = %q, want %q", got, tc.roots)
			}
			if len(report) != len(tc.uris) {
				t.Fatalf("report has %d entries for %d URIs", len(report), len(tc.uris))
			}
			ignored := 0
			for _, cr := range report {
				if (cr.Ignored == "") == (len(cr.Dirs) == 0) {
					t.Errorf("report entry %+v: exactly one of Ignored and Dirs must be set", cr)
				}
				if cr.Ignored != "" {
					ignored++
				}
			}
			if ignored != tc.ignored {
				t.Errorf("%d roots ignored, want %d: %+v", ignored, tc.ignored, report)
			}
			for _, c := range tc.checks {
				data, _, err := n.ReadFile(c.path, 0)
				if c.ok != (err == nil) {
					t.Errorf("ReadFile(%q): err = %v, want ok=%v", c.path, err, c.ok)
				}
				if err == nil && (strings.Contains(string(data), outsideSecret) || strings.Contains(string(data), envSecret)) {
					t.Errorf("ReadFile(%q) returned a secret", c.path)
				}
				if err != nil && ErrorCode(err) == CodeInternal {
					t.Errorf("ReadFile(%q): unclassified error %v", c.path, err)
				}
				if n.Within(c.path) && !fx.paths.Within(c.path) {
					t.Errorf("Within(%q): narrowed allows what the trusted roots do not", c.path)
				}
			}
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := fx.paths.ReadFile(r+"/sub/a.txt", 0); err != nil {
				t.Fatalf("closing the narrowed Paths closed the trusted roots: %v", err)
			}
		})
	}
}

// TestNarrowResolvedRoot: a narrowed path reports the client root as its root, so a git op
// looks for a repository no higher than the client root, and what it names lies beneath.
func TestNarrowResolvedRoot(t *testing.T) {
	fx := newRootsFixture(t)
	n, _ := fx.paths.Narrow([]string{fileURI(fx.root + "/sub")})
	res, err := n.Resolve(fx.root + "/sub/deeper/d.txt")
	if err != nil {
		t.Fatal(err)
	}
	if res.Root != fx.root+"/sub" || res.Rel != "deeper/d.txt" || res.Abs() != fx.root+"/sub/deeper/d.txt" {
		t.Errorf("Resolve = root %q rel %q abs %q", res.Root, res.Rel, res.Abs())
	}
	if res, err := n.Resolve(fx.root + "/sub"); err != nil || res.Rel != "." {
		t.Errorf("Resolve(client root) = %+v, %v", res, err)
	}
	if got := n.DeniedName(fx.root + "/other/b.txt"); got == "" {
		t.Error("DeniedName allows a name outside the client's roots")
	}
	if got := n.DeniedName(fx.root + "/sub/gone.txt"); got != "" {
		t.Errorf("DeniedName(inside) = %q", got)
	}
	entries, _, err := n.List(fx.root+"/sub", ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Path, fx.root+"/sub/") {
			t.Errorf("List entry %q outside the client root", e.Path)
		}
	}
	if _, _, err := n.List(fx.root, ListOptions{}); !errors.Is(err, ErrOutsideRoots) {
		t.Errorf("List(trusted root) = %v, want ErrOutsideRoots", err)
	}
}

// TestNarrowCaps: an absurd reply is capped: only the first MaxClientRoots URIs count, and a
// URI over MaxRootURIBytes is ignored.
func TestNarrowCaps(t *testing.T) {
	fx := newRootsFixture(t)
	uris := make([]string, 0, 10_000)
	for range MaxClientRoots {
		uris = append(uris, fileURI(fx.root+"/sub"))
	}
	for range 10_000 - MaxClientRoots {
		uris = append(uris, fileURI(fx.root+"/other"))
	}
	n, report := fx.paths.Narrow(uris)
	if got := n.Roots(); !slices.Equal(got, []string{fx.root + "/sub"}) {
		t.Errorf("Roots() = %q: roots past the cap were used", got)
	}
	if len(report) != len(uris) || !strings.Contains(report[MaxClientRoots].Ignored, "cap") {
		t.Errorf("report[%d] = %+v", MaxClientRoots, report[MaxClientRoots])
	}
	huge := fileURI(fx.root+"/sub") + "/" + strings.Repeat("x", MaxRootURIBytes)
	n, report = fx.paths.Narrow([]string{huge})
	if len(n.Roots()) != 0 || report[0].Ignored == "" || len(report[0].URI) > 210 {
		t.Errorf("huge URI: roots %q, report %+v", n.Roots(), report[0].Ignored)
	}
}

// FuzzClientRoots feeds arbitrary root URIs to ParseRootURI and Narrow. Whatever the client
// sends, a parsed path is absolute and clean, every directory allowed lies inside the
// trusted root, and the narrowed allowlist reads nothing the trusted one refuses.
func FuzzClientRoots(f *testing.F) {
	fx := newRootsFixture(f)
	for _, seed := range []string{
		"sub", "sublink", "outlink", ".config", ".config/gh", "sub/../other", "with%20space",
		"sub/od", "", "%2e%2e", "sub%2F..%2Fother", "sub/", "nope", "sub/a.txt",
	} {
		f.Add("file://"+fx.root+"/"+seed, "sub/a.txt")
		f.Add("file://"+fx.root+"/"+seed, "other/b.txt")
	}
	for _, seed := range []string{"file:///", "file:///etc", "file://localhost" + fx.outside, "file:" + fx.root, "x://y", "file://h/"} {
		f.Add(seed, "sub/toother")
	}
	probes := []string{"sub/a.txt", "sub/deeper/d.txt", "other/b.txt", "sub/toother", "sub/od/b.txt",
		".config/gh/hosts.yml", "sub/.env", "outlink/secret.txt", "../outside/secret.txt"}
	f.Fuzz(func(t *testing.T, uri, probe string) {
		if p, err := ParseRootURI(uri); err == nil {
			if !filepath.IsAbs(p) || filepath.Clean(p) != p || slices.Contains(strings.Split(p, "/"), "..") {
				t.Fatalf("ParseRootURI(%q) = %q: not absolute and clean", uri, p)
			}
		}
		n, report := fx.paths.Narrow([]string{uri, uri + "/"})
		for _, cr := range report {
			for _, d := range cr.Dirs {
				if !within(fx.root, d) {
					t.Fatalf("Narrow(%q) allows %q, outside the trusted root", uri, d)
				}
			}
		}
		for _, d := range n.Roots() {
			if real, err := filepath.EvalSymlinks(d); err != nil || real != d || !within(fx.root, d) {
				t.Fatalf("Narrow(%q) root %q is not a real directory inside the trusted root", uri, d)
			}
		}
		for _, rel := range append(probes, probe) {
			path := fx.root + "/" + rel
			data, _, err := n.ReadFile(path, 0)
			if err != nil {
				continue
			}
			if _, _, terr := fx.paths.ReadFile(path, 0); terr != nil {
				t.Fatalf("Narrow(%q) reads %q, which the trusted roots refuse (%v)", uri, path, terr)
			}
			if s := string(data); strings.Contains(s, outsideSecret) || strings.Contains(s, envSecret) {
				t.Fatalf("Narrow(%q) read a secret through %q", uri, path)
			}
		}
	})
}

// TestNarrowOfNarrowed: narrowing a narrowed allowlist never widens it.
func TestNarrowOfNarrowed(t *testing.T) {
	fx := newRootsFixture(t)
	n, _ := fx.paths.Narrow([]string{fileURI(fx.root + "/sub")})
	for _, uris := range [][]string{{"file:///"}, {fileURI(fx.root)}, {fileURI(fx.root + "/other")}} {
		nn, _ := n.Narrow(uris)
		for _, d := range nn.Roots() {
			if !within(fx.root+"/sub", d) {
				t.Errorf("Narrow(%q) of a narrowed Paths allows %q", uris, d)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(fx.root, "sub", "x.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	nn, _ := n.Narrow([]string{"file:///"})
	if _, _, err := nn.ReadFile(fx.root+"/sub/x.txt", 0); err != nil {
		t.Error(err)
	}
}
