package hostfns

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

// budgetCall is a call with small budgets and every capability.
func (f *fixture) budgetCall(b policy.Budgets) *Call {
	f.env.Budgets = b
	return f.call(policy.CapFSRead, policy.CapFSList, policy.CapModelGenerate, policy.CapProgress, policy.CapHostInfo)
}

func TestBudgetsPerKind(t *testing.T) {
	type step struct {
		req      any
		body     string
		wantCode abi.Code // "" for success
	}
	read := map[string]any{"op": "fs.read", "path": "ROOT/src/main.go"}
	gen := map[string]any{"op": "model.generate", "model": "m1"}
	prog := map[string]any{"op": "progress", "progress": 1}
	for _, tc := range []struct {
		name     string
		budgets  policy.Budgets
		steps    []step
		stopWith string // the Stop error, after the steps; "" for none
	}{
		{"host calls", policy.Budgets{HostCalls: 2}, []step{
			{map[string]any{"op": "host.info"}, "", ""},
			{map[string]any{"op": "host.info"}, "", ""},
			{map[string]any{"op": "host.info"}, "", abi.CodeOverBudget},
		}, "3 host calls (limits.host_calls = 2)"},
		{"files read", policy.Budgets{ReadFiles: 1}, []step{
			{read, "", ""},
			{read, "", abi.CodeOverBudget},
		}, ""},
		{"files read, asked again", policy.Budgets{ReadFiles: 1}, []step{
			{read, "", ""},
			{read, "", abi.CodeOverBudget},
			{read, "", abi.CodeOverBudget},
		}, "2 files read (limits.read_files = 1)"},
		{"provider calls", policy.Budgets{ProviderCalls: 1}, []step{
			{gen, "hi", ""},
			{gen, "hi", abi.CodeOverBudget},
			{map[string]any{"op": "host.info"}, "", ""}, // other ops go on
		}, ""},
		{"progress", policy.Budgets{ProgressNotifications: 2}, []step{
			{prog, "", ""}, {prog, "", ""}, {prog, "", abi.CodeOverBudget}, {prog, "", abi.CodeOverBudget},
		}, "3 progress notifications (limits.progress_notifications = 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.budgetCall(tc.budgets)
			for i, s := range tc.steps {
				req := s.req
				if m, ok := req.(map[string]any); ok && m["path"] != nil {
					m = clone(m)
					m["path"] = strings.Replace(m["path"].(string), "ROOT", f.root, 1)
					req = m
				}
				var body []byte
				if s.body != "" {
					body = []byte(s.body)
				}
				r := do(t, c, req, body)
				got := abi.Code("")
				if r.err != nil {
					got = r.err.Code
				}
				if got != s.wantCode {
					t.Fatalf("step %d: code %q (%v), want %q", i, got, r.err, s.wantCode)
				}
				if got == abi.CodeOverBudget && !strings.Contains(r.err.Message, "limits.") {
					t.Fatalf("step %d: over_budget message %q does not name the key", i, r.err.Message)
				}
			}
			err := c.Stop()
			switch {
			case tc.stopWith == "" && err != nil:
				t.Fatalf("call stopped: %v", err)
			case tc.stopWith != "" && (!errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), tc.stopWith)):
				t.Fatalf("Stop() = %v, want ErrOverBudget with %q", err, tc.stopWith)
			}
		})
	}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestReadBytesBudgetCutsReads: a read is cut to what is left of the byte budget, and a read
// with nothing left is refused.
func TestReadBytesBudgetCutsReads(t *testing.T) {
	f := newFixture(t)
	c := f.budgetCall(policy.Budgets{ReadBytes: 20})
	path := f.root + "/src/main.go" // "package main\n", 13 bytes
	r := do(t, c, map[string]any{"op": "fs.read", "path": path}, nil)
	if r.err != nil || string(r.body) != "package main\n" {
		t.Fatalf("first read: %v %q", r.err, r.body)
	}
	r = do(t, c, map[string]any{"op": "fs.read", "path": path}, nil)
	if r.err != nil || string(r.body) != "package" || r.result["truncated"] != true {
		t.Fatalf("second read: %v %q %v, want 7 bytes, truncated", r.err, r.body, r.result)
	}
	r = do(t, c, map[string]any{"op": "fs.read", "path": path}, nil)
	if r.err == nil || r.err.Code != abi.CodeOverBudget || !strings.Contains(r.err.Message, "limits.read_bytes = 20") {
		t.Fatalf("third read: %+v, want over_budget naming limits.read_bytes", r.err)
	}
}

