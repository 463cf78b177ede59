package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPaths feeds arbitrary paths to Check, ReadFile and List over a root full of hostile
// symlinks. Whatever the path, nothing panics, and whatever is returned lies inside the root,
// matches no deny rule and is never a secret file's content.
func FuzzPaths(f *testing.F) {
	fx := newFixture(f)
	for _, seed := range []string{
		"a.txt", "sub/b.go", "../outside/secret.txt", "abs_out", "rel_out", "sub/a", "reenter",
		"outdir/secret.txt", "chain1", "loop1", "envlink", "sub/envlink2", "sshlink/config",
		".ssh/config", ".env", ".env.local", "conf/.ENV", "dirlink/../.env", "dirlink/../../outside",
		"sub/up", "abs_in", "dangling", "notdir", "big.bin", ".", "", "..", "//", "a.txt/..",
		"sub/./../sub/b.go", "\x00", ".docker/config.json", "DirLink/B.go",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	deny, err := compileDeny(DefaultDeny)
	if err != nil {
		f.Fatal(err)
	}
	inside := func(t *testing.T, what, p string) {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return // raced away or dangling: nothing was read through it
		}
		if real != fx.root && !strings.HasPrefix(real, fx.root+string(filepath.Separator)) {
			t.Fatalf("%s: %q resolves to %q, outside the root", what, p, real)
		}
		rel, _ := filepath.Rel(fx.root, real)
		if rule, denied := deny.match(splitPath(rel)); denied {
			t.Fatalf("%s: %q resolves to %q, denied by %q", what, p, real, rule)
		}
	}
	f.Fuzz(func(t *testing.T, suffix string, raw bool) {
		path := fx.root + "/" + suffix
		if raw {
			path = suffix
		}
		if res, err := fx.paths.Check(path); err == nil {
			inside(t, "Check", res.Abs())
			if got := res.Abs(); !strings.HasPrefix(got, fx.root) {
				t.Fatalf("Check(%q).Abs() = %q", path, got)
			}
		} else if ErrorCode(err) == CodeInternal {
			t.Fatalf("Check(%q): unclassified error %v", path, err)
		}
		data, info, err := fx.paths.ReadFile(path, 0)
		if err == nil {
			inside(t, "ReadFile", filepath.Join(info.Root, info.Rel))
			if s := string(data); strings.Contains(s, outsideSecret) || strings.Contains(s, envSecret) {
				t.Fatalf("ReadFile(%q) returned a secret", path)
			}
		} else if strings.Contains(err.Error(), outsideSecret) || strings.Contains(err.Error(), envSecret) {
			t.Fatalf("ReadFile(%q) error leaks content: %v", path, err)
		}
		entries, _, err := fx.paths.List(path, ListOptions{MaxEntries: 50})
		if err == nil {
			for _, e := range entries {
				inside(t, "List", filepath.Join(fx.root, e.Rel))
			}
		}
	})
}

// FuzzDenyMatch checks that matching never panics and is case-insensitive.
func FuzzDenyMatch(f *testing.F) {
	for _, s := range []string{".env", "a/.ssh/b", "x/.docker/config.json", "ID_RSA.pub", "", "/", "a//b"} {
		f.Add(s)
	}
	deny, err := compileDeny(DefaultDeny)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		comps := strings.Split(p, "/")
		r1, d1 := deny.match(comps)
		// A walk checks each new entry with matchTail; over all prefixes that must agree
		// with matching the whole path.
		tail := false
		for i := range comps {
			if _, ok := deny.matchTail(comps[:i+1]); ok {
				tail = true
			}
		}
		if tail != d1 {
			t.Fatalf("match(%q) = %v but matchTail over prefixes = %v", p, d1, tail)
		}
		r2, d2 := deny.match(strings.Split(strings.ToUpper(p), "/"))
		if d1 != d2 || r1 != r2 {
			// ToUpper can change a string's length or meaning for some runes; only ASCII must agree.
			for _, c := range p {
				if c >= 0x80 {
					return
				}
			}
			t.Fatalf("match(%q) = %q,%v but upper case = %q,%v", p, r1, d1, r2, d2)
		}
	})
}

// FuzzLoad feeds arbitrary files to Load: it never panics, and what it accepts is valid.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"", "[paths]\nroots = [\".\"]\nmax_depth = 3\n", "[paths]\nrooots = []\n",
		"[providers.openai]\napi_key = \"sk-1234567890abcdef\"\n", "[providers.openai]\napi_key = sk-1234567890\n",
		"[tools]\ndisabled = [\"Version\", \"chat\"]\n[tools.chat]\ncapabilities = [\"fs.read\"]\n",
		"[limits]\ncall_timeout = \"10 minutes\"\n", "[limits]\ncall_timeout = 600\n",
		"[memory]\nttl = \"-1h\"\n", "[tools.chat]\ncapabilities = 3\n", "[[paths]]\n", "paths = 1\n",
		"[providers.custom]\nbase_url = \"http://user:pw@localhost:11434\"\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		file := filepath.Join(dir, "pal.toml")
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(file)
		if err != nil {
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if c.Paths.MaxDepth < 1 || c.Paths.MaxDepth > 64 || c.Paths.MaxFileBytes <= 0 ||
			c.Limits.CallTimeout.Duration <= 0 || c.Memory.TTL.Duration <= 0 || c.Memory.MaxTurns <= 0 {
			t.Fatalf("Load accepted invalid values: %+v", c)
		}
		for _, n := range c.Tools.Disabled {
			if n == "version" || n == "listmodels" {
				t.Fatalf("essential tool %q disabled", n)
			}
		}
		for _, r := range c.Paths.Roots {
			if !filepath.IsAbs(r) {
				t.Fatalf("root %q not made absolute", r)
			}
		}
	})
}

