package security

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostileModulesAreContained runs every attack of the hostile module against one server,
// in turn: each ends with a clear result, the server answers the next call, and its peak RSS
// stays under peakRSSLimit (checked at cleanup).
func TestHostileModulesAreContained(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	s := start(t, w, p, "")

	for _, tc := range []struct {
		tool    string
		args    map[string]any
		isErr   bool
		want    string // in the result text
		maxTime time.Duration
	}{
		{"spin", nil, true, "time limit", 2 * callTimeout},
		{"membomb", nil, true, "memory cap", 2 * callTimeout},
		{"outbomb", nil, true, "output cap", 0},
		{"stderrbomb", nil, false, "stderr flooded", 0},
		{"logflood", nil, false, "logs flooded", 0},
		{"badptr", nil, false, "outside guest memory", 0},
		{"reenter", map[string]any{"depth": 10_000_000}, false, `"no reply":2`, 0},
		{"undeclared", nil, false, `"code":"not_granted"`, 0},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			if tc.args == nil {
				tc.args = map[string]any{}
			}
			begin := time.Now()
			text, isErr := s.call(t, tc.tool, tc.args)
			took := time.Since(begin)
			if isErr != tc.isErr || !strings.Contains(text, tc.want) {
				t.Fatalf("isError=%v %s; want isError=%v mentioning %q", isErr, tail(text, 400), tc.isErr, tc.want)
			}
			if tc.maxTime > 0 && took > tc.maxTime {
				t.Errorf("stopped after %v; the deadline is %v", took, callTimeout)
			}
			s.mustServe(t, tc.tool)
			t.Logf("%s: %v, peak RSS so far %d MiB", tc.tool, took.Round(time.Millisecond), s.peakRSS(t)>>20)
		})
	}
}

