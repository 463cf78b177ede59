package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// TestGoKitFromProxy writes a Go tool as a third party does (docs/authoring.md, "Go"): in a
// fresh directory outside the repository, `go mod init` and `go get` of the kit module from a
// module proxy (testwasm.KitProxy, this tree's kit as v1.0.0) and nothing else: no replace,
// no copy of pal. The tool is tools-wasm/examples/go (the todo finder); its own paltest
// tests pass there, and the documented build gives the same sha256 in two different
// directories, so the pin in pal.toml does not depend on where it was built. The module
// then runs through the real server, granted and not granted model.generate.
func TestGoKitFromProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches the kit and builds a wasm module")
	}
	example := filepath.Join(testwasm.Root(t), "tools-wasm", "examples", "go")
	env := testwasm.KitEnv(t)
	run := func(dir string, extraEnv []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
		}
		return string(out)
	}
	build := func(dir string) []byte {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"main.go", "main_test.go"} {
			src, err := os.ReadFile(filepath.Join(example, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run(dir, nil, "mod", "init", "example.com/todo")
		run(dir, nil, "get", testwasm.KitModule+"@"+testwasm.KitVersion)
		gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "require " + testwasm.KitModule + " " + testwasm.KitVersion; !strings.Contains(string(gomod), want) || strings.Contains(string(gomod), "replace") {
			t.Fatalf("go.mod after go get, want %q and no replace:\n%s", want, gomod)
		}
		run(dir, nil, "test", "./...")
		// docs/authoring.md's build command, word for word.
		run(dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", "todo.wasm", ".")
		wasm, err := os.ReadFile(filepath.Join(dir, "todo.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		return wasm
	}
	a := build(filepath.Join(t.TempDir(), "todo"))
	b := build(filepath.Join(t.TempDir(), "elsewhere", "deeper", "todo"))
	sa, sb := sha256.Sum256(a), sha256.Sum256(b)
	if sa != sb {
		t.Fatalf("the same source built in two directories: sha256 %s and %s", hex.EncodeToString(sa[:]), hex.EncodeToString(sb[:]))
	}
	t.Logf("todo.wasm: %d bytes, sha256 %s in both directories", len(a), hex.EncodeToString(sa[:]))
	kitToolRuns(t, "todo-go", a)
}
