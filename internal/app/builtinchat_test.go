package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/builtinwasm"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/test/bench/sample"
)

// chatApp builds an App from opts, warms it and checks that it answers a chat call.
func chatApp(t *testing.T, opts Options) *App {
	t.Helper()
	a, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	a.Warm(context.Background())
	if out := handle(t, a, chatCall); !strings.Contains(out, "continuation_available") {
		a.Close()
		t.Fatalf("chat: %.500s", out)
	}
	return a
}

// chatOptions is userModulesSetup's options with a loopback provider as the default model's,
// and the compile cache directory its pal.toml names.
func chatOptions(t *testing.T) (Options, string) {
	t.Helper()
	provider := sample.NewProvider(t)
	opts, mods, _, _ := userModulesSetup(t, nil)
	getenv := opts.Getenv
	opts.Getenv = func(k string) string {
		switch k {
		case "OPENAI_BASE_URL":
			return provider.BaseURL()
		case "DEFAULT_MODEL":
			return sample.ChatModel
		}
		return getenv(k)
	}
	opts.LogOutput = io.Discard
	return opts, filepath.Join(filepath.Dir(mods), "cache")
}

const chatCall = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"Is this fine?"}}}`

// Attack: every file the compile cache holds for the chat module (wazero's compiled code, the
// rewritten module, the snapshot) is replaced by a planter. The next pal refuses them all (the
// index and the files' MACs do not vouch for them), compiles chat again from the bytes it
// embeds, whose recorded hash the compile checks, and answers the call; the planted files are
// gone or rewritten.
func TestBuiltinChatRefusesATamperedCache(t *testing.T) {
	opts, cache := chatOptions(t)
	chatApp(t, opts).Close()

	_, hash, _, _ := builtinwasm.Chat()
	planted := []byte("\x00asm\x01\x00\x00\x00 planted")
	var files []string
	for _, pattern := range []string{"compiled/*/*", "rewritten/" + hash + "*", "snapshots/" + hash + "*"} {
		m, _ := filepath.Glob(filepath.Join(cache, pattern))
		files = append(files, m...)
	}
	var rewritten bool
	for _, f := range files {
		rewritten = rewritten || strings.Contains(f, "rewritten")
		if err := os.WriteFile(f, planted, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 2 || !rewritten {
		t.Fatalf("the cache held %v for the chat module; want its compiled code and its rewritten module", files)
	}

	chatApp(t, opts).Close() // answers the call
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Equal(b, planted) {
			t.Errorf("%s still holds the planted bytes", f)
		}
	}
}

// Attack: other bytes given under the chat module's recorded hash (a stale or altered
// embedded module) are refused by the compile, with an empty cache, before anything is made
// from them, and the call fails; nothing of them runs.
func TestBuiltinChatBytesAreCheckedAgainstTheRecordedHash(t *testing.T) {
	wasm, hash, man, ok := builtinwasm.Chat()
	if !ok {
		t.Fatal("chat.manifest is malformed")
	}
	other := bytes.Clone(wasm)
	other[len(other)-1] ^= 0xff
	e, err := runtime.New(context.Background(), runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	a := &App{Engine: e} // an engine with no compile cache: the compile must read the bytes
	m, err := a.loadChatFrom(context.Background(), other, hash, man, true)
	if err != nil {
		t.Fatalf("load: %v (the bytes are read by the compile)", err)
	}
	if m.SHA256() != hash || m.Manifest().Tools[0].Name != "chat" {
		t.Fatalf("loaded as %s with %v", m.SHA256(), m.Manifest().Tools)
	}
	if err := m.Compile(context.Background()); !errors.Is(err, runtime.ErrBadModule) || !strings.Contains(err.Error(), "build recorded "+hash) {
		t.Fatalf("compile of other bytes under chat's recorded hash: %v; want ErrBadModule", err)
	}
}
