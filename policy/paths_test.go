package policy

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The contents of files that must never be read through the policy.
const (
	outsideSecret = "OUTSIDE-SECRET-CONTENT"
	envSecret     = "ENV-SECRET-CONTENT"
)

type fixture struct {
	tmp     string // holds root and outside
	root    string // the allowed root (real path)
	outside string // a sibling directory outside the root
	paths   *Paths
}

func mkfile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// newFixture builds a root with ordinary files, secrets and hostile symlinks, and a Paths over
// it with a 1000-byte file cap.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symlink fixtures need a Unix filesystem")
	}
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{tmp: tmp, root: filepath.Join(tmp, "w"), outside: filepath.Join(tmp, "outside")}
	r := fx.root
	mkfile(t, filepath.Join(fx.outside, "secret.txt"), outsideSecret)
	mkfile(t, filepath.Join(r, "a.txt"), "hello")
	mkfile(t, filepath.Join(r, "sub", "b.go"), "package b")
	mkfile(t, filepath.Join(r, ".env"), envSecret)
	mkfile(t, filepath.Join(r, ".env.local"), envSecret)
	mkfile(t, filepath.Join(r, "conf", ".ENV"), envSecret)
	mkfile(t, filepath.Join(r, "Server.PEM"), envSecret)
	mkfile(t, filepath.Join(r, "keys", "ID_RSA"), envSecret)
	mkfile(t, filepath.Join(r, ".ssh", "config"), envSecret)
	mkfile(t, filepath.Join(r, ".config", "gh", "hosts.yml"), envSecret)
	mkfile(t, filepath.Join(r, ".config", "other.json"), "{}")
	mkfile(t, filepath.Join(r, "big.bin"), strings.Repeat("x", 2000))
	mkfile(t, filepath.Join(r, "exact.bin"), strings.Repeat("y", 1000))
	if err := os.MkdirAll(filepath.Join(r, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(fx.outside, "secret.txt"), filepath.Join(r, "abs_out"))
	symlink(t, "../outside/secret.txt", filepath.Join(r, "rel_out"))
	symlink(t, "../../etc/passwd", filepath.Join(r, "sub", "a"))
	symlink(t, "../w/a.txt", filepath.Join(r, "reenter")) // leaves the root, then comes back
	symlink(t, fx.outside, filepath.Join(r, "outdir"))
	symlink(t, "chain2", filepath.Join(r, "chain1"))
	symlink(t, "sub/../chain3", filepath.Join(r, "chain2"))
	symlink(t, "a.txt", filepath.Join(r, "chain3"))
	symlink(t, "loop2", filepath.Join(r, "loop1"))
	symlink(t, "loop1", filepath.Join(r, "loop2"))
	symlink(t, ".env", filepath.Join(r, "envlink"))
	symlink(t, "../.env.local", filepath.Join(r, "sub", "envlink2"))
	symlink(t, ".ssh", filepath.Join(r, "sshlink"))
	symlink(t, filepath.Join(r, "a.txt"), filepath.Join(r, "abs_in"))
	symlink(t, "sub", filepath.Join(r, "dirlink"))
	symlink(t, "../a.txt", filepath.Join(r, "sub", "up"))
	symlink(t, "nowhere", filepath.Join(r, "dangling"))
	symlink(t, "a.txt/x", filepath.Join(r, "notdir"))
	p, err := NewPaths([]string{r}, DefaultDeny, Caps{MaxFileBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	fx.paths = p
	return fx
}

func TestReadFileRules(t *testing.T) {
	fx := newFixture(t)
	r := fx.root
	tests := []struct {
		name    string
		path    string
		want    string // content on success
		wantErr error
		code    string
		msg     string // exact error text, when set
	}{
		{name: "inside root", path: r + "/a.txt", want: "hello"},
		{name: "nested file", path: r + "/sub/b.go", want: "package b"},
		{name: "lexical dot-dot inside", path: r + "/sub/../a.txt", want: "hello"},
		{name: "double slash and dot", path: r + "//sub/./b.go", want: "package b"},
		{name: "relative", path: "a.txt", wantErr: ErrRelative, code: CodeDenied, msg: `"a.txt" is not an absolute path`},
		{name: "relative dot-dot", path: "../w/a.txt", wantErr: ErrRelative, code: CodeDenied},
		{name: "empty", path: "", wantErr: ErrRelative, code: CodeDenied},
		{name: "outside root", path: fx.outside + "/secret.txt", wantErr: ErrOutsideRoots, code: CodeDenied},
		{name: "dot-dot escape", path: r + "/../outside/secret.txt", wantErr: ErrOutsideRoots, code: CodeDenied},
		{name: "dot-dot past filesystem root", path: r + "/../../../../../../etc/passwd", wantErr: ErrOutsideRoots, code: CodeDenied},
		{name: "root prefix is not a parent", path: r + "x/a.txt", wantErr: ErrOutsideRoots, code: CodeDenied},
		{name: "absolute symlink out", path: r + "/abs_out", wantErr: ErrEscapesRoot, code: CodeDenied},
		{name: "relative symlink out", path: r + "/rel_out", wantErr: ErrEscapesRoot, code: CodeDenied},
		{name: "relative symlink to /etc/passwd", path: r + "/sub/a", wantErr: ErrEscapesRoot, code: CodeDenied},
		{name: "symlink leaving and re-entering", path: r + "/reenter", wantErr: ErrEscapesRoot, code: CodeDenied},
		{name: "directory symlink out", path: r + "/outdir/secret.txt", wantErr: ErrEscapesRoot, code: CodeDenied},
		{name: "symlink chain", path: r + "/chain1", want: "hello"},
		{name: "absolute symlink inside", path: r + "/abs_in", want: "hello"},
		{name: "directory symlink inside", path: r + "/dirlink/b.go", want: "package b"},
		{name: "symlink with dot-dot inside", path: r + "/sub/up", want: "hello"},
		{name: "symlink loop", path: r + "/loop1", wantErr: ErrSymlinkLoop, code: CodeInvalid},
		{name: "symlink to denied file", path: r + "/envlink", wantErr: ErrDenied, code: CodeDenied,
			msg: `"` + r + `/envlink" resolves to a path that matches deny rule ".env*"`},
		{name: "nested symlink to denied file", path: r + "/sub/envlink2", wantErr: ErrDenied, code: CodeDenied},
		{name: "symlink to denied dir", path: r + "/sshlink/config", wantErr: ErrDenied, code: CodeDenied},
		{name: "denied dir component", path: r + "/.ssh/config", wantErr: ErrDenied, code: CodeDenied,
			msg: `"` + r + `/.ssh/config" matches deny rule ".ssh/"`},
		{name: ".env", path: r + "/.env", wantErr: ErrDenied, code: CodeDenied, msg: `"` + r + `/.env" matches deny rule ".env*"`},
		{name: ".env.local", path: r + "/.env.local", wantErr: ErrDenied, code: CodeDenied,
			msg: `"` + r + `/.env.local" matches deny rule ".env*"`},
		{name: "denied even when missing", path: r + "/sub/.env", wantErr: ErrDenied, code: CodeDenied},
		{name: "case-insensitive .ENV", path: r + "/conf/.ENV", wantErr: ErrDenied, code: CodeDenied},
		{name: "case-insensitive *.pem", path: r + "/Server.PEM", wantErr: ErrDenied, code: CodeDenied},
		{name: "case-insensitive id_rsa*", path: r + "/keys/ID_RSA", wantErr: ErrDenied, code: CodeDenied},
		{name: "multi-component rule", path: r + "/.config/gh/hosts.yml", wantErr: ErrDenied, code: CodeDenied},
		{name: "multi-component rule leaves siblings", path: r + "/.config/other.json", want: "{}"},
		{name: "too large", path: r + "/big.bin", wantErr: ErrTooLarge, code: CodeTooLarge,
			msg: `"` + r + `/big.bin" is 2000 bytes, over the 1000-byte cap`},
		{name: "exactly at cap", path: r + "/exact.bin", want: strings.Repeat("y", 1000)},
		{name: "directory", path: r + "/dir", wantErr: ErrIsDir, code: CodeInvalid, msg: `"` + r + `/dir" is a directory`},
		{name: "root itself", path: r, wantErr: ErrIsDir, code: CodeInvalid},
		{name: "missing", path: r + "/missing.txt", wantErr: ErrNotFound, code: CodeNotFound},
		{name: "file used as directory", path: r + "/a.txt/x", wantErr: ErrNotFound, code: CodeNotFound},
		{name: "dangling symlink", path: r + "/dangling", wantErr: ErrNotFound, code: CodeNotFound},
		{name: "symlink through a file", path: r + "/notdir", wantErr: ErrNotFound, code: CodeNotFound},
		{name: "NUL byte", path: r + "/a.txt\x00", wantErr: ErrDenied, code: CodeDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, info, err := fx.paths.ReadFile(tc.path, 0)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ReadFile(%q): %v", tc.path, err)
				}
				if string(data) != tc.want {
					t.Fatalf("ReadFile(%q) = %q, want %q", tc.path, data, tc.want)
				}
				if info.Root != fx.root || info.Size != int64(len(tc.want)) || info.Truncated {
					t.Fatalf("info = %+v", info)
				}
				if got := filepath.Join(info.Root, info.Rel); !strings.HasPrefix(got, fx.root+"/") {
					t.Fatalf("resolved %q is not inside the root", got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadFile(%q) error = %v, want %v", tc.path, err, tc.wantErr)
			}
			if data != nil {
				t.Fatalf("ReadFile(%q) returned data with an error", tc.path)
			}
			if got := ErrorCode(err); got != tc.code {
				t.Fatalf("ErrorCode = %q, want %q", got, tc.code)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("error text = %q\nwant         %q", err.Error(), tc.msg)
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != tc.path {
				t.Fatalf("error %v does not name the path as given", err)
			}
			for _, leak := range []string{outsideSecret, envSecret, fx.outside, "/etc/passwd"} {
				if strings.Contains(err.Error(), leak) && !strings.Contains(tc.path, leak) {
					t.Fatalf("error %q leaks %q", err, leak)
				}
			}
		})
	}
}

func TestReadFileMaxBytes(t *testing.T) {
	fx := newFixture(t)
	big := fx.root + "/big.bin"
	tests := []struct {
		max       int64
		wantLen   int
		truncated bool
		wantErr   error
	}{
		{max: 10, wantLen: 10, truncated: true},
		{max: 999, wantLen: 999, truncated: true},
		{max: 1000, wantErr: ErrTooLarge}, // not smaller than the cap: the cap applies
		{max: 5000, wantErr: ErrTooLarge}, // above the cap: lowered to it
		{max: -1, wantErr: ErrTooLarge},
	}
	for _, tc := range tests {
		data, info, err := fx.paths.ReadFile(big, tc.max)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("max %d: err = %v, want %v", tc.max, err, tc.wantErr)
		}
		if err == nil && (len(data) != tc.wantLen || info.Truncated != tc.truncated || info.Size != 2000) {
			t.Fatalf("max %d: len %d, info %+v", tc.max, len(data), info)
		}
	}
	// A small file under a small max_bytes is not truncated.
	data, info, err := fx.paths.ReadFile(fx.root+"/a.txt", 10)
	if err != nil || string(data) != "hello" || info.Truncated {
		t.Fatalf("a.txt with max 10: %q %+v %v", data, info, err)
	}
}

func TestCheck(t *testing.T) {
	fx := newFixture(t)
	res, err := fx.paths.Check(fx.root + "/chain1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rel != "a.txt" || res.Root != fx.root || res.Abs() != fx.root+"/a.txt" {
		t.Fatalf("resolved = %+v", res)
	}
	f, err := res.Open()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, _ := f.Read(buf)
	f.Close()
	if string(buf[:n]) != "hello" {
		t.Fatalf("read %q", buf[:n])
	}
	for path, want := range map[string]error{
		fx.root + "/dir":     ErrIsDir,
		fx.root + "/.env":    ErrDenied,
		fx.root + "/abs_out": ErrEscapesRoot,
		"rel.png":            ErrRelative,
	} {
		if _, err := fx.paths.Check(path); !errors.Is(err, want) {
			t.Errorf("Check(%q) = %v, want %v", path, err, want)
		}
	}
}

func TestResolvedOpenRefusesSwappedFile(t *testing.T) {
	fx := newFixture(t)
	target := fx.root + "/swap.txt"
	mkfile(t, target, "original")
	res, err := fx.paths.Check(target)
	if err != nil {
		t.Fatal(err)
	}
	// Replace the checked file with a symlink to a denied one, as a racing process might.
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	symlink(t, ".env", target)
	if f, err := res.Open(); !errors.Is(err, ErrChanged) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("Open after swap = %v, want ErrChanged", err)
	}
}