// TestHostOpFloods floods every host op from inside one call, ignoring every refusal: each
// flood ends at its budget with an error naming the [limits] key.
func TestHostOpFloods(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	// A deadline long enough that every flood meets its budget first, even on a loaded machine.
	s := startWithTimeout(t, w, p, "", time.Minute)
	blob := strings.Repeat("t", 32<<10) // 2,000 threads of it: twice threads_total_bytes
	auditPath := filepath.Join(w.state, "state", "pal", "audit.jsonl")
	_ = s
	for _, tc := range []struct {
		name    string
		request map[string]any
		body    string
		want    string
	}{
		{"threads", map[string]any{"op": "thread.create", "initial_context": map[string]any{"blob": blob}}, "", "limits.host_calls = 2000"},
		{"thread reads", map[string]any{"op": "thread.read", "id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, "", "limits.host_calls = 2000"},
		{"host info", map[string]any{"op": "host.info"}, "", "limits.host_calls = 2000"},
		{"progress", map[string]any{"op": "progress", "progress": 1, "message": blob[:2000]}, "", "limits.progress_notifications = 1000"},
		{"reads", map[string]any{"op": "fs.read", "path": filepath.Join(w.root, "a.txt")}, "", "limits.read_files = 1000"},
		{"listings", map[string]any{"op": "fs.list", "path": w.root, "max_depth": 8}, "", "limits.host_calls = 2000"},
		{"provider calls", map[string]any{"op": "model.generate", "model": "gpt-5.2"}, "hello", "limits.provider_calls = 50"},
		{"audit", map[string]any{"op": "fs.read", "path": "/nowhere/" + strings.Repeat("p", 1000)}, "", "limits.audit_bytes = 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fileSize(auditPath)
			sent := p.n.Load()
			begin := time.Now()
			_, text, isErr := s.flood(t, tc.request, tc.body, 10_000_000, "")
			if !isErr || !strings.Contains(text, tc.want) || !strings.Contains(text, "over budget") {
				t.Fatalf("isError=%v %s; want an over-budget error naming %s", isErr, tail(text, 400), tc.want)
			}
			if n := p.n.Load() - sent; n > 50 {
				t.Errorf("%d provider requests in one call", n)
			}
			grew := fileSize(auditPath) - before
			if grew > 4<<20 {
				t.Errorf("the audit log grew %d bytes in one call", grew)
			}
			s.mustServe(t, tc.name)
			t.Logf("%s: stopped in %v; audit +%d KiB; peak RSS so far %d MiB", tc.name, time.Since(begin).Round(time.Millisecond), grew>>10, s.peakRSS(t)>>20)
		})
	}
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestRandomPointers hands the host pseudo-random pointers and lengths, for calls and log
// lines, from 20 seeds of 500 calls; the server answers every call and the next one.
func TestRandomPointers(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	s := start(t, w, p, "")
	for seed := 1; seed <= 20; seed++ {
		text, isErr := s.call(t, "randptr", map[string]any{"seed": seed, "n": 500})
		if isErr && !strings.Contains(text, "over budget") && !strings.Contains(text, "crashed") {
			t.Fatalf("seed %d: %s", seed, tail(text, 300))
		}
	}
	s.mustServe(t, "random pointers")
}

// TestUngrantedCapabilities: a module asking for every op of ABI 1 without a grant is refused
// each time, and an op outside ABI 1 is unknown.
func TestUngrantedCapabilities(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	s := start(t, w, p, "")
	ops := []map[string]any{
		{"op": "fs.read", "path": filepath.Join(w.root, "a.txt")},
		{"op": "fs.list", "path": w.root},
		{"op": "model.resolve", "model": "gpt-5.2"},
		{"op": "model.generate", "model": "gpt-5.2"},
		{"op": "model.list"},
		{"op": "thread.create"},
		{"op": "thread.read", "id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"op": "thread.append", "id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "turns": []any{}},
		{"op": "progress", "progress": 1},
		{"op": "host.info"},
		{"op": "git.status"},
		{"op": "cli.run", "argv": []string{"sh", "-c", "id"}},
		{"op": "net.fetch", "url": "http://127.0.0.1/"},
	}
	sent := p.n.Load()
	for _, op := range ops {
		text, isErr := s.call(t, "hostcall", map[string]any{"request": op, "body": "x"})
		if isErr {
			t.Fatalf("%v: %s", op["op"], text)
		}
		var out struct {
			Reply struct {
				Error *struct {
					Code string `json:"code"`
				} `json:"error"`
			} `json:"reply"`
		}
		if err := json.Unmarshal([]byte(text), &out); err != nil || out.Reply.Error == nil {
			t.Fatalf("%v was not refused: %s", op["op"], text)
		}
		if c := out.Reply.Error.Code; c != "not_granted" && c != "unknown_op" && c != "invalid" {
			t.Errorf("%v: refused with %q, want not_granted, unknown_op or invalid", op["op"], c)
		}
	}
	if p.n.Load() != sent {
		t.Error("a refused model op reached the provider")
	}
	s.mustServe(t, "capability hunt")
}

// TestKeyHunt: the provider key is neither in the module's memory after a model call nor in
// its environment, arguments or any file it can reach.
func TestKeyHunt(t *testing.T) {
	skipWithoutProc(t)
	w := newWorld(t)
	p := newProvider(t)
	s := startWithTimeout(t, w, p, "", 2*time.Minute) // keyhunt hashes its whole memory
	text, isErr := s.call(t, "envhunt", map[string]any{})
	if isErr {
		t.Fatalf("envhunt: %s", text)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(text), &env); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, apiKey) || strings.Contains(text, "sk-") {
		t.Fatalf("the module found a key: %s", text)
	}
	for k, v := range env {
		switch x := v.(type) {
		case bool:
			if x {
				t.Errorf("the module could open %s", k)
			}
		case string:
			if x != "" {
				t.Errorf("the module read %s = %q", k, x)
			}
		case []any:
			if k == "environ" && len(x) != 0 {
				t.Errorf("the module has an environment: %v", x)
			}
		}
	}
	hash := func(s string) string {
		var h uint64
		for i := 0; i < len(s); i++ {
			h = h*1099511628211 + uint64(s[i])
		}
		return fmt.Sprint(h)
	}
	control := "loopback answer"
	text, isErr = s.call(t, "keyhunt", map[string]any{"model": "gpt-5.2", "prompt": "hi", "needles": []map[string]any{
		{"len": len(apiKey), "hash": hash(apiKey)},
		{"len": len(control), "hash": hash(control)},
	}})
	if isErr {
		t.Fatalf("keyhunt: %s", text)
	}
	var out struct {
		Found []bool `json:"found"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil || len(out.Found) != 2 {
		t.Fatalf("keyhunt result: %s", text)
	}
	if !out.Found[1] {
		t.Fatal("the scan did not find the model's reply, so it proves nothing")
	}
	if out.Found[0] {
		t.Fatal("the API key is in guest memory")
	}
}
