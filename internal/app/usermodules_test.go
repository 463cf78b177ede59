package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/builtinwasm"
	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/policy"
)

// userModulesSetup makes a home with a user file (trusted) naming a user module directory
// with the given pins, a project directory to start in, and returns the options and paths.
func userModulesSetup(t *testing.T, pins map[string]string) (opts Options, mods, userFile, auditPath string) {
	t.Helper()
	base := t.TempDir()
	home, work := filepath.Join(base, "home"), filepath.Join(base, "work")
	mods = filepath.Join(home, "mods")
	for _, d := range []string{mods, work, filepath.Join(home, "config", "pal")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_STATE_HOME":  filepath.Join(home, "state"),
		"OPENAI_API_KEY":  "sk-test-user-modules-0123456789",
	}
	userFile = filepath.Join(home, "config", "pal", "pal.toml")
	writePins(t, userFile, filepath.Join(home, "cache"), pins)
	opts = Options{Getenv: func(k string) string { return env[k] }, WorkDir: work, SystemConfigPath: filepath.Join(base, "no-system.toml")}
	return opts, mods, userFile, filepath.Join(home, "state", "audit.jsonl")
}

func writePins(t *testing.T, userFile, cache string, pins map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("[cache]\ndir = \"" + cache + "\"\n\n[audit]\npath = \"" + filepath.Join(filepath.Dir(cache), "state", "audit.jsonl") + "\"\n\n[user_modules]\ndir = \"../../mods\"\n\n[user_modules.pins]\n")
	for name, sum := range pins {
		b.WriteString("\"" + name + "\" = \"" + sum + "\"\n")
	}
	if err := os.WriteFile(userFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sum256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// moduleLoads returns the audit log's module.load records.
func moduleLoads(t *testing.T, auditPath string) []policy.Record {
	t.Helper()
	raw, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []policy.Record
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var r policy.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Op == "module.load" {
			out = append(out, r)
		}
	}
	return out
}

// A module in user_modules.dir loads while its pin holds; rebuilt (new bytes), it is refused
// with a message saying so and an audit record, and the server serves the rest; re-pinned,
// it loads again. A file with no pin is refused the same way.
func TestUserModulesArePinned(t *testing.T) {
	v1 := testwasm.ABIModule(testwasm.ImportPalCall)
	opts, mods, userFile, auditPath := userModulesSetup(t, map[string]string{"wordcount.wasm": sum256(v1)})
	if err := os.WriteFile(filepath.Join(mods, "wordcount.wasm"), v1, 0o644); err != nil {
		t.Fatal(err)
	}
	build := func() (*App, string) {
		t.Helper()
		var log bytes.Buffer
		o := opts
		o.LogOutput = &log
		a, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		return a, log.String()
	}

	a, _ := build()
	if !slices.Contains(a.Server.Tools(), "wordcount") {
		t.Fatalf("the pinned module's tool is not published: %v", a.Server.Tools())
	}
	if recs := moduleLoads(t, auditPath); len(recs) != 1 || recs[0].Decision != "allow" || recs[0].Path != "wordcount.wasm" {
		t.Fatalf("audit: %+v", recs)
	}

	// Rebuilt: other bytes under the same name. Refused until re-pinned; pal still serves.
	v2 := testwasm.ABIModule(testwasm.ImportPalCall, testwasm.ImportPalLog)
	os.WriteFile(filepath.Join(mods, "wordcount.wasm"), v2, 0o644)
	os.WriteFile(filepath.Join(mods, "stray.wasm"), v1, 0o644) // never pinned
	a, log := build()
	if slices.Contains(a.Server.Tools(), "wordcount") || !slices.Contains(a.Server.Tools(), "chat") {
		t.Fatalf("tools after the change: %v", a.Server.Tools())
	}
	recs := moduleLoads(t, auditPath)[1:]
	if len(recs) != 2 {
		t.Fatalf("audit after the change: %+v", recs)
	}
	for _, r := range recs {
		if r.Decision != "deny" || r.Root != mods {
			t.Errorf("record %+v", r)
		}
		switch r.Path {
		case "wordcount.wasm":
			for _, want := range []string{"changed since it was pinned", "has sha256 " + sum256(v2), "pinned " + sum256(v1), "pal tool check", `"wordcount.wasm" = "` + sum256(v2) + `"`} {
				if !strings.Contains(r.Reason, want) {
					t.Errorf("changed module's record lacks %q: %s", want, r.Reason)
				}
			}
		case "stray.wasm":
			if !strings.Contains(r.Reason, "not pinned") {
				t.Errorf("unpinned module's record: %s", r.Reason)
			}
		default:
			t.Errorf("record for %s", r.Path)
		}
	}
	if !strings.Contains(log, "tool module refused") || !strings.Contains(log, "changed since it was pinned") {
		t.Errorf("the log does not say why:\n%s", log)
	}

	// Re-pinned: loads again.
	writePins(t, userFile, filepath.Join(filepath.Dir(mods), "cache"), map[string]string{"wordcount.wasm": sum256(v2)})
	if a, _ := build(); !slices.Contains(a.Server.Tools(), "wordcount") {
		t.Fatalf("re-pinned module not loaded: %v", a.Server.Tools())
	}
}

// Attack: a repository's pal.toml names a module directory (and pins) of its own. An
// untrusted project file may not say what pal loads: pal refuses to start, naming the key
// and `pal trust`, and loads nothing from there.
func TestUserModulesDirIsTrustedOnly(t *testing.T) {
	for _, project := range []string{
		"[user_modules]\ndir = \"tools\"\n",
		"[user_modules.pins]\n\"evil.wasm\" = \"" + strings.Repeat("a", 64) + "\"\n",
	} {
		opts, _, _, _ := userModulesSetup(t, nil)
		os.MkdirAll(filepath.Join(opts.WorkDir, "tools"), 0o700)
		os.WriteFile(filepath.Join(opts.WorkDir, "tools", "evil.wasm"), testwasm.ABIModule(testwasm.ImportPalCall), 0o644)
		if err := os.WriteFile(filepath.Join(opts.WorkDir, "pal.toml"), []byte(project), 0o644); err != nil {
			t.Fatal(err)
		}
		opts.LogOutput = &bytes.Buffer{}
		_, err := Build(context.Background(), opts)
		if !errors.Is(err, policy.ErrUntrusted) || !strings.Contains(err.Error(), "user_modules.") || !strings.Contains(err.Error(), "pal trust") {
			t.Errorf("%q: want a refusal naming the key and pal trust, got %v", project, err)
		}
	}
}

// Attack: a user module pinned with a built-in module's hash, whose manifest pal knows ahead
// (and whose hash pal does not compute at start: runtime.BuildSHA256; the chat module's in
// every build, the Go module's in a make-built one). The pin is checked against the file's own
// hash, so other bytes cannot take a built-in module's identity: the file is refused as
// changed since it was pinned.
func TestUserModulePinnedAsTheBuiltinIsHashed(t *testing.T) {
	_, chatHash, _, ok := builtinwasm.Chat()
	if !ok {
		t.Fatal("the chat module's manifest is malformed")
	}
	hashes := map[string]string{"chat": chatHash}
	if hash, _, ok := builtinwasm.Manifest(); ok {
		hashes["go"] = hash
	}
	for name, hash := range hashes {
		t.Run(name, func(t *testing.T) {
			evil := testwasm.ABIModule(testwasm.ImportPalCall)
			opts, mods, _, auditPath := userModulesSetup(t, map[string]string{"builtin.wasm": hash})
			if err := os.WriteFile(filepath.Join(mods, "builtin.wasm"), evil, 0o644); err != nil {
				t.Fatal(err)
			}
			opts.LogOutput = io.Discard
			a, err := Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if n := len(a.Modules); n != 2 || !a.Modules[0].Builtin || !a.Modules[1].Builtin {
				t.Fatalf("%d modules loaded; want the two built-in ones only", n)
			}
			recs := moduleLoads(t, auditPath)
			if len(recs) != 1 || recs[0].Decision != "deny" || !strings.Contains(recs[0].Reason, "has sha256 "+sum256(evil)) {
				t.Fatalf("audit: %+v; want the file refused with its own hash", recs)
			}
		})
	}
}
