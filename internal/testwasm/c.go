package testwasm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildC builds the C tool directory project (relative to the repository root; a Makefile
// that includes the C kit's pal.mk, such as tools-wasm/examples/c) into a temporary
// directory with `make wasm OUT=…`, the rule `make examples` uses, and returns the .wasm
// path. Nothing is written into the source tree. make and clang-14 with wasi-libc must be
// installed (pal.mk installs the Debian packages when they are missing, as `make examples`
// does). With ShippedEnv set it returns what `make examples` built. Each project is built
// once per test binary.
func BuildC(t testing.TB, project string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "c:" + project
	if p, ok := built[key]; ok {
		return p
	}
	if top := os.Getenv(ShippedEnv); top != "" {
		if p, ok := shippedExample(top, project); ok {
			return p
		}
	}
	if project == "" {
		t.Fatal("testwasm.BuildC: no directory")
	}
	if err := ensureTempDir(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, strings.ReplaceAll(project, "/", "_")+".wasm")
	if err := buildC(filepath.Join(Root(t), project), out); err != nil {
		t.Fatal(err)
	}
	built[key] = out
	return out
}

// LoadC builds project with BuildC and returns the module's bytes.
func LoadC(t testing.TB, project string) []byte {
	t.Helper()
	b, err := os.ReadFile(BuildC(t, project))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func buildC(src, out string) error {
	if _, err := exec.LookPath("make"); err != nil {
		return fmt.Errorf("building %s needs make in PATH: %v", src, err)
	}
	cmd := exec.Command("make", "-s", "--no-print-directory", "-C", src, "wasm", "OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make wasm in %s: %v\n%s", src, err, b)
	}
	return nil
}
