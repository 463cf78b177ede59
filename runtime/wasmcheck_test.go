package runtime

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// hdr is a module header; sec appends a section.
const hdr = "\x00asm\x01\x00\x00\x00"

func sec(id byte, content string) string { return string([]byte{id, byte(len(content))}) + content }

// TestCheckSections: modules whose declared counts exceed their bytes are refused before any
// decoder allocates for them; real modules pass.
func TestCheckSections(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm string
		ok   bool
	}{
		{"empty module", hdr, true},
		{"a billion tables in 26 bytes (found by FuzzAddInterrupt)", hdr + "\x04\x04\xff\xff\xff\x80\x05\x03000\a\x05\x01\x01000", false},
		{"no header", "\x00asx\x01\x00\x00\x00", false},
		{"short", "\x00as", false},
		{"section size past the end", hdr + "\x01\x10\x01", false},
		{"table count over its bytes", hdr + sec(4, "\x05\x70\x00"), false},
		{"import count over its bytes", hdr + sec(2, "\xff\xff\x03"), false},
		{"one table", hdr + sec(4, "\x01\x70\x00\x01"), true},
		{"function type with a million parameters", hdr + sec(1, "\x01\x60\xc0\x84\x3d\x7f"), false},
		{"function type () -> i32", hdr + sec(1, "\x01\x60\x00\x01\x7f"), true},
		{"a function declaring 2^32-1 locals", hdr + sec(1, "\x01\x60\x00\x00") + sec(3, "\x01\x00") + sec(10, "\x01\x08\x01\xff\xff\xff\xff\x0f\x7f\x0b"), false},
		{"a function with one local", hdr + sec(1, "\x01\x60\x00\x00") + sec(3, "\x01\x00") + sec(10, "\x01\x04\x01\x01\x7f\x0b"), true},
		{"custom section is not checked", hdr + sec(0, "\x01n\xff\xff\xff\xff"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSections([]byte(tc.wasm))
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrModuleShape)) {
				t.Fatalf("CheckSections = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok { // what passes, wazero decodes without surprise
				rt := wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter())
				defer rt.Close(context.Background())
				if _, err := rt.CompileModule(context.Background(), []byte(tc.wasm)); err != nil {
					t.Fatalf("a module CheckSections passes does not compile: %v", err)
				}
			}
		})
	}
	for _, pkg := range []string{"tools-wasm/builtin", "tools-wasm/testdata/hostile"} {
		if err := CheckSections(testwasm.Load(t, pkg)); err != nil {
			t.Errorf("%s: %v", pkg, err)
		}
	}
}

// TestHostileSectionsRefused: the 26-byte module that made wazero allocate a billion tables is
// refused by Imports (pal tool check) and by the loader, with ErrBadModule, and the process
// goes on.
func TestHostileSectionsRefused(t *testing.T) {
	b, err := os.ReadFile("testdata/fuzz/FuzzAddInterrupt/a2b62c484ecd685e")
	if err != nil {
		t.Fatal(err)
	}
	// The corpus file: "go test fuzz v1" and the module as a []byte("...") literal.
	_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	quoted, ok := strings.CutPrefix(lit, "[]byte(")
	s, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
	if !ok || err != nil {
		t.Fatalf("cannot read the corpus file: %q", b)
	}
	wasm := []byte(s)
	if _, err := Imports(context.Background(), wasm); !errors.Is(err, ErrBadModule) || !errors.Is(err, ErrModuleShape) {
		t.Fatalf("Imports: %v", err)
	}
	e := newEngine(t, Config{})
	if _, err := e.LoadModule(context.Background(), "oom", wasm, ""); !errors.Is(err, ErrBadModule) {
		t.Fatalf("LoadModule: %v", err)
	}
	mustPing(t, loadHostile(t, e))
}

// FuzzCheckSections: whatever CheckSections accepts, wazero's decoder takes without running
// out of memory (it may refuse it), and CheckSections never panics.
func FuzzCheckSections(f *testing.F) {
	f.Add([]byte(hdr))
	f.Add([]byte(hdr + sec(4, "\x01\x70\x00\x01")))
	f.Add([]byte(hdr + sec(1, "\x01\x60\x00\x01\x7f")))
	f.Add([]byte(hdr + sec(1, "\x01\x60\x00\x00") + sec(3, "\x01\x00") + sec(10, "\x01\x04\x01\x01\x7f\x0b")))
	f.Add([]byte(hdr + "\x04\x04\xff\xff\xff\x80\x05\x03000\a\x05\x01\x01000"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if len(wasm) > 1<<16 || CheckSections(wasm) != nil {
			return
		}
		rt := wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter())
		defer rt.Close(context.Background())
		_, _ = rt.CompileModule(context.Background(), wasm)
	})
}