// TestAuditBudgetEndsTheCall: records past the audit budget end the call; the op that passed
// it is still recorded, and one last record says why the call ended.
func TestAuditBudgetEndsTheCall(t *testing.T) {
	f := newFixture(t)
	c := f.budgetCall(policy.Budgets{AuditBytes: 4096})
	long := strings.Repeat("x", 5000) // each refusal carries a path capped at 1 KiB
	n := 0
	for c.Stop() == nil && n < 100 {
		do(t, c, map[string]any{"op": "fs.read", "path": "/nowhere/" + long}, nil)
		n++
	}
	if !errors.Is(c.Stop(), ErrOverBudget) || !strings.Contains(c.Stop().Error(), "limits.audit_bytes = 4096") {
		t.Fatalf("after %d calls Stop() = %v", n, c.Stop())
	}
	recs := f.audit.Records()
	if n < 2 || n > 4 || len(recs) != n+1 || recs[len(recs)-1].Op != "budget" {
		t.Fatalf("%d calls, %d records (last %+v); want 2-4 calls, each recorded, then one budget record", n, len(recs), recs[len(recs)-1])
	}
}

// TestRefusalsCountAsHostCalls: requests the runtime refused (bad pointers) count too.
func TestRefusalsCountAsHostCalls(t *testing.T) {
	f := newFixture(t)
	c := f.budgetCall(policy.Budgets{HostCalls: 3})
	for i := 0; i < 3; i++ {
		c.Refused(context.Background(), abi.CodeInvalid, "bad pointer")
	}
	if c.Stop() != nil {
		t.Fatal("stopped at the budget, not past it")
	}
	c.Refused(context.Background(), abi.CodeInvalid, "bad pointer")
	if !errors.Is(c.Stop(), ErrOverBudget) {
		t.Fatalf("Stop() = %v", c.Stop())
	}
}

// TestBudgetsOfGitAndCLI: cli.run spends limits.provider_calls; git.diff, git.status and
// git.log each spend one of limits.read_files and their output's size of read_bytes, and the
// byte budget left cuts a diff the way it cuts fs.read.
func TestBudgetsOfGitAndCLI(t *testing.T) {
	t.Run("cli.run provider calls", func(t *testing.T) {
		f, _ := cliFixture(t, "echo ran\n", nil)
		f.env.Budgets = policy.Budgets{ProviderCalls: 1}
		c := cliCall(f)
		if r := do(t, c, abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"}, nil); r.err != nil || string(r.body) != "ran\n" {
			t.Fatalf("first run: %v %q", r.err, r.body)
		}
		r := do(t, c, abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"}, nil)
		wantCode(t, r, abi.CodeOverBudget, "limits.provider_calls = 1")
	})
	t.Run("git.diff read bytes", func(t *testing.T) {
		g := newGitFixture(t)
		g.env.Budgets = policy.Budgets{ReadBytes: 30}
		c := g.gitCall()
		r := do(t, c, abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffUnstaged}, nil)
		if r.err != nil || len(r.body) != 30 || r.result["truncated"] != true {
			t.Fatalf("diff cut at the budget: %v %d bytes %v", r.err, len(r.body), r.result["truncated"])
		}
		recs := g.audit.Records()
		if last := recs[len(recs)-1]; last.Bytes != 30 {
			t.Errorf("audit bytes %d, want 30", last.Bytes)
		}
		r = do(t, c, abi.GitDiffRequest{Op: abi.OpGitDiff, Path: g.repo, Mode: abi.GitDiffStaged}, nil)
		wantCode(t, r, abi.CodeOverBudget, "limits.read_bytes = 30")
	})
	t.Run("git.status and git.log read files and bytes", func(t *testing.T) {
		g := newGitFixture(t)
		g.env.Budgets = policy.Budgets{ReadFiles: 2, ReadBytes: 1 << 20}
		c := g.gitCall()
		r := do(t, c, abi.GitStatusRequest{Op: abi.OpGitStatus, Path: g.repo}, nil)
		if r.err != nil {
			t.Fatalf("status: %v", r.err)
		}
		recs := g.audit.Records()
		// The audit counts the bytes git wrote (the porcelain listing), not the entries.
		if last := recs[len(recs)-1]; last.Bytes < 100 {
			t.Errorf("status audited as %d bytes", last.Bytes)
		}
		if r := do(t, c, abi.GitLogRequest{Op: abi.OpGitLog, Path: g.repo}, nil); r.err != nil {
			t.Fatalf("log: %v", r.err)
		}
		recs = g.audit.Records()
		if last := recs[len(recs)-1]; last.Bytes < 40 {
			t.Errorf("log audited as %d bytes", last.Bytes)
		}
		r = do(t, c, abi.GitLogRequest{Op: abi.OpGitLog, Path: g.repo}, nil)
		wantCode(t, r, abi.CodeOverBudget, "limits.read_files = 2")
	})
}
