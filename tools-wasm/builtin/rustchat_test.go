//go:build !wasip1

package main

// The parity harness of the Rust chat (tools-wasm/builtin-chat, module pal-chat): the Go chat
// of this package is the oracle. Each scenario of chatScenarios runs twice on identical fake
// hosts, once through the Go chat natively and once through the Rust module in the real
// runtime, and everything either side shows the host must be identical: every request
// message byte for byte (op, fields, body), the model calls, progress, log lines, threads and
// the result. A new chat behaviour gets a row in chatScenarios, with a check of the Go
// chat's result where it matters, and is then checked for parity too.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/runtime"
	rabi "github.com/pal-mcp/pal/runtime/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// chatStep is one call of a scenario: its arguments (JSON text) and what to change on the
// host first.
type chatStep struct {
	args   string
	before func(h *paltest.Host)
}

// chatScenario is a host and the chat calls made on it. host builds a fresh host: it runs
// once per side, so a Reply closure with state starts afresh for each. check, when set, tests
// the Go chat's results (the Rust chat's are the same, byte for byte).
type chatScenario struct {
	name  string
	host  func() *paltest.Host
	steps []chatStep
	check func(t *testing.T, h *paltest.Host, out []*rabi.Result)
}

// steps makes steps from arguments alone.
func steps(args ...string) []chatStep {
	out := make([]chatStep, len(args))
	for i, a := range args {
		out[i] = chatStep{args: a}
	}
	return out
}

// threadID is the id the fake host gives the n-th thread it creates.
func threadID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// withHost returns newHost changed by f.
func withHost(f func(h *paltest.Host)) func() *paltest.Host {
	return func() *paltest.Host {
		h := newHost()
		f(h)
		return h
	}
}

// replies is a Reply that answers with each response in turn, then with the last.
func replies(rs ...pal.GenerateResponse) func(paltest.GenerateCall) (pal.GenerateResponse, error) {
	n := 0
	return func(paltest.GenerateCall) (pal.GenerateResponse, error) {
		r := rs[min(n, len(rs)-1)]
		n++
		return r, nil
	}
}

// failWith is a Reply that fails with err.
func failWith(err error) func(paltest.GenerateCall) (pal.GenerateResponse, error) {
	return func(paltest.GenerateCall) (pal.GenerateResponse, error) { return pal.GenerateResponse{}, err }
}

// resultText is the text of a result's first item.
func resultText(r *rabi.Result) string {
	if r == nil || len(r.Content) == 0 {
		return ""
	}
	return r.Content[0].Text
}

// mustContain fails unless the n-th result has isError as given and holds every one of want.
func mustContain(n int, isError bool, want ...string) func(t *testing.T, h *paltest.Host, out []*rabi.Result) {
	return func(t *testing.T, _ *paltest.Host, out []*rabi.Result) {
		t.Helper()
		if out[n].IsError != isError {
			t.Fatalf("step %d: isError %v: %s", n, out[n].IsError, resultText(out[n]))
		}
		for _, w := range want {
			if !strings.Contains(resultText(out[n]), w) {
				t.Fatalf("step %d: result lacks %q:\n%s", n, w, resultText(out[n]))
			}
		}
	}
}

