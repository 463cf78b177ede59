package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pal-mcp/pal/internal/privfs"
)

func TestCacheKey(t *testing.T) {
	base := t.TempDir()
	state := filepath.Join(base, "state")
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

	key, err := cacheKey(filepath.Join(base, "cache"), env(map[string]string{"XDG_STATE_HOME": state}))
	if err != nil || len(key) != privfs.KeySize {
		t.Fatalf("key %x, %v", key, err)
	}
	onDisk, err := os.ReadFile(filepath.Join(state, "pal", "cache.key"))
	if err != nil || !bytes.Equal(onDisk, key) {
		t.Fatalf("key file %x, %v", onDisk, err)
	}
	again, _ := cacheKey(filepath.Join(base, "cache"), env(map[string]string{"HOME": filepath.Join(base, "home"), "XDG_STATE_HOME": state}))
	if !bytes.Equal(again, key) {
		t.Fatal("a second start made a new key")
	}
	home, err := cacheKey(filepath.Join(base, "cache"), env(map[string]string{"HOME": filepath.Join(base, "home")}))
	if err != nil || len(home) != privfs.KeySize {
		t.Fatalf("key under HOME: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "home", ".local", "state", "pal", "cache.key")); err != nil {
		t.Fatal(err)
	}

	if key, err := cacheKey("", env(nil)); key != nil || err != nil {
		t.Errorf("no cache dir: %x, %v", key, err)
	}
	if key, err := cacheKey(filepath.Join(base, "cache"), env(nil)); key != nil || err != nil {
		t.Errorf("no state dir: %x, %v", key, err)
	}
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	if _, err := cacheKey(filepath.Join(base, "cache"), env(map[string]string{"XDG_STATE_HOME": open})); !errors.Is(err, privfs.ErrWritableByOthers) {
		t.Errorf("state dir under a world-writable dir: %v", err)
	}
}
