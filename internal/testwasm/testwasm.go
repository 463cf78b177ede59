// Package testwasm builds tool modules and the pal binary for tests. Tests need real modules
// (the built-in tools, the hostile suite), and building them on demand keeps `go test ./...`
// self-contained: the Go build cache makes a repeat build a link step.
//
// Everything is built with -trimpath into a temporary directory; nothing here writes into the
// source tree. The pal binary gets the freshly built built-in module through `go build
// -overlay`, so internal/builtinwasm/modules/builtin.wasm, which `make modules` owns, is
// neither read nor rewritten by a test.
package testwasm

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// CoverDirEnv names the environment variable that switches BuildPal to a coverage build: when
// it holds a directory, the binary is built with `-cover` over every package of the module,
// and Env hands the binary GOCOVERDIR set to that directory. `make cover` sets it.
const CoverDirEnv = "PAL_TEST_GOCOVERDIR"

// ShippedEnv names the environment variable that points the tests at the shipped build, the
// Makefile's: PAL_TEST_SHIPPED=DIR makes BuildPal return DIR/bin/pal and Build of the built-in
// tools return DIR/internal/builtinwasm/modules/builtin.wasm, built by `make build`. `make
// bench` sets it, so that the benchmarks measure what ships.
const ShippedEnv = "PAL_TEST_SHIPPED"

// Tags are the build tags BuildPal builds the pal binary with: the Makefile's PAL_TAGS, the
// shipped binary's, without palmodules (BuildPal overlays the module into the embed.FS of a
// build without it, as `go install` has). cmd/pal's TestDeadMethods holds the two together.
const Tags = "grpcnotrace"

// builtinModule is where `make modules` puts the built-in module, relative to the repository
// root; BuildPal overlays it.
const builtinModule = "internal/builtinwasm/modules/builtin.wasm"

var (
	mu    sync.Mutex
	built = map[string]string{}
	dir   string
)

// Root returns the repository root: the directory of the go.mod that declares the host
// module, github.com/pal-mcp/pal, found from the current module upwards, so that tests of the
// nested modules (tools-wasm, tools-wasm/sdk/go) find it too.
func Root(t testing.TB) string {
	t.Helper()
	top, err := root()
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// hostModule is the module path of the repository root's go.mod.
const hostModule = "github.com/pal-mcp/pal"

func root() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the pal module")
	}
	for dir := filepath.Dir(mod); ; {
		if modulePath(filepath.Join(dir, "go.mod")) == hostModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above %s", hostModule, mod)
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod file declares, or "" when there is none.
func modulePath(gomod string) string {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// moduleDir returns the directory of the module that holds the package directory pkg (a path
// relative to top): the nearest one above it with a go.mod. tools-wasm and tools-wasm/sdk/go
// are modules of their own, so their packages build from there, not from top.
func moduleDir(top, pkg string) (dir, rel string) {
	for d := pkg; d != "." && d != "/" && d != ""; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(top, d, "go.mod")); err == nil {
			r, _ := filepath.Rel(d, pkg)
			return filepath.Join(top, d), r
		}
	}
	return top, pkg
}

// buildModule compiles ./pkg under top as a wasip1 reactor into out, from the module that
// holds it.
func buildModule(top, pkg, out string) error {
	dir, rel := moduleDir(top, pkg)
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./"+filepath.ToSlash(rel))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s for wasip1: %v\n%s", pkg, err, b)
	}
	return nil
}

// Build compiles the package at pkg (a path relative to the repository root, such as
// "tools-wasm/testdata/hostile") as a wasip1 reactor into a temporary directory and returns
// the .wasm path. Each package is built once per test binary.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	if top := os.Getenv(ShippedEnv); top != "" && pkg == "tools-wasm/builtin" {
		return filepath.Join(top, builtinModule)
	}
	d, err := tempDir()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(d, strings.ReplaceAll(pkg, "/", "_")+".wasm")
	if err := buildModule(Root(t), pkg, out); err != nil {
		t.Fatal(err)
	}
	built[pkg] = out
	return out
}

// tempDir returns the directory of what this test binary builds, made on first use; mu is
// held. Cleanup removes it.
func tempDir() (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "pal-testwasm-")
		if err != nil {
			return "", err
		}
		dir = d
	}
	return dir, nil
}

// Cleanup removes the built modules. Call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir, built, kitProxy = "", map[string]string{}, ""
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

// WriteOverlay writes dir/overlay.json, a file for go build's -overlay that builds each file
// named by a key of replace from the file its value names, and returns its path.
func WriteOverlay(dir string, replace map[string]string) (string, error) {
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": replace})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, overlay, 0o600)
}

// BuildPal builds the built-in module and then the pal binary into dir (both with -trimpath,
// the binary with Tags and the module embedded through -overlay) and returns the binary's path. The source tree is not
// written. When CoverDirEnv is set the binary is a coverage build (see Env); when ShippedEnv is
// set, BuildPal builds nothing and returns the shipped binary. It is for TestMain
// functions, which have no testing.T.
func BuildPal(dir string) (string, error) {
	if top := os.Getenv(ShippedEnv); top != "" {
		return filepath.Join(top, "bin", "pal"), nil
	}
	top, err := root()
	if err != nil {
		return "", err
	}
	wasm := filepath.Join(dir, "builtin.wasm")
	if err := buildModule(top, "tools-wasm/builtin", wasm); err != nil {
		return "", err
	}
	overlayFile, err := WriteOverlay(dir, map[string]string{filepath.Join(top, builtinModule): wasm})
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pal")
	args := []string{"build", "-trimpath", "-tags", Tags, "-overlay", overlayFile, "-o", bin}
	if os.Getenv(CoverDirEnv) != "" {
		args = append(args, "-cover", "-coverpkg=./...")
	}
	host := exec.Command("go", append(args, "./cmd/pal")...)
	host.Dir = top
	if b, err := host.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building pal: %v\n%s", err, b)
	}
	return bin, nil
}

// Env returns the variables a test adds to the environment of a binary BuildPal made:
// GOCOVERDIR when CoverDirEnv is set, so a coverage build writes its counters there, and
// nothing otherwise.
func Env() []string {
	if d := os.Getenv(CoverDirEnv); d != "" {
		return []string{"GOCOVERDIR=" + d}
	}
	return nil
}