func TestRootAliasesAndNesting(t *testing.T) {
	fx := newFixture(t)
	alias := filepath.Join(fx.tmp, "wlink")
	symlink(t, fx.root, alias)
	symlink(t, alias+"/a.txt", fx.root+"/via_alias")
	p, err := NewPaths([]string{alias, fx.root + "/sub"}, DefaultDeny, Caps{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.Roots(); len(got) != 1 || got[0] != fx.root {
		t.Fatalf("Roots() = %v, want the real root only", got)
	}
	for _, path := range []string{alias + "/a.txt", fx.root + "/a.txt", fx.root + "/via_alias", fx.root + "/sub/up"} {
		if data, _, err := p.ReadFile(path, 0); err != nil || string(data) != "hello" {
			t.Errorf("ReadFile(%q) = %q, %v", path, data, err)
		}
	}
	if _, _, err := p.ReadFile(alias+"/.env", 0); !errors.Is(err, ErrDenied) {
		t.Errorf("alias .env: %v", err)
	}
	if _, _, err := p.ReadFile(alias+"/../outside/secret.txt", 0); !errors.Is(err, ErrOutsideRoots) {
		t.Errorf("alias dot-dot: %v", err)
	}
}

func TestNewPathsRefusesBadRoots(t *testing.T) {
	tmp := t.TempDir()
	mkfile(t, filepath.Join(tmp, "file"), "x")
	if err := os.MkdirAll(filepath.Join(tmp, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"filesystem root":  {"/"},
		"relative":         {"w"},
		"missing":          {filepath.Join(tmp, "missing")},
		"file":             {filepath.Join(tmp, "file")},
		"denied component": {filepath.Join(tmp, ".ssh")},
		"system directory": {"/etc"},
	}
	if home, err := os.UserHomeDir(); err == nil {
		if st, err := os.Stat(home); err == nil && st.IsDir() {
			cases["home directory"] = []string{home}
		}
	}
	for name, roots := range cases {
		p, err := NewPaths(roots, DefaultDeny, Caps{})
		if !errors.Is(err, ErrBadRoot) {
			if p != nil {
				p.Close()
			}
			t.Errorf("%s: NewPaths(%v) = %v, want ErrBadRoot", name, roots, err)
		}
	}
	if _, err := NewPaths([]string{tmp}, []string{"[x"}, Caps{}); !errors.Is(err, ErrBadDenyRule) {
		t.Errorf("bad glob: %v", err)
	}
	// No roots: every path is outside.
	p, err := NewPaths(nil, DefaultDeny, Caps{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.ReadFile(filepath.Join(tmp, "file"), 0); !errors.Is(err, ErrOutsideRoots) {
		t.Errorf("no roots: %v", err)
	}
}

func TestDenyRules(t *testing.T) {
	rules, err := compileDeny(DefaultDeny)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		rule string // "" = allowed
	}{
		{".env", ".env*"},
		{"a/.env", ".env*"},
		{".env.production", ".env*"},
		{".ENV.Local", ".env*"},
		{".environment", ".env*"},
		{".envrc", ".env*"},
		{"env.go", ""},
		{"infra/terraform.tfstate", "*.tfstate*"},
		{"infra/terraform.tfstate.backup", "*.tfstate*"},
		{"prod.tfvars", "*.tfvars"},
		{".vault-token", ".vault-token"},
		{".pgpass", ".pgpass"},
		{"home/.azure/accessTokens.json", ".azure/"},
		{"home/.config/gh/hosts.yml", ".config/gh/"},
		{"home/.config/gcloud/credentials.db", ".config/gcloud/"},
		{"home/.config/other.toml", ""},
		{"store.jks", "*.jks"},
		{"server.crt", "*.crt"},
		{"ca.cer", "*.cer"},
		{"ca.der", "*.der"},
		{"putty.ppk", "*.ppk"},
		{"id_ed25519_sk", "id_ed25519*"},
		{"id_generator.go", ""},
		{"env", ""},
		{"certs/server.pem", "*.pem"},
		{"tls.KEY", "*.key"},
		{"keyboard.go", ""},
		{"id_rsa", "id_rsa*"},
		{"id_rsa.pub", "id_rsa*"},
		{"id_ed25519", "id_ed25519*"},
		{"home/.ssh/known_hosts", ".ssh/"},
		{".ssh", ".ssh/"},
		{"x/.aws/credentials", ".aws/"},
		{".gnupg/pubring.kbx", ".gnupg/"},
		{".git/config", ".git/"},
		{".github/workflows/ci.yml", ""},
		{".gitignore", ""},
		{".git-credentials", ".git-credentials"},
		{".netrc", ".netrc"},
		{".npmrc", ".npmrc"},
		{".pypirc", ".pypirc"},
		{".kube/config", ".kube/"},
		{"deploy/kubeconfig", "kubeconfig"},
		{"home/.docker/config.json", ".docker/"},
		{"config.json", ""},
		{"docker/config.json", ""},
		{"app.keystore", "*.keystore"},
		{"gcp/credentials.json", "credentials.json"},
		{"cert.p12", "*.p12"},
		{"cert.pfx", "*.pfx"},
		{"main.go", ""},
	}
	for _, tc := range tests {
		rule, denied := rules.match(strings.Split(tc.path, "/"))
		if rule != tc.rule || denied != (tc.rule != "") {
			t.Errorf("match(%q) = %q, %v; want %q", tc.path, rule, denied, tc.rule)
		}
	}
	for _, bad := range []string{"", "/", "/abs", "a//b", "../x", "[x"} {
		if _, err := compileDeny([]string{bad}); !errors.Is(err, ErrBadDenyRule) {
			t.Errorf("compileDeny(%q) = %v, want ErrBadDenyRule", bad, err)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for err, want := range map[error]string{
		nil:                              "",
		ErrRelative:                      CodeDenied,
		ErrOutsideRoots:                  CodeDenied,
		ErrEscapesRoot:                   CodeDenied,
		ErrDenied:                        CodeDenied,
		ErrChanged:                       CodeDenied,
		ErrNotFound:                      CodeNotFound,
		ErrIsDir:                         CodeInvalid,
		ErrNotDir:                        CodeInvalid,
		ErrNotRegular:                    CodeInvalid,
		ErrSymlinkLoop:                   CodeInvalid,
		ErrTooLarge:                      CodeTooLarge,
		errors.New("disk on fire"):       CodeInternal,
		pathErr("/x", ErrDenied, "nope"): CodeDenied,
	} {
		if got := ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestSymlinkAcrossRootsIsRefused(t *testing.T) {
	fx := newFixture(t)
	other := filepath.Join(fx.tmp, "other")
	mkfile(t, filepath.Join(other, "b.txt"), "other root")
	symlink(t, filepath.Join(other, "b.txt"), filepath.Join(fx.root, "to_other_abs"))
	symlink(t, "../other/b.txt", filepath.Join(fx.root, "to_other_rel"))
	p, err := NewPaths([]string{fx.root, other}, DefaultDeny, Caps{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if data, _, err := p.ReadFile(filepath.Join(other, "b.txt"), 0); err != nil || string(data) != "other root" {
		t.Fatalf("second root: %q %v", data, err)
	}
	for _, link := range []string{"to_other_abs", "to_other_rel"} {
		if _, _, err := p.ReadFile(filepath.Join(fx.root, link), 0); !errors.Is(err, ErrEscapesRoot) {
			t.Errorf("%s: %v, want ErrEscapesRoot", link, err)
		}
	}
}
