//go:build !wasip1

package pal

import (
	"errors"
	"testing"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// recordingHost keeps the last request and answers every op with a fixed reply.
type recordingHost struct {
	last  []byte
	reply []byte
}

func (h *recordingHost) Call(req []byte) []byte { h.last = append([]byte{}, req...); return h.reply }
func (h *recordingHost) Log(int, string)        {}

// TestOpRequestsOnTheWire pins the exact request each op function sends: optional fields
// left out when empty, the prompt as the body, turns never null.
func TestOpRequestsOnTheWire(t *testing.T) {
	temp := 0.25
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"fs.read, policy cap", func() error { _, _, err := ReadFile("/a", 0); return err }, `{"op":"fs.read","path":"/a"}`},
		{"fs.read, max_bytes", func() error { _, _, err := ReadFile("/a", 9); return err }, `{"op":"fs.read","path":"/a","max_bytes":9}`},
		{"fs.list, defaults", func() error { _, err := ListDir("/d", 0, 0); return err }, `{"op":"fs.list","path":"/d"}`},
		{"fs.list", func() error { _, err := ListDir("/d", 2, 5); return err }, `{"op":"fs.list","path":"/d","max_depth":2,"max_entries":5}`},
		{"model.resolve", func() error { _, err := ResolveModel("", ""); return err }, `{"op":"model.resolve","model":""}`},
		{"model.generate, minimal", func() error { _, err := Generate(GenerateRequest{Prompt: "p"}); return err }, "{\"op\":\"model.generate\"}\x00p"},
		{"model.generate", func() error {
			_, err := Generate(GenerateRequest{Model: "flash", Category: "fast", System: "s", Prompt: "p", Temperature: &temp, ThinkingMode: "low", Images: []string{"/i.png"}})
			return err
		}, "{\"op\":\"model.generate\",\"model\":\"flash\",\"category\":\"fast\",\"system\":\"s\",\"temperature\":0.25,\"thinking_mode\":\"low\",\"images\":[\"/i.png\"]}\x00p"},
		{"model.list", func() error { _, err := ListModels(); return err }, `{"op":"model.list"}`},
		{"thread.create", func() error { _, err := ThreadCreate("chat", nil); return err }, `{"op":"thread.create","tool":"chat"}`},
		{"thread.read", func() error { _, err := ThreadRead("u"); return err }, `{"op":"thread.read","id":"u"}`},
		{"thread.append, no turns", func() error { _, err := ThreadAppend("u"); return err }, `{"op":"thread.append","id":"u","turns":[]}`},
		{"thread.append", func() error {
			_, err := ThreadAppend("u", Turn{Role: "user", Content: "q"}, Turn{Role: "assistant", Content: "a", Timestamp: stamp, Model: "m"})
			return err
		}, `{"op":"thread.append","id":"u","turns":[{"role":"user","content":"q"},{"role":"assistant","content":"a","timestamp":"2026-01-02T03:04:05Z","model":"m"}]}`},
		{"progress", func() error { return Progress(1, 0, "") }, `{"op":"progress","progress":1}`},
		{"host.info", func() error { _, err := HostInfo(); return err }, `{"op":"host.info"}`},
	}
	h := &recordingHost{reply: []byte(`{"result":{"id":"u"}}`)}
	SetHost(h)
	t.Cleanup(func() { SetHost(nil) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			if string(h.last) != tt.want {
				t.Fatalf("sent %q\nwant %q", h.last, tt.want)
			}
		})
	}
}

// TestOpResultsDecodeTimes checks that RFC 3339 times in results arrive as time.Time and that
// a time the guest cannot read is a bad reply, not a silent zero.
func TestOpResultsDecodeTimes(t *testing.T) {
	h := &recordingHost{}
	SetHost(h)
	t.Cleanup(func() { SetHost(nil) })
	h.reply = abi.OK(map[string]any{"id": "u", "created": "2026-01-02T03:04:05Z", "updated": "2026-01-02T03:04:06.5Z",
		"turns": []map[string]any{{"role": "user", "content": "q", "timestamp": "2026-01-02T03:04:05Z"}}}, nil)
	th, err := ThreadRead("u")
	if err != nil || th.Updated.Sub(th.Created) != 1500*time.Millisecond || len(th.Turns) != 1 || th.Turns[0].Timestamp.IsZero() {
		t.Fatalf("thread %+v, %v", th, err)
	}
	h.reply = abi.OK(map[string]any{"path": "/a", "size": 1, "modified": "yesterday"}, []byte("x"))
	if _, _, err := ReadFile("/a", 0); !errors.Is(err, ErrBadReply) {
		t.Fatalf("an unreadable modified time gave %v, want ErrBadReply", err)
	}
}
