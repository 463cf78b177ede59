package abi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSplit: the host splits every request a guest sends; whatever the bytes, Split never
// panics, a header it returns is a JSON object that precedes the first NUL, and Join puts the
// message back together.
func FuzzSplit(f *testing.F) {
	f.Add([]byte(`{"op":"fs.read","path":"/x"}`))
	f.Add([]byte("{\"op\":\"model.generate\"}\x00prompt\x00with NULs"))
	f.Add([]byte("{}\x00"))
	f.Add([]byte("\x00{}"))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(" {\"a\":\"\\u0000\"} "))
	f.Fuzz(func(t *testing.T, msg []byte) {
		header, body, err := Split(msg)
		if err != nil {
			return
		}
		if bytes.IndexByte(header, 0) >= 0 || !json.Valid(header) {
			t.Fatalf("header %q holds a NUL or is not JSON", header)
		}
		var obj map[string]any
		if json.Unmarshal(header, &obj) != nil {
			t.Fatalf("header %q is not a JSON object", header)
		}
		if got := Join(header, body); !bytes.Equal(got, msg) {
			t.Fatalf("Join(Split(%q)) = %q", msg, got)
		}
	})
}

// FuzzPackUnpack: a pointer and length survive the i64 the ABI returns.
func FuzzPackUnpack(f *testing.F) {
	f.Add(uint32(0), uint32(0))
	f.Add(^uint32(0), ^uint32(0))
	f.Fuzz(func(t *testing.T, p, n uint32) {
		if gp, gn := Unpack(Pack(p, n)); gp != p || gn != n {
			t.Fatalf("Unpack(Pack(%d, %d)) = %d, %d", p, n, gp, gn)
		}
	})
}
