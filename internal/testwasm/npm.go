package testwasm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildAS builds the AssemblyScript project directory (relative to the repository root; a
// package.json with a committed package-lock.json and an asconfig.json with a "release"
// target, such as tools-wasm/examples/assemblyscript) into a temporary directory and returns
// the .wasm path. It runs `npm ci` first when its node_modules is missing or older than
// its package-lock.json, as `make examples` does; node_modules is the only thing it writes
// into the source tree (it is gitignored). npm and node must be installed (node 20); the
// registry is only reached when node_modules must be installed. Each project is built once per
// test binary, and concurrent test binaries take turns through a lock file.
func BuildAS(t testing.TB, project string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "npm:" + project
	if p, ok := built[key]; ok {
		return p
	}
	if top := os.Getenv(ShippedEnv); top != "" {
		if p, ok := shippedExample(top, project); ok {
			return p
		}
	}
	if project == "" {
		t.Fatal("testwasm.BuildAS: no directory")
	}
	if err := ensureTempDir(); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(Root(t), project)
	out := filepath.Join(dir, strings.ReplaceAll(project, "/", "_")+".wasm")
	if err := buildAS(src, out); err != nil {
		t.Fatal(err)
	}
	built[key] = out
	return out
}

// LoadAS builds project with BuildAS and returns the module's bytes.
func LoadAS(t testing.TB, project string) []byte {
	t.Helper()
	b, err := os.ReadFile(BuildAS(t, project))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shippedExample is where `make examples` put project's module: DIR/out/wasm/<base>.wasm.
func shippedExample(top, project string) (string, bool) {
	p := filepath.Join(top, "out", "wasm", filepath.Base(project)+".wasm")
	_, err := os.Stat(p)
	return p, err == nil
}

func buildAS(src, out string) error {
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("building %s needs node 20 and npm in PATH: %v", src, err)
	}
	unlock, err := lockFile(filepath.Join(src, ".npm-install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if stale(filepath.Join(src, "node_modules", ".package-lock.json"), filepath.Join(src, "package-lock.json")) {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = src
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm ci in %s: %v\n%s", src, err, b)
		}
	}
	cmd := exec.Command("node", "node_modules/assemblyscript/bin/asc.js", "assembly/index.ts",
		"--config", "asconfig.json", "--target", "release", "--outFile", out)
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("asc in %s: %v\n%s", src, err, b)
	}
	return nil
}

// stale reports whether target is missing or older than source.
func stale(target, source string) bool {
	ti, err := os.Stat(target)
	if err != nil {
		return true
	}
	si, err := os.Stat(source)
	return err == nil && si.ModTime().After(ti.ModTime())
}

func ensureTempDir() error {
	if dir != "" {
		return nil
	}
	d, err := os.MkdirTemp("", "pal-testwasm-")
	if err != nil {
		return err
	}
	dir = d
	return nil
}
