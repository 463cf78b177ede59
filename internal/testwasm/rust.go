package testwasm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Rust toolchain: Debian's rustc and cargo, by full path (a rustup shim without the wasm32
// target may come first in PATH). `make rust-toolchain` installs them; the Makefile builds
// the same way (out/wasm/rust.wasm).
const (
	rustc   = "/usr/bin/rustc"
	cargo   = "/usr/bin/cargo"
	rustdoc = "/usr/bin/rustdoc"
)

// cargoConfig is the private CARGO_HOME's config.toml: offline, crates.io replaced by Debian's
// packaged crates.
const cargoConfig = "[net]\noffline = true\n\n[source.crates-io]\nreplace-with = \"debian\"\n\n[source.debian]\ndirectory = \"/usr/share/cargo/registry\"\n"

// BuildRust builds the Rust crate at project (relative to the repository root; a member of
// the workspace tools-wasm/Cargo.toml with a cdylib target, such as tools-wasm/examples/rust)
// for wasm32-unknown-unknown into a temporary directory and returns the .wasm path. With
// PAL_TEST_SHIPPED set it returns what `make examples` built (out/wasm/<base>.wasm) when that
// exists. cargo runs offline with a private CARGO_HOME and --locked, so it writes nothing
// into the source tree. Each project is built once per test binary.
func BuildRust(t testing.TB, project string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "cargo:" + project
	if p, ok := built[key]; ok {
		return p
	}
	if top := os.Getenv(ShippedEnv); top != "" {
		if p, ok := shippedExample(top, project); ok {
			return p
		}
	}
	if err := ensureTempDir(); err != nil {
		t.Fatal(err)
	}
	out, err := buildRust(filepath.Join(Root(t), project), filepath.Join(dir, "cargo"))
	if err != nil {
		t.Fatal(err)
	}
	built[key] = out
	return out
}

// LoadRust builds project with BuildRust and returns the module's bytes.
func LoadRust(t testing.TB, project string) []byte {
	t.Helper()
	b, err := os.ReadFile(BuildRust(t, project))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var packageName = regexp.MustCompile(`(?m)^name\s*=\s*"([A-Za-z0-9_-]+)"`)

// buildRust builds the crate in src with its own CARGO_HOME and target directory under work.
func buildRust(src, work string) (string, error) {
	for _, p := range []string{rustc, cargo} {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("building %s needs Debian's rustc, cargo and libstd-rust-dev-wasm32 (run `make rust-toolchain`): %v", src, err)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(src, "Cargo.toml"))
	if err != nil {
		return "", err
	}
	m := packageName.FindSubmatch(manifest)
	if m == nil {
		return "", fmt.Errorf("%s/Cargo.toml names no package", src)
	}
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cargoConfig), 0o600); err != nil {
		return "", err
	}
	target := filepath.Join(work, "target")
	cmd := exec.Command(cargo, "build", "--offline", "--locked", "--release", "--target", "wasm32-unknown-unknown")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CARGO_HOME="+home, "CARGO_TARGET_DIR="+target, "RUSTC="+rustc, "RUSTDOC="+rustdoc)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cargo build in %s: %v\n%s", src, err, b)
	}
	return filepath.Join(target, "wasm32-unknown-unknown", "release", strings.ReplaceAll(string(m[1]), "-", "_")+".wasm"), nil
}
