package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// toolchain checks that what a language's project needs is installed, as the Makefile
// target named in the error installs it (`make test` runs those targets first), and returns
// the environment its build and test run with.
func toolchain(t *testing.T, lang string) []string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("pal tool new's projects build with make: %v", err)
	}
	env := os.Environ()
	switch lang {
	case "go":
		// The kit from a file:// module proxy that serves this tree's kit as v1.0.0 and
		// nothing else, into a fresh module cache: `go mod tidy` in the project fetches it.
		env = testwasm.KitEnv(t)
	case "assemblyscript":
		for _, p := range []string{"node", "npm"} {
			if _, err := exec.LookPath(p); err != nil {
				t.Fatalf("the AssemblyScript project needs node 20 and npm in PATH (as `make examples` does): %v", err)
			}
		}
	case "c":
		probe := exec.Command("clang-14", "--target=wasm32-wasi", "-mexec-model=reactor", "-x", "c", "-", "-o", os.DevNull)
		probe.Stdin = strings.NewReader("void pal_probe(void){}\n")
		if out, err := probe.CombinedOutput(); err != nil {
			t.Fatalf("clang-14 cannot build a wasm32-wasi reactor: run `make c-toolchain` (%v)\n%s", err, out)
		}
	case "rust":
		sysroot, err := exec.Command("/usr/bin/rustc", "--print", "sysroot").Output()
		if err == nil {
			_, err = os.Stat(filepath.Join(strings.TrimSpace(string(sysroot)), "lib", "rustlib", "wasm32-unknown-unknown"))
		}
		if err == nil {
			_, err = os.Stat("/usr/bin/cargo")
		}
		if err != nil {
			t.Fatalf("the Rust project needs Debian's rustc, cargo and libstd-rust-dev-wasm32: run `make rust-toolchain` (%v)", err)
		}
		// cargo's own files in a private home: the project has no dependency, and
		// its Makefile runs cargo offline.
		env = append(env, "CARGO_HOME="+t.TempDir())
	}
	return env
}

// runIn runs name args in dir with env and returns its combined output; it fails the test on
// a non-zero exit. It logs how long the command took.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %.1f s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

var pinLine = regexp.MustCompile(`(?m)^"[a-z0-9_]+\.wasm" = "[0-9a-f]{64}"$`)

// TestToolNewEveryLanguage is issue 12's "a tool scaffolded by pal tool new passes its test in
// a fresh temporary directory, for each language": the real pal binary writes the project;
// the language's own toolchain runs its test and builds the module, with the commands its
// README gives; `pal tool check` accepts the module and prints its pin; and the tool answers
// through the real server (`pal call`), loaded from a [user_modules] directory with the pin
// pasted from `pal tool check`: granted fs.read it counts a file of the workspace, a path the
// policy denies is refused, and without a grant fs.read is refused with the host's text.
func TestToolNewEveryLanguage(t *testing.T) {
	for lang, name := range map[string]string{"go": "count_go", "assemblyscript": "count_as", "c": "count_c", "rust": "count_rs"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			env := toolchain(t, lang)
			w := newWorkspace(t)
			base := t.TempDir()
			palEnv := homeEnv(w.stateDir, filepath.Join(w.stateDir, "state"))

			out := runIn(t, base, palEnv, palBin, "tool", "new", lang, name)
			dir := filepath.Join(base, name)
			if !strings.Contains(out, "wrote "+name) {
				t.Fatalf("pal tool new: %s", out)
			}
			if lang == "assemblyscript" {
				runIn(t, dir, env, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
				runIn(t, dir, env, "npm", "test")
			} else {
				runIn(t, dir, env, "make", "test")
				runIn(t, dir, env, "make")
			}
			wasm, err := os.ReadFile(filepath.Join(dir, name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s.wasm: %d bytes", name, len(wasm))

			// pal tool check as the README says, then in the modules directory of a
			// pal.toml: there it is refused until pinned, and prints the pin line.
			out = runIn(t, dir, palEnv, palBin, "tool", "check", name+".wasm")
			if !strings.Contains(out, "ok: pal would load this module") || !strings.Contains(out, "[tools."+name+"]") {
				t.Fatalf("pal tool check:\n%s", out)
			}
			mods := filepath.Join(w.stateDir, "modules")
			if err := os.MkdirAll(mods, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mods, name+".wasm"), wasm, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := func(file, extra string) string {
				p := filepath.Join(w.stateDir, file)
				if err := os.WriteFile(p, []byte(fmt.Sprintf("[user_modules]\ndir = %q\n%s", mods, extra)), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			cmd := exec.Command(palBin, "tool", "check", "-config", cfg("unpinned.toml", ""), filepath.Join(mods, name+".wasm"))
			cmd.Env = palEnv
			b, err := cmd.CombinedOutput()
			pin := pinLine.FindString(string(b))
			if err == nil || !strings.Contains(string(b), "not pinned") || pin == "" {
				t.Fatalf("pal tool check of an unpinned module in user_modules.dir: %v\n%s", err, b)
			}
			granted := cfg("granted.toml", "\n[user_modules.pins]\n"+pin+"\n\n[tools."+name+"]\ncapabilities = [\"fs.read\"]\n")
			bare := cfg("bare.toml", "\n[user_modules.pins]\n"+pin+"\n")
			runIn(t, dir, palEnv, palBin, "tool", "check", "-config", granted, filepath.Join(mods, name+".wasm"))

			p := newProvider(t)
			file := filepath.Join(w.root, "src", "calc.go")
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%s: %d lines, %d words, %d bytes", file, strings.Count(string(body), "\n"), len(strings.Fields(string(body))), len(body))
			code, stdout, stderr := callPal(t, w, serverEnv(w, p, "PAL_CONFIG="+granted), name, "--args", fmt.Sprintf(`{"path": %q}`, file))
			if code != 0 || strings.TrimSpace(stdout) != want {
				t.Fatalf("pal call %s: exit %d\nstdout: %s\nwant: %s\nstderr: %s", name, code, stdout, want, stderr)
			}
			code, stdout, stderr = callPal(t, w, serverEnv(w, p, "PAL_CONFIG="+granted), name, "--args", fmt.Sprintf(`{"path": %q}`, filepath.Join(w.root, ".env")))
			// pal call prints an error's content and its code; the Go kit passes on the
			// host's code of an error the handler wrapped.
			if code != 1 || stdout != "" || !strings.Contains(stderr, "cannot read "+filepath.Join(w.root, ".env")+": denied: ") || strings.Contains(stderr, "MARKER-DOTENV-77") ||
				lang == "go" && !strings.Contains(stderr, "[denied]") {
				t.Fatalf("pal call %s on .env: exit %d\nstdout: %s\nstderr: %s", name, code, stdout, stderr)
			}
			code, stdout, stderr = callPal(t, w, serverEnv(w, p, "PAL_CONFIG="+bare), name, "--args", fmt.Sprintf(`{"path": %q}`, file))
			notGranted := fmt.Sprintf(`not_granted: tool %q has no "fs.read" capability in this call (granted: {})`, name)
			if code != 1 || stdout != "" || !strings.Contains(stderr, notGranted) || lang == "go" && !strings.Contains(stderr, "[not_granted]") {
				t.Fatalf("pal call %s without a grant: exit %d\nstdout: %s\nstderr: %s\nwant %s", name, code, stdout, stderr, notGranted)
			}
			if n := len(p.requests()); n != 0 {
				t.Errorf("the tool reached the model provider %d times", n)
			}
		})
	}
}
