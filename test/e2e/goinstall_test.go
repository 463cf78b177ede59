package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/builtinwasm"
)

// TestGoInstall: `go install ./cmd/pal` in a copy of the repository's tracked files, with no
// make and so no modules/builtin.wasm, gives a binary that serves the built-in tools from the
// committed builtin.wasm.xz (what `go install github.com/pal-mcp/pal/cmd/pal@VERSION` does),
// which it decodes when the Go module first compiles.
func TestGoInstall(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	list, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	src := filepath.Join(t.TempDir(), "pal")
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(src, "internal", "builtinwasm", "modules", "builtin.wasm")); err == nil {
		t.Fatal("modules/builtin.wasm is tracked; it must come from make only")
	}
	gobin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/pal")
	install.Dir = src
	install.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/pal: %v\n%s", err, out)
	}
	bin := filepath.Join(gobin, "pal")

	// The committed module is what its source builds, from another directory too.
	wasm := filepath.Join(t.TempDir(), "builtin.wasm")
	// tools-wasm is a module of its own (docs/RATIONALE.md, "The Go kit is its own module").
	guest := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", wasm, "./builtin")
	guest.Dir = filepath.Join(src, "tools-wasm")
	guest.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := guest.CombinedOutput(); err != nil {
		t.Fatalf("building the guest: %v\n%s", err, out)
	}
	built, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := builtinwasm.Committed()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatalf("internal/builtinwasm/builtin.wasm.xz (%d bytes decoded) is not what the source builds (%d bytes): run `make builtin-xz`", len(committed), len(built))
	}

	var stdout bytes.Buffer
	version := exec.Command(bin, "--version")
	version.Stdout = &stdout
	if err := version.Run(); err != nil || !strings.HasPrefix(stdout.String(), "pal ") {
		t.Fatalf("pal --version: %v %q", err, stdout.String())
	}

	w := newWorkspace(t)
	p := newProvider(t)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = w.root
	cmd.Env = serverEnv(w, p)
	cs, stderr := connectCmd(t, cmd, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v\n%s", err, stderr.String())
	}
	if len(tools.Tools) < 10 {
		t.Fatalf("the go-installed binary lists %d tools\n%s", len(tools.Tools), stderr.String())
	}
	if res, text := callTool(t, cs, "chat", map[string]any{"prompt": "hello from go install"}); res.IsError || !strings.Contains(text, "loopback model") {
		t.Fatalf("chat through the go-installed binary: %s\n%s", text, stderr.String())
	}
	// A tool of the Go module: this binary decodes the committed module only now, for the
	// compile, and checks it against the committed manifest's hash (runtime.ReadBytes).
	if res, text := callTool(t, cs, "version", map[string]any{}); res.IsError || !strings.Contains(text, "pal") {
		t.Fatalf("version through the go-installed binary: %s\n%s", text, stderr.String())
	}
}