// FuzzUntrustedProject feeds arbitrary bytes as an untrusted project pal.toml over a trusted
// base. Whatever the file says, either it is refused, or the result is no wider than the base
// for any key, and no tool gains a capability it did not have.
func FuzzUntrustedProject(f *testing.F) {
	for _, seed := range []string{
		"", "[paths]\nextra_deny = [\"*.sql\"]\n", "[paths]\ndeny = []\n", "[paths]\nroots = [\"/\"]\n",
		"[paths]\nroots = [\"sub\"]\n", "[limits]\nmemory_mb = 4096\n", "[limits]\nmemory_mb = 1\n",
		"[tools.chat]\ncapabilities = [\"fs.read\", \"progress\"]\n", "[tools]\nenabled = []\n",
		"[providers.openai]\nbase_url = \"http://127.0.0.1/v1\"\n", "[providers.openai]\nallowed_models = [\"o3\"]\n",
		"[cache]\ndir = \"/tmp/x\"\n", "locked = true\n", "[[modules]]\npath = \"m.wasm\"\nsha256 = \"" + strings.Repeat("a", 64) + "\"\n",
		"[redaction]\nenabled = false\n", "[paths]\nallow_hard_links = true\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	for _, d := range []string{"work/sub", "system", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			f.Fatal(err)
		}
	}
	base := "[paths]\nextra_deny = [\"*.bak\"]\n[tools]\ndisabled = [\"planner\"]\n[tools.chat]\ncapabilities = [\"fs.read\", \"model.generate\"]\n" +
		"[providers.openai]\nallowed_models = [\"gpt-5.2\", \"o3\"]\n[limits]\nmemory_mb = 128\n"
	if err := os.WriteFile(filepath.Join(dir, "system", "pal.toml"), []byte(base), 0o600); err != nil {
		f.Fatal(err)
	}
	src := Sources{
		SystemFile: filepath.Join(dir, "system", "pal.toml"),
		UserFile:   filepath.Join(dir, "none.toml"),
		WorkDir:    filepath.Join(dir, "work"),
		Getenv:     func(string) string { return "" },
		Trust:      &TrustStore{Path: filepath.Join(dir, "state", "trusted.json")},
	}
	project := filepath.Join(src.WorkDir, "pal.toml")
	os.Remove(project)
	trusted, err := LoadLayers(src)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content string) {
		if err := os.WriteFile(project, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadLayers(src)
		if err != nil {
			return
		}
		for _, r := range keyRules {
			if w := r.widening(trusted, got, src.WorkDir); w != "" {
				t.Fatalf("untrusted %q widened %s: %s", content, r.key, w)
			}
		}
		for _, tool := range []string{"chat", "planner", "wordcount"} {
			for _, builtin := range []bool{true, false} {
				before := trusted.Grant(tool, AllCapabilities, builtin)
				after := got.Grant(tool, AllCapabilities, builtin)
				if after.Intersect(before) != after {
					t.Fatalf("untrusted %q granted %s %v beyond %v", content, tool, after, before)
				}
			}
		}
	})
}

// FuzzTrustStore feeds arbitrary bytes as the trust store: nothing panics, and a record is
// only trusted when its path and hash match exactly.
func FuzzTrustStore(f *testing.F) {
	f.Add(`{"version":1,"files":[{"path":"/p/pal.toml","sha256":"ab"}]}`)
	f.Add(`{"files":null}`)
	f.Add(`[]`)
	f.Add(``)
	dir := f.TempDir()
	store := &TrustStore{Path: filepath.Join(dir, "trusted.json")}
	f.Fuzz(func(t *testing.T, content string) {
		if err := os.WriteFile(store.Path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := store.List()
		ok, err2 := store.IsTrusted("/p/pal.toml", "ab")
		if (err == nil) != (err2 == nil) {
			t.Fatalf("List and IsTrusted disagree: %v / %v", err, err2)
		}
		want := false
		for _, r := range recs {
			if r.Path == "/p/pal.toml" && r.SHA256 == "ab" {
				want = true
			}
		}
		if ok != want {
			t.Fatalf("IsTrusted = %v, records say %v", ok, want)
		}
	})
}
