package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkReadFileDirect(b *testing.B) {
	fx := newFixture(b)
	path := fx.root + "/sub/b.go"
	for b.Loop() {
		if _, _, err := fx.paths.ReadFile(path, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFileSymlinkChain(b *testing.B) {
	fx := newFixture(b)
	path := fx.root + "/chain1"
	for b.Loop() {
		if _, _, err := fx.paths.ReadFile(path, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDenied(b *testing.B) {
	fx := newFixture(b)
	path := fx.root + "/.ssh/config"
	for b.Loop() {
		if _, _, err := fx.paths.ReadFile(path, 0); err == nil {
			b.Fatal("not denied")
		}
	}
}

// BenchmarkList1000 lists a tree of 1,000 files in 10 directories.
func BenchmarkList1000(b *testing.B) {
	root, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for d := range 10 {
		dir := filepath.Join(root, "d"+string(rune('0'+d)))
		os.MkdirAll(dir, 0o755)
		for f := range 100 {
			os.WriteFile(filepath.Join(dir, "f"+string(rune('a'+f%26))+string(rune('a'+f/26))+".go"), nil, 0o644)
		}
	}
	p, err := NewPaths([]string{root}, DefaultDeny, Caps{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for b.Loop() {
		entries, _, err := p.List(root, ListOptions{})
		if err != nil || len(entries) != 1010 {
			b.Fatal(len(entries), err)
		}
	}
}

// BenchmarkRedactorString: a 4 KiB log line without secrets, and one with two, against eight
// configured keys.
func BenchmarkRedactorString(b *testing.B) {
	r := NewRedactor("sk-proj-AAAAAAAAAAAAAAAA", "AIzaSyBBBBBBBBBBBBBBBBBB", "xai-CCCCCCCCCCCCCCCCCCCC", "sk-or-v1-DDDDDDDDDDDDDDDD",
		"sk-ant-EEEEEEEEEEEEEEEE", "dial-FFFFFFFFFFFFFFFFFFFF", "az-GGGGGGGGGGGGGGGGGGGG", "custom-HHHHHHHHHHHHHHHH")
	clean := strings.Repeat("request to https://api.example.com/v1/chat/completions failed: status 500. ", 55)
	dirty := clean[:1000] + "sk-proj-AAAAAAAAAAAAAAAA" + clean[1000:3000] + "AIzaSyBBBBBBBBBBBBBBBBBB"
	b.Run("clean", func(b *testing.B) {
		for b.Loop() {
			_ = r.String(clean)
		}
	})
	b.Run("two secrets", func(b *testing.B) {
		for b.Loop() {
			_ = r.String(dirty)
		}
	})
}
