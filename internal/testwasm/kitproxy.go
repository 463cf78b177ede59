package testwasm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// KitModule is the module path of the Go kit, the one module a third-party Go tool requires
// (docs/authoring.md). Its packages are KitModule+"/pal", "/pal/paltest", "/pal/workflow" ...
const KitModule = "github.com/pal-mcp/pal/tools-wasm/sdk/go"

// KitVersion is the version KitProxy serves the working tree's kit as. The kit's major
// version is the ABI's (docs/abi.md, ABI 1); releases are tagged tools-wasm/sdk/go/v1.MINOR.PATCH.
const KitVersion = "v1.0.0"

var kitProxy string // file:// URL, built once per test binary

// KitProxy returns a GOPROXY URL (file://…) of a module proxy, built once per test binary
// in a temporary directory, that serves exactly one module: the Go kit of this working tree
// (tools-wasm/sdk/go, uncommitted edits included) as KitModule at KitVersion, zipped with
// golang.org/x/mod/zip as the go command zips a module. It proves "go get and nothing else"
// offline: in a fresh directory outside the repository,
//
//	go mod init example.com/mytool
//	go get github.com/pal-mcp/pal/tools-wasm/sdk/go@v1.0.0
//
// with the environment of KitEnv, then build with docs/authoring.md's command. The kit
// requires no other module, so the proxy needs nothing else. Call Cleanup from TestMain to
// remove the directory; a test that does not still works, leaving it in the temp dir.
func KitProxy(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if kitProxy != "" {
		return kitProxy
	}
	top := Root(t)
	d, err := tempDir()
	if err != nil {
		t.Fatal(err)
	}
	url, err := buildKitProxy(filepath.Join(top, "tools-wasm", "sdk", "go"), filepath.Join(d, "kitproxy"))
	if err != nil {
		t.Fatal(err)
	}
	kitProxy = url
	return url
}

// KitEnv returns os.Environ() with what a go command run in a third party's fresh module
// needs to fetch the kit from KitProxy and nothing else: GOPROXY=KitProxy(t), GOSUMDB=off
// (the checksum database does not know this build of the kit), GOWORK=off, GOFLAGS=-modcacherw,
// and GOMODCACHE in a new t.TempDir() so that no earlier build of v1.0.0 is taken from the
// shared module cache. GOTOOLCHAIN=local keeps the Go version the one that runs the test.
func KitEnv(t testing.TB) []string {
	t.Helper()
	proxy := KitProxy(t)
	return append(os.Environ(), "GOPROXY="+proxy, "GOSUMDB=off", "GOWORK=off", "GOFLAGS=-modcacherw",
		"GOMODCACHE="+t.TempDir(), "GOTOOLCHAIN=local")
}

// buildKitProxy writes the proxy layout of docs "GOPROXY protocol" under dir for the kit
// at kitDir: <escaped module>/@v/{list,VERSION.info,VERSION.mod,VERSION.zip}.
func buildKitProxy(kitDir, dir string) (string, error) {
	mv := module.Version{Path: KitModule, Version: KitVersion}
	esc, err := module.EscapePath(mv.Path)
	if err != nil {
		return "", err
	}
	at := filepath.Join(dir, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(kitDir, "go.mod"))
	if err != nil {
		return "", err
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromDir(&zip, mv, kitDir); err != nil {
		return "", fmt.Errorf("zipping the kit: %w", err)
	}
	files := map[string][]byte{
		"list":               []byte(KitVersion + "\n"),
		KitVersion + ".info": fmt.Appendf(nil, `{"Version":%q,"Time":"2026-01-01T00:00:00Z"}`, KitVersion),
		KitVersion + ".mod":  gomod,
		KitVersion + ".zip":  zip.Bytes(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return "file://" + filepath.ToSlash(dir), nil
}
