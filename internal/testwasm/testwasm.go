// Package testwasm builds tool modules for tests. Tests need real modules (the built-in
// tools, the hostile suite), and building them on demand keeps `go test ./...` self-contained:
// the Go build cache makes a repeat build a link step.
package testwasm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
	dir   string
)

// Root returns the repository root (the directory of go.mod).
func Root(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("not inside the pal module")
	}
	return filepath.Dir(mod)
}

// Build compiles the package at pkg (a path relative to the repository root, such as
// "tools-wasm/testdata/hostile") as a wasip1 reactor and returns the .wasm path. Each package
// is built once per test binary.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "pal-testwasm-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	out := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "_")+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+pkg)
	cmd.Dir = Root(t)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s for wasip1: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// Cleanup removes the built modules. Call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir, built = "", map[string]string{}
	}
}

// Load builds pkg and returns the module's bytes.
func Load(t testing.TB, pkg string) []byte {
	t.Helper()
	b, err := os.ReadFile(Build(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BuildPal builds the built-in module where the host embeds it, then the pal binary into dir,
// and returns the binary's path. It is for TestMain functions, which have no testing.T.
func BuildPal(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	top := filepath.Dir(strings.TrimSpace(string(out)))
	wasm := exec.Command("go", "build", "-buildmode=c-shared", "-o", "internal/builtinwasm/modules/builtin.wasm", "./tools-wasm/builtin")
	wasm.Dir, wasm.Env = top, append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := wasm.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the built-in module: %v\n%s", err, b)
	}
	bin := filepath.Join(dir, "pal")
	host := exec.Command("go", "build", "-o", bin, "./cmd/pal")
	host.Dir = top
	if b, err := host.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building pal: %v\n%s", err, b)
	}
	return bin, nil
}
