package abi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestOpWireShapes pins every op struct to the JSON of docs/abi.md: what it encodes to,
// and that the same JSON decodes back strictly (no unknown field) to the same value.
func TestOpWireShapes(t *testing.T) {
	temp := 0.5
	stamp := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"fs.read request", FSReadRequest{Op: OpFSRead, Path: "/abs/file", MaxBytes: 1000}, `{"op":"fs.read","path":"/abs/file","max_bytes":1000}`},
		{"fs.read request, default cap", FSReadRequest{Op: OpFSRead, Path: "/abs/file"}, `{"op":"fs.read","path":"/abs/file"}`},
		{"fs.read result", FSReadResult{Path: "/abs/file", Size: 1234, Modified: stamp}, `{"path":"/abs/file","size":1234,"modified":"2026-11-26T10:00:00Z","truncated":false}`},
		{"fs.list request", FSListRequest{Op: OpFSList, Path: "/abs/dir", MaxDepth: 8, MaxEntries: 2000}, `{"op":"fs.list","path":"/abs/dir","max_depth":8,"max_entries":2000}`},
		{"fs.list request, defaults", FSListRequest{Op: OpFSList, Path: "/abs/dir"}, `{"op":"fs.list","path":"/abs/dir"}`},
		{"fs.list result", FSListResult{Path: "/abs/dir", Entries: []DirEntry{{Path: "/abs/dir/a.go", Kind: "file", Size: 10}}},
			`{"path":"/abs/dir","entries":[{"path":"/abs/dir/a.go","kind":"file","size":10}],"truncated":false}`},
		{"model.resolve request", ModelResolveRequest{Op: OpModelResolve, Model: "auto", Category: "fast"}, `{"op":"model.resolve","model":"auto","category":"fast"}`},
		{"model.resolve request, empty model", ModelResolveRequest{Op: OpModelResolve}, `{"op":"model.resolve","model":""}`},
		{"model.resolve result", ModelResolveResult{Model: "gemini-2.5-flash", Provider: "google", FriendlyName: "Flash", ContextWindow: 1048576,
			MaxOutputTokens: 65536, SupportsImages: true, MaxImageSizeMB: 20, SupportsTemperature: true, SupportsThinking: true},
			`{"model":"gemini-2.5-flash","provider":"google","friendly_name":"Flash","context_window":1048576,"max_output_tokens":65536,
			"supports_images":true,"max_image_size_mb":20,"supports_temperature":true,"supports_thinking":true,"allow_code_generation":false}`},
		{"model.generate request", ModelGenerateRequest{Op: OpModelGenerate, Model: "flash", Category: "fast", System: "s", Temperature: &temp,
			ThinkingMode: "medium", Images: []string{"/abs/a.png"}},
			`{"op":"model.generate","model":"flash","category":"fast","system":"s","temperature":0.5,"thinking_mode":"medium","images":["/abs/a.png"]}`},
		{"model.generate request, minimal", ModelGenerateRequest{Op: OpModelGenerate}, `{"op":"model.generate"}`},
		{"model.generate result", ModelGenerateResult{Content: "hi", Model: "m", Provider: "google", FinishReason: "stop",
			Usage: Usage{InputTokens: 10, OutputTokens: 20, TotalTokens: 30}},
			`{"content":"hi","model":"m","provider":"google","finish_reason":"stop","usage":{"input_tokens":10,"output_tokens":20,"total_tokens":30}}`},
		{"model.list request", ModelListRequest{Op: OpModelList}, `{"op":"model.list"}`},
		{"model.list result", ModelListResult{Mode: "auto", DefaultModel: "auto", Providers: []ProviderModels{
			{ID: "google", Name: "Google Gemini", Configured: true, Models: []ListedModel{{Name: "gemini-2.5-flash", Aliases: []string{"flash"},
				ContextWindow: 1048576, Score: 10, Rank: 72, Description: "d", SupportsThinking: true, SupportsImages: true}}},
			{ID: "xai", Name: "X.AI", Note: "no key", Restricted: true, AllowedModels: []string{"grok-4"}, Models: []ListedModel{}}}},
			`{"mode":"auto","default_model":"auto","providers":[
			{"id":"google","name":"Google Gemini","configured":true,"restricted":false,"models":[{"name":"gemini-2.5-flash","aliases":["flash"],
			"context_window":1048576,"max_output_tokens":0,"score":10,"rank":72,"description":"d","supports_thinking":true,"supports_images":true,"allow_code_generation":false}]},
			{"id":"xai","name":"X.AI","configured":false,"note":"no key","restricted":true,"allowed_models":["grok-4"],"models":[]}]}`},
		{"thread.create request", ThreadCreateRequest{Op: OpThreadCreate, Tool: "chat", InitialContext: map[string]any{"k": "v"}},
			`{"op":"thread.create","tool":"chat","initial_context":{"k":"v"}}`},
		{"thread.create request, no context", ThreadCreateRequest{Op: OpThreadCreate, Tool: "chat"}, `{"op":"thread.create","tool":"chat"}`},
		{"thread.create result", ThreadCreateResult{ID: "u"}, `{"id":"u"}`},
		{"thread.read request", ThreadReadRequest{Op: OpThreadRead, ID: "u"}, `{"op":"thread.read","id":"u"}`},
		{"thread.read result", ThreadReadResult{ID: "u", Tool: "chat", Created: stamp, Updated: stamp.Add(time.Second / 2), MaxTurns: 50,
			Turns: []Turn{{Role: "user", Content: "q", Timestamp: stamp, Files: []string{"/a"}, Tool: "chat"},
				{Role: "assistant", Content: "a", Timestamp: stamp, Model: "m", Provider: "google"}}},
			`{"id":"u","tool":"chat","created":"2026-11-26T10:00:00Z","updated":"2026-11-26T10:00:00.5Z","max_turns":50,"turns":[
			{"role":"user","content":"q","timestamp":"2026-11-26T10:00:00Z","files":["/a"],"tool":"chat"},
			{"role":"assistant","content":"a","timestamp":"2026-11-26T10:00:00Z","model":"m","provider":"google"}]}`},
		{"thread.append request", ThreadAppendRequest{Op: OpThreadAppend, ID: "u", Turns: []Turn{{Role: "user", Content: "q"}}},
			`{"op":"thread.append","id":"u","turns":[{"role":"user","content":"q"}]}`},
		{"thread.append result", ThreadAppendResult{Turns: 4, Remaining: 46}, `{"turns":4,"remaining":46}`},
		{"progress request", ProgressRequest{Op: OpProgress, Progress: 1, Total: 3, Message: "reading files"},
			`{"op":"progress","progress":1,"total":3,"message":"reading files"}`},
		{"progress request, unknown total", ProgressRequest{Op: OpProgress}, `{"op":"progress","progress":0}`},
		{"host.info request", HostInfoRequest{Op: OpHostInfo}, `{"op":"host.info"}`},
		{"host.info result", HostInfoResult{Name: "pal", Version: "0.1.0", ABI: 1, ModelSelection: "auto", DefaultModel: "auto",
			Providers: []string{"google"}, ModelsAvailable: 12, Client: Client{Name: "claude-code", Version: "2.0"},
			Platform: "linux/amd64", GoVersion: "go1.26.8", Limits: Limits{PromptChars: 60000, MaxTurns: 50, MaxFileBytes: 1000000},
			ContinuationTools: []string{"chat", "debug"}},
			`{"name":"pal","version":"0.1.0","abi":1,"model_selection":"auto","default_model":"auto","providers":["google"],"models_available":12,
			"client":{"name":"claude-code","version":"2.0"},"platform":"linux/amd64","go_version":"go1.26.8",
			"limits":{"prompt_chars":60000,"max_turns":50,"max_file_bytes":1000000,"locale":""},"continuation_tools":["chat","debug"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, []byte(tt.want)) {
				t.Fatalf("encodes to\n%s\nwant\n%s", got, tt.want)
			}
			back := reflect.New(reflect.TypeOf(tt.v))
			dec := json.NewDecoder(bytes.NewReader([]byte(tt.want)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(back.Interface()); err != nil {
				t.Fatalf("does not decode strictly: %v", err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), tt.v) {
				t.Fatalf("decodes to %+v, want %+v", back.Elem().Interface(), tt.v)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func TestOpCapabilityAndBody(t *testing.T) {
	ops := []string{OpFSRead, OpFSList, OpModelResolve, OpModelGenerate, OpModelList, OpThreadCreate, OpThreadRead, OpThreadAppend, OpProgress, OpHostInfo,
		OpGitStatus, OpGitDiff, OpGitLog, OpCLIList, OpCLIRun}
	known := map[string]bool{}
	for _, c := range KnownCapabilities {
		known[c] = true
	}
	for _, op := range ops {
		c, ok := OpCapability(op)
		if !ok || !known[c] {
			t.Errorf("op %q: capability %q, %v", op, c, ok)
		}
		if OpTakesBody(op) != (op == OpModelGenerate || op == OpCLIRun) {
			t.Errorf("op %q: takes body %v", op, OpTakesBody(op))
		}
	}
	if c, _ := OpCapability(OpModelResolve); c != CapModelGenerate {
		t.Errorf("model.resolve is granted by %q, want model.generate", c)
	}
	for _, op := range []string{"", "fs.write", "FS.READ", "call"} {
		if _, ok := OpCapability(op); ok {
			t.Errorf("op %q should be unknown", op)
		}
	}
}