// chatScenarios covers every scenario of chat_test.go and the edges of Go's rules that the
// Rust chat reproduces: argument decoding, formatting, UTF-8, budgets and host failures.
func chatScenarios() []chatScenario {
	proj := func(files map[string]string) func() *paltest.Host {
		return withHost(func(h *paltest.Host) {
			for p, c := range files {
				h.Files[p] = paltest.File{Content: []byte(c)}
			}
		})
	}
	tiny := func(h *paltest.Host) {
		h.MaxFileBytes = 100_000
		h.Models = []paltest.Model{{Name: "tiny", Provider: "custom", ContextWindow: 10_000}}
	}
	many := withHost(func(h *paltest.Host) {
		for i := range 2005 {
			h.Files[fmt.Sprintf("/proj/many/f%04d.go", i)] = paltest.File{Content: []byte("package many\n")}
		}
	})
	bigImage := func(size int) func() *paltest.Host {
		return withHost(func(h *paltest.Host) {
			h.Files["/proj/huge.png"] = paltest.File{Content: make([]byte, size)}
		})
	}
	history := withHost(func(h *paltest.Host) {
		h.Files["/proj/old.json"] = paltest.File{Content: []byte(strings.Repeat(`{"k": 1}`+"\n", 50)), Modified: time.Date(2025, 6, 7, 8, 9, 10, 0, time.FixedZone("x", 3600))}
		h.AddThread("codereview", map[string]any{"absolute_file_paths": []any{"/proj/main.go", "relative.go", 7, "/proj/pkg"}, "prompt": "review"},
			pal.Turn{Role: "user", Content: "look at these", Files: []string{"/proj/main.go", "/proj/old.json", "/proj/gone.go"}, Tool: "codereview"},
			pal.Turn{Role: "assistant", Content: "looked <&> \u2028", Model: "gemini-2.5-flash", Provider: "google", Tool: "codereview"},
			pal.Turn{Role: "user", Content: "and the secrets", Files: []string{"/proj/secrets/key.pem", "/proj/util.go"}},
			pal.Turn{Role: "assistant", Content: "no model named"},
		)
	})
	goneModel := withHost(func(h *paltest.Host) {
		h.AddThread("chat", nil,
			pal.Turn{Role: "user", Content: "q"},
			pal.Turn{Role: "assistant", Content: "a", Model: "retired-model"},
			pal.Turn{Role: "user", Content: "q2"},
			pal.Turn{Role: "assistant", Content: "a2"},
		)
	})
	t1 := threadID(1)
	return []chatScenario{
		// chat_test.go
		{name: "new conversation", host: newHost, steps: steps(`{"prompt":"Explain main","absolute_file_paths":["/proj/main.go"]}`),
			check: mustContain(0, false, `"status":"continuation_available"`, `"remaining_turns":48`)},
		{name: "locale and settings", host: withHost(func(h *paltest.Host) { h.Info.Limits.Locale = "de-DE" }),
			steps: steps(`{"prompt":"Hallo","model":"o3","temperature":0.2,"thinking_mode":"high"}`)},
		{name: "continuation", host: newHost, steps: steps(`{"prompt":"Explain main","absolute_file_paths":["/proj/main.go"]}`,
			`{"prompt":"And util?","continuation_id":"`+t1+`","absolute_file_paths":["/proj/main.go","/proj/util.go"]}`),
			check: mustContain(1, false, `"remaining_turns":46`)},
		{name: "continuation carries initial files", host: newHost, steps: steps(`{"prompt":"Explain","absolute_file_paths":["/proj/pkg"]}`,
			`{"prompt":"More","continuation_id":"`+t1+`"}`)},
		{name: "unknown thread", host: newHost, steps: steps(`{"prompt":"x","continuation_id":"00000000-0000-4000-8000-999999999999"}`),
			check: mustContain(0, true, "was not found or has expired")},
		{name: "thread runs out of turns", host: withHost(func(h *paltest.Host) { h.MaxTurns = 4 }),
			steps: steps(`{"prompt":"one"}`, `{"prompt":"two","continuation_id":"`+t1+`"}`, `{"prompt":"three","continuation_id":"`+t1+`"}`),
			check: mustContain(2, true, "4 of its 4 turns")},
		{name: "denied glob", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/main.go","/proj/secrets/key.pem"]}`)},
		{name: "denied directory", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/private"]}`)},
		{name: "denied file named directly", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/private/x.go"]}`)},
		{name: "dot-dot escape", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/../etc/passwd"]}`)},
		{name: "missing file", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/nope.go"]}`),
			check: mustContain(0, true, "no such file or directory")},
		{name: "file over the per-file cap", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/big.log"]}`),
			check: mustContain(0, true, "per-file limit")},
		{name: "denied prompt.txt", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/private/prompt.txt"]}`)},
		{name: "missing prompt.txt", host: newHost, steps: steps(`{"prompt":"look","absolute_file_paths":["/proj/none/prompt.txt"]}`)},
		{name: "denied image", host: newHost, steps: steps(`{"prompt":"look","images":["/proj/private/shot.png"]}`)},
		{name: "missing image", host: newHost, steps: steps(`{"prompt":"look","images":["/proj/none.png"]}`)},
		{name: "directory expanded", host: withHost(func(h *paltest.Host) {
			h.Files["/proj/pkg/huge.go"] = paltest.File{Content: []byte(strings.Repeat("y", 1500))}
		}),
			steps: steps(`{"prompt":"review","absolute_file_paths":["/proj/pkg"]}`),
			check: mustContain(0, false, `"status":"continuation_available"`)},
		{name: "prompt.txt", host: withHost(func(h *paltest.Host) { h.Info.Limits.PromptChars = 10 }),
			steps: steps(`{"prompt":"","absolute_file_paths":["/proj/prompt.txt","/proj/main.go"]}`)},
		{name: "empty prompt", host: newHost, steps: steps(`{"prompt":"  "}`, `{"prompt":"\u3000\n\u0085"}`),
			check: mustContain(1, true, "prompt is empty")},
		{name: "empty prompt.txt keeps the prompt", host: proj(map[string]string{"/proj/a/prompt.txt": " \r\n", "/proj/b/prompt.txt": "from b"}),
			steps: steps(`{"prompt":"inline","absolute_file_paths":["/proj/b/prompt.txt","/proj/a/prompt.txt"]}`, `{"prompt":"","absolute_file_paths":["/proj/a/prompt.txt"]}`)},
		{name: "prompt at the limit", host: withHost(func(h *paltest.Host) { h.Info.Limits.PromptChars = 100 }),
			steps: steps(`{"prompt":"`+strings.Repeat("é", 100)+`"}`, `{"prompt":"`+strings.Repeat("é", 101)+`"}`),
			check: mustContain(1, true, `"status":"resend_prompt"`, `"prompt_size":101`)},
		{name: "missing prompt", host: newHost, steps: steps(`{}`, `{"prompt":null}`)},
		{name: "unknown argument", host: newHost, steps: steps(`{"prompt":"x","files":["/a"]}`, `{"nope\u0001é\u00a0":1,"prompt":5}`)},
		{name: "wrong types", host: newHost, steps: steps(`{"prompt":5}`, `{"prompt":"x","absolute_file_paths":"/a"}`, `{"prompt":"x","absolute_file_paths":[1]}`,
			`{"prompt":"x","images":[["/a.png"]]}`, `{"prompt":"x","images":{}}`, `{"prompt":"x","model":true}`, `{"prompt":"x","temperature":"0.5"}`,
			`{"prompt":"x","thinking_mode":[]}`, `{"prompt":"x","continuation_id":{"a":[1,{"b":null}]}}`, `{"prompt":"x","working_directory_absolute_path":0}`,
			`{"prompt":{"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`)},
		{name: "temperatures", host: newHost, steps: steps(`{"prompt":"x","temperature":1.5}`, `{"prompt":"x","temperature":-0.1}`, `{"prompt":"x","temperature":1e400}`,
			`{"prompt":"x","temperature":-1e400}`, `{"prompt":"x","temperature":1e21}`, `{"prompt":"x","temperature":-1e-5}`, `{"prompt":"x","temperature":123456789}`,
			`{"prompt":"x","temperature":1.0000000000000002}`, `{"prompt":"x","temperature":-0}`, `{"prompt":"x","temperature":1e-7}`,
			`{"prompt":"x","temperature":0.30000000000000004}`, `{"prompt":"x","temperature":0.12345678901234567890}`, `{"prompt":"x","temperature":1e-400}`,
			`{"prompt":"x","temperature":null}`, `{"prompt":"x","temperature":0}`, `{"prompt":"x","temperature":1E0}`),
			check: mustContain(2, true, "argument temperature has a number 1e400 where a number is expected")},
		{name: "thinking modes", host: newHost, steps: steps(`{"prompt":"x","thinking_mode":"huge"}`, `{"prompt":"x","thinking_mode":"HIGH"}`,
			`{"prompt":"x","thinking_mode":"\u0000\u0007\t\"\\\u007f\u00ad\u00a0\u2028\ufeff\ud800\ud83d\ude00\udfff é\u0301\U000e0001"}`,
			`{"prompt":"x","thinking_mode":"max"}`, `{"prompt":"x","thinking_mode":""}`, `{"prompt":"x","thinking_mode":"minimal","model":"o3"}`)},
		{name: "working directory", host: newHost, steps: steps(`{"prompt":"x","working_directory_absolute_path":"/proj"}`,
			`{"prompt":"x","working_directory_absolute_path":" \t\u00a0"}`)},
		{name: "relative paths", host: newHost, steps: steps(`{"prompt":"x","absolute_file_paths":["proj/main.go"]}`, `{"prompt":"x","absolute_file_paths":["~/main.go"]}`,
			`{"prompt":"x","absolute_file_paths":[""]}`, `{"prompt":"x","absolute_file_paths":["/proj/main.go","C:"]}`, `{"prompt":"x","absolute_file_paths":["1:/x"]}`)},
		{name: "windows paths", host: newHost, steps: steps(`{"prompt":"x","absolute_file_paths":["C:\\proj\\main.go"]}`, `{"prompt":"x","absolute_file_paths":["\\\\srv\\share\\a.go"]}`,
			`{"prompt":"x","images":["c:/shots/A.PNG"]}`)},
		{name: "image arguments", host: newHost, steps: steps(`{"prompt":"x","images":["shot.png"]}`, `{"prompt":"x","images":["/proj/shot.bmp"]}`,
			`{"prompt":"x","images":["data:text/plain;base64,AA=="]}`, `{"prompt":"x","images":["data:image/png;base64,@@@"]}`,
			`{"prompt":"x","images":["/a.png","/b.png","/c.png","/d.png","/e.png","/f.png"]}`, `{"prompt":"x","images":["data:image/png;base64,"]}`,
			`{"prompt":"x","images":["data:image/jpg;base64,AA\r\n=="]}`, `{"prompt":"x","images":["data:image/webp;base64,AA="]}`,
			`{"prompt":"x","images":["data:image/gif;base64,AAAA===="]}`, `{"prompt":"x","images":["/proj/shot.\u212Apg"]}`, `{"prompt":"x","images":["/proj/a.JPEG"]}`)},
		{name: "arguments not an object", host: newHost, steps: steps(`[]`, `"x"`, `null`, `1`, `true`)},
		{name: "keys fold as Go folds them", host: newHost, steps: steps(`{"PROMPT":"x","Absolute_File_Paths":["/proj/main.go"]}`,
			`{"prompt":"x","thin\u212Aing_mode":"low","image\u017f":[]}`, `{"pr\u0130mpt":"x"}`)},
		{name: "duplicate keys", host: newHost, steps: steps(`{"prompt":"x","prompt":null}`, `{"model":"o3","model":null,"prompt":"x"}`,
			`{"prompt":"x","images":["/proj/shot.png","data:image/png;base64,AA=="],"images":[null]}`,
			`{"prompt":"x","images":["/proj/shot.png","/proj/shot.png"],"images":[null],"images":[null,null]}`,
			`{"prompt":"x","absolute_file_paths":["/proj/main.go"],"absolute_file_paths":null}`)},
		{name: "unknown model", host: newHost, steps: steps(`{"prompt":"x","model":"gpt-9"}`), check: mustContain(0, true, `"requested_model":"gpt-9"`)},
		{name: "no models", host: withHost(func(h *paltest.Host) { h.Models = nil }), steps: steps(`{"prompt":"x"}`)},
		{name: "default model", host: withHost(func(h *paltest.Host) { h.Info.DefaultModel = "o3-full" }), steps: steps(`{"prompt":"x"}`)},
		{name: "provider fails", host: withHost(func(h *paltest.Host) { h.Reply = failWith(fmt.Errorf("provider returned 503 after 4 attempts")) }),
			steps: steps(`{"prompt":"x"}`)},
		{name: "provider refuses with a code", host: withHost(func(h *paltest.Host) {
			h.Reply = failWith(&pal.HostError{Code: pal.CodeOverBudget, Message: "provider_calls budget of 3 used up"})
		}), steps: steps(`{"prompt":"x"}`)},
		{name: "empty reply retried", host: withHost(func(h *paltest.Host) {
			h.Reply = replies(pal.GenerateResponse{Content: " ", FinishReason: "STOP"}, pal.GenerateResponse{Content: "second try", FinishReason: "stop"})
		}), steps: steps(`{"prompt":"x"}`)},
		{name: "empty replies", host: withHost(func(h *paltest.Host) {
			h.Reply = replies(pal.GenerateResponse{Content: "\n", FinishReason: "end_turn"}, pal.GenerateResponse{FinishReason: ""},
				pal.GenerateResponse{FinishReason: "LENGTH"}, pal.GenerateResponse{FinishReason: "SAFETY"}, pal.GenerateResponse{FinishReason: "bloc\u212Aed"},
				pal.GenerateResponse{FinishReason: "Content_Filter"}, pal.GenerateResponse{FinishReason: "ſtop"})
		}), steps: steps(`{"prompt":"x"}`, `{"prompt":"x"}`, `{"prompt":"x"}`, `{"prompt":"x"}`, `{"prompt":"x"}`, `{"prompt":"x"}`)},
		{name: "reply text as Go encodes it", host: withHost(func(h *paltest.Host) {
			h.Reply = replies(pal.GenerateResponse{Content: "<b>&amp;</b> \u2028\u2029 \b\f\x01\x7f \"q\" \\ é😀", FinishReason: "stop", Model: "other", Provider: "elsewhere"})
		}), steps: steps(`{"prompt":"<tag> & \u2028"}`, `{"prompt":"again","continuation_id":"`+t1+`"}`)},
		{name: "images", host: newHost, steps: steps(`{"prompt":"what is this","images":["/proj/shot.png","data:image/png;base64,iVBORw0KGgo="]}`,
			`{"prompt":"x","model":"o3","images":["/proj/shot.png"]}`)},
		{name: "images over 20 MB", host: bigImage(21 << 20), steps: steps(`{"prompt":"x","images":["/proj/huge.png"]}`),
			check: mustContain(0, true, "add up to 21.0 MB")},
		{name: "images at a rounding tie", host: bigImage(21233664), steps: steps(`{"prompt":"x","images":["/proj/huge.png"]}`),
			check: mustContain(0, true, "add up to 20.2 MB")},
		{name: "images at the cap", host: bigImage(20 << 20), steps: steps(`{"prompt":"x","images":["/proj/huge.png"]}`)},
		{name: "without optional capabilities", host: withHost(func(h *paltest.Host) { h.Grant = []string{pal.CapFSRead, pal.CapFSList, pal.CapModelGenerate} }),
			steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/main.go"]}`, `{"prompt":"x","continuation_id":"`+t1+`"}`)},
		{name: "threads read-only", host: withHost(func(h *paltest.Host) {
			h.Grant = []string{pal.CapFSRead, pal.CapModelGenerate, pal.CapThreadRead, pal.CapHostInfo}
		}), steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/pkg"]}`)},
		{name: "no model grant", host: withHost(func(h *paltest.Host) { h.Grant = []string{pal.CapHostInfo} }), steps: steps(`{"prompt":"x"}`)},
		{name: "no file grant", host: withHost(func(h *paltest.Host) { h.Grant = []string{pal.CapModelGenerate} }),
			steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/main.go"]}`, `{"prompt":"x","images":["/proj/shot.png"]}`)},
		{name: "no list grant", host: withHost(func(h *paltest.Host) { h.Grant = []string{pal.CapFSRead, pal.CapModelGenerate} }),
			steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/pkg"]}`)},
		{name: "file budget", host: withHost(func(h *paltest.Host) {
			tiny(h)
			h.Files["/proj/large.go"] = paltest.File{Content: []byte(strings.Repeat("// filler line\n", 400))}
		}), steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/large.go","/proj/main.go"]}`),
			check: mustContain(0, false, `"status":"continuation_available"`)},
		{name: "read ceiling", host: withHost(func(h *paltest.Host) {
			tiny(h)
			for i := range 5 {
				h.Files[fmt.Sprintf("/proj/r/f%d.go", i)] = paltest.File{Content: []byte(strings.Repeat("x", 9000))}
			}
		}), steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/r/f0.go","/proj/r/f1.go","/proj/r/f2.go","/proj/pkg","/proj/r","/proj/nope.go"]}`,
			`{"prompt":"x","absolute_file_paths":["/proj/r/f0.go","/proj/r/f1.go","/proj/r/f2.go","/proj/r/f3.go","/proj/secrets/key.pem"]}`,
			`{"prompt":"x","absolute_file_paths":["/proj/r"]}`)},
		{name: "directory listing truncated", host: many, steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/many"]}`)},
		{name: "empty directory and no files", host: withHost(func(h *paltest.Host) { h.Dirs = []string{"/proj/empty"} }),
			steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/empty"]}`, `{"prompt":"x","absolute_file_paths":["/proj/pkg/logo.png"]}`,
				`{"prompt":"x","absolute_file_paths":[]}`)},
		{name: "file contents", host: proj(map[string]string{
			"/proj/bad.go":    "ok\xff\xfe\xfdstill\xe2\x82\r\nnext\rline\xc3",
			"/proj/crlf.md":   "a\r\n\r\nb\r\n",
			"/proj/empty.go":  "",
			"/proj/nl.go":     "\n",
			"/proj/uni.go":    "\ufeffé\u2028😀\x00",
			"/proj/a<b>&c.go": "x",
		}), steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/bad.go","/proj/crlf.md","/proj/empty.go","/proj/nl.go","/proj/uni.go","/proj/a<b>&c.go"]}`)},
		{name: "long file", host: proj(map[string]string{"/proj/long.go": strings.Repeat("l\n", 12000)}),
			steps: steps(`{"prompt":"x","absolute_file_paths":["/proj/long.go"]}`)},
		{name: "history", host: history, steps: steps(`{"prompt":"continue","continuation_id":"`+t1+`"}`,
			`{"prompt":"continue","continuation_id":"`+t1+`","absolute_file_paths":["/proj/util.go","/proj/old.json"]}`)},
		{name: "history over budget", host: func() *paltest.Host {
			h := history()
			tiny(h)
			h.Files["/proj/main.go"] = paltest.File{Content: []byte(strings.Repeat("main\n", 3000))}
			return h
		}, steps: steps(`{"prompt":"continue","continuation_id":"` + t1 + `"}`)},
		{name: "model of the conversation retired", host: goneModel, steps: steps(`{"prompt":"next","continuation_id":"`+t1+`"}`,
			`{"prompt":"next","continuation_id":"`+t1+`","model":"retired-model"}`)},
		{name: "model of the conversation retired, no fallback", host: func() *paltest.Host {
			h := goneModel()
			h.Info.DefaultModel = "also-gone"
			return h
		}, steps: steps(`{"prompt":"next","continuation_id":"` + t1 + `"}`)},
		{name: "log line over the runtime's cut", host: withHost(func(h *paltest.Host) {
			h.AddThread("chat", nil, pal.Turn{Role: "user", Content: "q"}, pal.Turn{Role: "assistant", Content: "a", Model: strings.Repeat("é", 3000)})
		}), steps: steps(`{"prompt":"next","continuation_id":"` + t1 + `"}`)},
		{name: "locale quoted", host: withHost(func(h *paltest.Host) { h.Info.Limits.Locale = " fr\"FR\x01\u00a0é " }), steps: steps(`{"prompt":"x"}`)},
		{name: "continuation tools", host: withHost(func(h *paltest.Host) { h.Info.ContinuationTools = []string{"chat"} }), steps: steps(`{"prompt":"x"}`)},
		{name: "steps between", host: newHost, steps: []chatStep{{args: `{"prompt":"one"}`},
			{args: `{"prompt":"two","continuation_id":"` + t1 + `"}`, before: func(h *paltest.Host) { delete(h.Files, "/proj/main.go"); h.MaxTurns = 6 }}}},
	}
}

// chatCaps are the Go chat's declared capabilities.
func chatCaps(t testing.TB) []string {
	var man abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &man); err != nil {
		t.Fatal(err)
	}
	for _, tool := range man.Tools {
		if tool.Name == "chat" {
			return tool.Capabilities
		}
	}
	t.Fatal("the Go module has no chat")
	return nil
}

// side is what one run of a scenario showed the host.
type side struct {
	host     *paltest.Host
	requests [][]byte // every request message, as sent
	results  []*rabi.Result
}

// goChatHost records every request message before passing it on, and cuts log lines as the
// runtime does (runtime.LogLineLimit), so that both sides are compared as a host sees them.
type goChatHost struct {
	h        *paltest.Host
	requests [][]byte
}

func (n *goChatHost) Call(req []byte) []byte {
	n.requests = append(n.requests, append([]byte{}, req...))
	return n.h.Call(req)
}

func (n *goChatHost) Log(level int, msg string) {
	if len(msg) > runtime.LogLineLimit {
		msg = strings.ToValidUTF8(msg[:runtime.LogLineLimit], string(utf8.RuneError)) + fmt.Sprintf(" [%d bytes cut]", len(msg)-runtime.LogLineLimit)
	}
	n.h.Log(level, msg)
}

// wasmHost serves the runtime from a paltest.Host, recording every request message.
type wasmHost struct {
	runtimeHost
	requests [][]byte
}

func (w *wasmHost) Call(ctx context.Context, req []byte) []byte {
	w.requests = append(w.requests, append([]byte{}, req...))
	return w.runtimeHost.Call(ctx, req)
}

// runGo runs one call of the Go chat natively. ok is false when the arguments are not JSON
// (the runtime refuses them before any module sees them).
func runGo(t testing.TB, n *goChatHost, caps []string, args string) (*rabi.Result, bool) {
	req, err := json.Marshal(abi.HandleRequest{ABI: abi.Version, Tool: "chat", CallID: "parity", Arguments: json.RawMessage(args)})
	if err != nil {
		return nil, false
	}
	n.h.SetCall("chat", caps)
	pal.SetHost(n)
	r, err := rabi.ParseResult(pal.Invoke(req))
	if err != nil {
		t.Fatalf("the Go chat's result: %v", err)
	}
	return r, true
}

// rustChat is the Rust chat loaded in a runtime, shared by the tests of this binary.
var rustChat struct {
	once sync.Once
	mod  *runtime.Module
	size int
	err  error
}

func loadRustChat(t testing.TB) *runtime.Module {
	t.Helper()
	wasm := testwasm.LoadRust(t, "tools-wasm/builtin-chat")
	rustChat.once.Do(func() {
		ctx := context.Background()
		e, err := runtime.New(ctx, runtime.Config{})
		if err != nil {
			rustChat.err = err
			return
		}
		rustChat.mod, rustChat.err = e.LoadModule(ctx, "pal-chat", wasm, "")
		rustChat.size = len(wasm)
	})
	if rustChat.err != nil {
		t.Fatal(rustChat.err)
	}
	return rustChat.mod
}

func runRust(t testing.TB, mod *runtime.Module, w *wasmHost, caps []string, args string) *rabi.Result {
	w.h.SetCall("chat", caps)
	r, out, err := mod.Invoke(context.Background(), runtime.Call{Tool: "chat", CallID: "parity", Arguments: json.RawMessage(args), Host: w})
	if err != nil {
		t.Fatalf("the Rust chat failed: %v\nstderr: %s", err, out.Stderr)
	}
	return r
}

// runBoth runs a scenario on both sides and fails t at the first difference.
func runBoth(t testing.TB, mod *runtime.Module, caps []string, sc chatScenario) (goSide side) {
	t.Helper()
	n := &goChatHost{h: sc.host()}
	w := &wasmHost{runtimeHost: runtimeHost{h: sc.host()}}
	var goRes, rustRes []*rabi.Result
	for i, st := range sc.steps {
		if st.before != nil {
			st.before(n.h)
			st.before(w.h)
		}
		g, ok := runGo(t, n, caps, st.args)
		if !ok {
			continue
		}
		goRes = append(goRes, g)
		r := runRust(t, mod, w, caps, st.args)
		rustRes = append(rustRes, r)
		if gt, rt := resultText(g), resultText(r); gt != rt || g.IsError != r.IsError || !reflect.DeepEqual(g, r) {
			t.Fatalf("step %d (%s): results differ\nGo   (isError %v) %s\nRust (isError %v) %s", i, st.args, g.IsError, gt, r.IsError, rt)
		}
	}
	compareHosts(t, n.h, w.h, n.requests, w.requests)
	if len(w.refused) > 0 {
		t.Fatalf("the runtime refused requests of the Rust chat: %v", w.refused)
	}
	return side{host: n.h, requests: n.requests, results: goRes}
}

// compareHosts fails unless both hosts saw the same: request messages byte for byte, then
// the fake's own records and the threads.
func compareHosts(t testing.TB, g, r *paltest.Host, greq, rreq [][]byte) {
	t.Helper()
	for i := range max(len(greq), len(rreq)) {
		var a, b []byte
		if i < len(greq) {
			a = greq[i]
		}
		if i < len(rreq) {
			b = rreq[i]
		}
		if string(a) != string(b) {
			t.Fatalf("request %d differs:\nGo   %s\nRust %s", i, clip(a), clip(b))
		}
	}
	for _, c := range []struct {
		what string
		a, b any
	}{{"requests", g.Requests, r.Requests}, {"model calls", g.Generated, r.Generated}, {"progress", g.Progress, r.Progress}, {"logs", g.Logs, r.Logs}} {
		if !reflect.DeepEqual(c.a, c.b) {
			t.Fatalf("%s differ:\nGo   %+v\nRust %+v", c.what, c.a, c.b)
		}
	}
	for i := 1; ; i++ {
		a, okA := g.Thread(threadID(i))
		b, okB := r.Thread(threadID(i))
		if !reflect.DeepEqual(a, b) || okA != okB {
			t.Fatalf("thread %d differs:\nGo   %+v\nRust %+v", i, a, b)
		}
		if !okA {
			break
		}
	}
}

// clip shortens a request message for a failure message.
func clip(b []byte) string {
	if len(b) > 3000 {
		return strconv.Quote(string(b[:3000])) + "…"
	}
	return strconv.Quote(string(b))
}

// TestRustChatMatchesGo runs every chat scenario through the Go chat and the Rust chat and
// requires them to show the host the same bytes.
func TestRustChatMatchesGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Rust chat module")
	}
	mod := loadRustChat(t)
	caps := chatCaps(t)
	start := time.Now()
	calls := 0
	for _, sc := range chatScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			s := runBoth(t, mod, caps, sc)
			calls += len(s.results)
			if sc.check != nil {
				sc.check(t, s.host, s.results)
			}
		})
	}
	t.Logf("pal_chat.wasm: %d bytes; %d scenarios, %d calls per side in %v", rustChat.size, len(chatScenarios()), calls, time.Since(start).Round(time.Millisecond))
}

// TestRustChatManifest: the Rust module declares chat exactly as the Go module does.
func TestRustChatManifest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Rust chat module")
	}
	mod := loadRustChat(t)
	var goMan rabi.Manifest
	if err := json.Unmarshal(pal.Describe(), &goMan); err != nil {
		t.Fatal(err)
	}
	var want *rabi.ToolSpec
	for i := range goMan.Tools {
		if goMan.Tools[i].Name == "chat" {
			want = &goMan.Tools[i]
		}
	}
	rm := mod.Manifest()
	if rm.Name != "pal-chat" || len(rm.Tools) != 1 || want == nil {
		t.Fatalf("manifest %+v", rm)
	}
	got := rm.Tools[0]
	compact := func(s json.RawMessage) string {
		var b bytes.Buffer
		if err := json.Compact(&b, s); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if compact(got.InputSchema) != compact(want.InputSchema) {
		t.Fatalf("input schema:\nRust %s\nGo   %s", got.InputSchema, want.InputSchema)
	}
	got.InputSchema, want.InputSchema = nil, nil
	if !reflect.DeepEqual(got, *want) {
		t.Fatalf("chat's manifest entry:\nRust %+v\nGo   %+v", got, *want)
	}
}

// TestRustChatQuotesLikeGo runs every code point through both chats' %q (the refusal of an
// unknown thinking_mode), in chunks: the Rust printability tables are Go's.
func TestRustChatQuotesLikeGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Rust chat module")
	}
	mod := loadRustChat(t)
	caps := chatCaps(t)
	const chunk = 1 << 16
	for lo := rune(0); lo <= utf8.MaxRune; lo += chunk {
		var b strings.Builder
		for r := lo; r < lo+chunk && r <= utf8.MaxRune; r++ {
			if utf8.ValidRune(r) {
				b.WriteRune(r)
			}
		}
		args, _ := json.Marshal(map[string]string{"prompt": "x", "thinking_mode": b.String()})
		runBoth(t, mod, caps, chatScenario{name: "quote", host: newHost, steps: steps(string(args))})
	}
}

// FuzzChatParity runs random arguments through the Go chat and the Rust chat and requires
// the same host requests, logs and results. The host holds the files and threads the
// scenarios use (thread 1 exists), so continuations and paths get far.
func FuzzChatParity(f *testing.F) {
	for _, sc := range chatScenarios() {
		for _, st := range sc.steps {
			f.Add(st.args)
		}
	}
	mod := loadRustChat(f)
	caps := chatCaps(f)
	host := func() *paltest.Host {
		h := newHost()
		h.AddThread("chat", map[string]any{"absolute_file_paths": []any{"/proj/pkg", "/proj/main.go"}},
			pal.Turn{Role: "user", Content: "q", Files: []string{"/proj/util.go"}}, pal.Turn{Role: "assistant", Content: "a", Model: "o3"})
		return h
	}
	f.Fuzz(func(t *testing.T, args string) {
		if !json.Valid([]byte(args)) || len(args) > 1<<16 {
			return
		}
		runBoth(t, mod, caps, chatScenario{name: "fuzz", host: host, steps: steps(args)})
	})
}
