// Package bench measures what a user of pal waits for: starting the server until it answers
// tools/list, and the overhead one chat call adds on top of the model provider. Run it with
// `make bench`; the figures go in docs/benchmarks.md.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/registry"
	"github.com/pal-mcp/pal/test/bench/sample"
)

// palBin and baselineBin are the two servers the process-level benchmarks compare: pal (the
// shipped binary under `make bench`) and the no-sandbox baseline, both built by TestMain.
var palBin, baselineBin string

// benchDir holds what the benchmarks of one test binary share: the binaries TestMain builds
// and the warm compile cache.
var benchDir string

// binDirEnv names the environment variable that hands TestMain binaries it already built
// (DIR/pal and DIR/baseline): TestBenchHarness sets it for the test binary it runs again.
const binDirEnv = "PAL_BENCH_BINDIR"

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		if benchDir, err = os.MkdirTemp("", "pal-bench-shared-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(benchDir)
		if dir := os.Getenv(binDirEnv); dir != "" {
			palBin, baselineBin = filepath.Join(dir, "pal"), filepath.Join(dir, "baseline")
			return m.Run()
		}
		if palBin, err = testwasm.BuildPal(benchDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if baselineBin, err = buildBaseline(benchDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	testwasm.Cleanup()
	os.Exit(code)
}

// buildBaseline builds ./baseline (the no-sandbox server) into dir, with the flags the
// Makefile gives pal (-trimpath, -s -w), so that the binary sizes compare.
func buildBaseline(dir string) (string, error) {
	bin := filepath.Join(dir, "baseline")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./baseline")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the baseline: %v\n%s", err, b)
	}
	return bin, nil
}

// BenchmarkChatCall runs one chat tools/call in process (MCP message in, result out) against
// a provider that answers at once, beside a bare provider round trip on the same loopback
// server: the difference is what pal adds to a call (schema check, instance, guest logic,
// host calls, thread writes, result conversion).
func BenchmarkChatCall(b *testing.B) {
	srv := sample.NewProvider(b)
	work := b.TempDir()
	if err := os.WriteFile(filepath.Join(work, "main.go"), []byte(strings.Repeat("package main // a line of code\n", 200)), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"OPENAI_API_KEY": sample.APIKey, "OPENAI_BASE_URL": srv.BaseURL(), "DEFAULT_MODEL": "gpt-5.2"}
	getenv := func(k string) string { return env[k] }

	b.Run("provider-only", func(b *testing.B) {
		r, err := registry.New(registry.Config{Getenv: getenv})
		if err != nil {
			b.Fatal(err)
		}
		res, err := r.Resolve("gpt-5.2", providers.CategoryFast)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := r.Generate(context.Background(), res, providers.Request{Model: res.Caps.ModelName, Prompt: "hi"}); err != nil {
				b.Fatal(err)
			}
		}
	})

	for _, tc := range []struct{ name, args string }{
		{"chat", `{"prompt":"Is this fine?","model":"gpt-5.2"}`},
		{"chat-with-file", fmt.Sprintf(`{"prompt":"Is this fine?","model":"gpt-5.2","absolute_file_paths":[%q]}`, filepath.Join(work, "main.go"))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			env["XDG_CACHE_HOME"] = filepath.Join(work, "cache")
			env["XDG_STATE_HOME"] = filepath.Join(work, "state")
			a, err := app.Build(context.Background(), app.Options{Getenv: getenv, WorkDir: work, LogOutput: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			a.WarmAll(context.Background())
			msg := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"chat","arguments":` + tc.args + `}}`)
			for b.Loop() {
				// Calls from a client are seconds apart, so the instance pool is full when
				// one arrives; refill it outside the timer to measure that case.
				b.StopTimer()
				a.WarmAll(context.Background())
				b.StartTimer()
				resp := a.Server.MCP().HandleMessage(context.Background(), msg)
				out, _ := json.Marshal(resp)
				if !strings.Contains(string(out), "continuation_available") {
					b.Fatalf("chat: %s", out)
				}
			}
		})
	}
}

// BenchmarkWorkflowStep is one codereview step that calls no model, in process (MCP message
// in, result out): step 1 creates the thread and records the step; a later step reads the
// thread, rebuilds the run from it and records the step. Both answer with the pause reply.
func BenchmarkWorkflowStep(b *testing.B) {
	srv := sample.NewProvider(b)
	work := b.TempDir()
	file := filepath.Join(work, "main.go")
	if err := os.WriteFile(file, []byte("package main\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"OPENAI_API_KEY": sample.APIKey, "OPENAI_BASE_URL": srv.BaseURL(), "DEFAULT_MODEL": "gpt-5.2",
		"XDG_CACHE_HOME": filepath.Join(work, "cache"), "XDG_STATE_HOME": filepath.Join(work, "state")}
	a, err := app.Build(context.Background(), app.Options{Getenv: func(k string) string { return env[k] }, WorkDir: work, LogOutput: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	a.WarmAll(context.Background())
	call := func(b *testing.B, args string) map[string]any {
		msg := []byte(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"codereview","arguments":` + args + `}}`)
		raw, _ := json.Marshal(a.Server.MCP().HandleMessage(context.Background(), msg))
		var resp struct {
			Result struct {
				Content []struct{ Text string } `json:"content"`
			} `json:"result"`
		}
		var out map[string]any
		if json.Unmarshal(raw, &resp) != nil || len(resp.Result.Content) != 1 || json.Unmarshal([]byte(resp.Result.Content[0].Text), &out) != nil ||
			out["status"] != "pause_for_code_review" {
			b.Fatalf("codereview: %s", raw)
		}
		return out
	}
	step1 := fmt.Sprintf(`{"step":"Review main.","step_number":1,"total_steps":3,"next_step_required":true,"findings":"f1","relevant_files":[%q]}`, file)
	b.Run("step1-new-thread", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			a.WarmAll(context.Background())
			b.StartTimer()
			call(b, step1)
		}
	})
	b.Run("step2-continued", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			id := call(b, step1)["continuation_id"].(string)
			a.WarmAll(context.Background())
			b.StartTimer()
			call(b, fmt.Sprintf(`{"step":"Check errors.","step_number":2,"total_steps":3,"next_step_required":true,"findings":"f2","continuation_id":%q}`, id))
		}
	})
}
