package builtinwasm

import (
	"bytes"
	"errors"
	"testing"
)

func TestCommittedIsAModule(t *testing.T) {
	b, err := Committed()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("the committed module does not start with the wasm magic: %q", b[:min(len(b), 8)])
	}
	if len(committed) > 1<<20 {
		t.Errorf("builtin.wasm.xz is %d bytes, over the 1 MiB limit for a committed file", len(committed))
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not xz"), committed[:len(committed)/2]} {
		if _, err := decode(in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode of %d bytes: %v, want ErrCorrupt", len(in), err)
		}
	}
}
