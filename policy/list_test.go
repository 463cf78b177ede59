package policy

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// newTree builds a tree for walks and returns its root (real path).
func newTree(t *testing.T) string {
	t.Helper()
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := filepath.Join(tmp, "w")
	for _, f := range []string{
		"a.go", "b.txt", "sub/c.go", "sub/deeper/d.go", "sub/deeper/deepest/e.go",
		".hidden", ".hiddendir/x.go", ".github/workflows/ci.yml",
		"node_modules/m/index.js", "build/out.o", "vendor/v.go", "pkg.egg-info/PKG-INFO", "__pycache__/a.pyc",
		"main.go.swp", "notes~", "Thumbs.db",
		"id_rsa", "cert.pem", "sub/credentials.json", "kubeconfig",
		"builder.go", // a file named like an excluded directory prefix stays
		"docker/config.json",
	} {
		mkfile(t, filepath.Join(r, f), "x")
	}
	mkfile(t, filepath.Join(r, ".config", "gh", "hosts.yml"), "x")
	mkfile(t, filepath.Join(r, ".config", "other.json"), "x")
	mkfile(t, filepath.Join(r, "sized.txt"), strings.Repeat("z", 42))
	symlink(t, "a.go", filepath.Join(r, "link.go"))
	symlink(t, "sub", filepath.Join(r, "dirlink"))
	symlink(t, filepath.Join(tmp, "elsewhere"), filepath.Join(r, "outlink"))
	return r
}

func rels(t *testing.T, root string, entries []Entry) []string {
	t.Helper()
	var out []string
	for _, e := range entries {
		rel, err := filepath.Rel(root, e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == KindDir {
			rel += "/"
		}
		out = append(out, rel)
	}
	return out
}

func TestList(t *testing.T) {
	r := newTree(t)
	p, err := NewPaths([]string{r}, DefaultDeny, Caps{MaxListEntries: 50, MaxDepth: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	all := []string{"a.go", "b.txt", "builder.go", "docker/", "docker/config.json", "sized.txt", "sub/", "sub/c.go",
		"sub/deeper/", "sub/deeper/d.go", "sub/deeper/deepest/", "sub/deeper/deepest/e.go"}
	tests := []struct {
		name      string
		dir       string // relative to r
		opt       ListOptions
		want      []string // relative to r
		truncated bool
		wantErr   error
	}{
		{name: "skips hidden, excluded, denied, symlinks", dir: ".", want: all},
		{name: "depth 1", dir: ".", opt: ListOptions{MaxDepth: 1},
			want: []string{"a.go", "b.txt", "builder.go", "docker/", "sized.txt", "sub/"}},
		{name: "depth 2", dir: ".", opt: ListOptions{MaxDepth: 2},
			want: []string{"a.go", "b.txt", "builder.go", "docker/", "docker/config.json", "sized.txt", "sub/", "sub/c.go", "sub/deeper/"}},
		{name: "truncated breadth first", dir: ".", opt: ListOptions{MaxEntries: 3},
			want: []string{"a.go", "b.txt", "builder.go"}, truncated: true},
		{name: "entry cap reached exactly is not truncated", dir: "sub/deeper", opt: ListOptions{MaxEntries: 3},
			want: []string{"sub/deeper/d.go", "sub/deeper/deepest/", "sub/deeper/deepest/e.go"}},
		{name: "options above the policy are lowered", dir: ".", opt: ListOptions{MaxEntries: 1 << 30, MaxDepth: 1 << 30}, want: all},
		{name: "explicit excluded dir is listed", dir: "node_modules", want: []string{"node_modules/m/", "node_modules/m/index.js"}},
		{name: "explicit hidden dir is listed", dir: ".github", want: []string{".github/workflows/", ".github/workflows/ci.yml"}},
		{name: "multi-component deny rule inside listing", dir: ".config", want: []string{".config/other.json"}},
		{name: "through a directory symlink", dir: "dirlink",
			want: []string{"dirlink/c.go", "dirlink/deeper/", "dirlink/deeper/d.go", "dirlink/deeper/deepest/", "dirlink/deeper/deepest/e.go"}},
		{name: "file", dir: "a.go", wantErr: ErrNotDir},
		{name: "missing", dir: "nope", wantErr: ErrNotFound},
		{name: "symlink out", dir: "outlink", wantErr: ErrEscapesRoot},
		{name: "denied dir", dir: ".git", wantErr: ErrDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, truncated, err := p.List(filepath.Join(r, tc.dir), tc.opt)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("List(%q) error = %v, want %v", tc.dir, err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			got := rels(t, r, entries)
			if !slices.Equal(got, tc.want) || truncated != tc.truncated {
				t.Fatalf("List(%q, %+v) =\n  %v truncated=%v\nwant\n  %v truncated=%v", tc.dir, tc.opt, got, truncated, tc.want, tc.truncated)
			}
		})
	}

	entries, _, err := p.List(r, ListOptions{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch filepath.Base(e.Path) {
		case "sized.txt":
			if e.Kind != KindFile || e.Size != 42 || e.Rel != "sized.txt" {
				t.Errorf("sized.txt entry = %+v", e)
			}
		case "sub":
			if e.Kind != KindDir || e.Size != 0 {
				t.Errorf("sub entry = %+v", e)
			}
		}
	}
}

func TestListPolicyCaps(t *testing.T) {
	r := newTree(t)
	p, err := NewPaths([]string{r}, DefaultDeny, Caps{MaxListEntries: 2, MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	entries, truncated, err := p.List(r, ListOptions{MaxEntries: 100, MaxDepth: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(t, r, entries); !slices.Equal(got, []string{"a.go", "b.txt"}) || !truncated {
		t.Fatalf("got %v truncated=%v", got, truncated)
	}
}

func TestListExtraDenyAndNoDeny(t *testing.T) {
	r := newTree(t)
	p, err := NewPaths([]string{r}, append(slices.Clone(DefaultDeny), "*.txt"), Caps{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	entries, _, err := p.List(r, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Path, ".txt") {
			t.Errorf("denied by extra rule but listed: %s", e.Path)
		}
	}
	// With no deny rules at all, id_rsa is listed: the rules, not the walk, hide it.
	p2, err := NewPaths([]string{r}, nil, Caps{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	entries, _, err = p2.List(r, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rels(t, r, entries), "id_rsa") {
		t.Errorf("without deny rules id_rsa should be listed: %v", rels(t, r, entries))
	}
}
