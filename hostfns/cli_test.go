package hostfns

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

// fakeCLI writes a shell script into a fresh directory (the "temp PATH") and returns its path.
func fakeCLI(t *testing.T, body string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "fakecli")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// cliFixture configures one CLI and a fake server environment holding a provider key, a
// variable the entry names and one it does not.
func cliFixture(t *testing.T, script string, mod func(*policy.CLIConfig)) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	exe := fakeCLI(t, script)
	entry := policy.CLIConfig{Name: "fake", Executable: exe, Args: []string{"-o", "json"}, AllowedArgs: []string{"--model", "flash"},
		Env: []string{"PATH", "FAKE_LANG", "PIDFILE"}, Timeout: policy.Duration{Duration: 20 * time.Second}, OutputBytes: 1 << 20}
	if mod != nil {
		mod(&entry)
	}
	f.env.CLIs = []policy.CLIConfig{entry}
	f.env.CLIKeyEnv = []string{"OPENAI_API_KEY", "GEMINI_API_KEY"}
	fakeEnv := map[string]string{
		"PATH":           filepath.Dir(exe) + ":/usr/bin:/bin",
		"FAKE_LANG":      "en",
		"PIDFILE":        filepath.Join(t.TempDir(), "pid"),
		"OPENAI_API_KEY": secret,
		"UNNAMED":        "unnamed-canary",
		"SNEAKY":         "prefix-" + secret,
	}
	f.env.LookupEnv = func(k string) (string, bool) { v, ok := fakeEnv[k]; return v, ok }
	return f, fakeEnv["PIDFILE"]
}

func cliCall(f *fixture) *Call { return f.call(abi.CapCLIRun) }

func TestCLIRunOffByDefault(t *testing.T) {
	f := newFixture(t)
	r := do(t, cliCall(f), abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "gemini"}, []byte("hi"))
	wantCode(t, r, abi.CodeDenied, "cli.run is off")
	r = do(t, cliCall(f), abi.CLIListRequest{Op: abi.OpCLIList}, nil)
	if r.err != nil || len(r.result["clis"].([]any)) != 0 {
		t.Fatalf("cli.list with nothing configured: %+v", r)
	}
	// Configured, but the tool was not granted cli.run.
	g, _ := cliFixture(t, "echo hi\n", nil)
	wantCode(t, do(t, g.call(abi.CapFSRead), abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"}, nil), abi.CodeNotGranted, "cli.run")
}

func TestCLIRunPromptArgsAndEnvironment(t *testing.T) {
	t.Setenv("PAL_SERVER_ONLY_CANARY", "server-env-canary") // the real environment must not leak either
	f, _ := cliFixture(t, `echo "ARGS:$*"
env | sort | sed 's/^/ENV:/'
echo "PWD:$(pwd)"
echo "STDIN:$(cat)"
echo "key=`+secret+`" >&2
`, nil)
	r := do(t, cliCall(f), abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake", Args: []string{"--model", "flash"}}, []byte("review this change"))
	if r.err != nil {
		t.Fatalf("cli.run: %v", r.err)
	}
	out := string(r.body)
	for _, want := range []string{"ARGS:-o json --model flash", "STDIN:review this change", "PWD:" + f.root, "ENV:FAKE_LANG=en", "ENV:PATH="} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var envLines []string
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "ENV:"); ok {
			name, _, _ = strings.Cut(name, "=")
			envLines = append(envLines, name)
		}
	}
	// sh itself may add PWD, SHLVL and _; nothing else but what the entry names.
	for _, n := range envLines {
		switch n {
		case "PATH", "FAKE_LANG", "PIDFILE", "PWD", "SHLVL", "_", "OLDPWD":
		default:
			t.Errorf("the program received %s, which the entry does not name", n)
		}
	}
	for _, leak := range []string{secret, "unnamed-canary", "server-env-canary", "OPENAI_API_KEY"} {
		if strings.Contains(out, leak) || strings.Contains(r.result["stderr"].(string), leak) {
			t.Errorf("%q reached the program or the reply:\n%s\n%v", leak, out, r.result["stderr"])
		}
	}
	if r.result["exit_code"].(float64) != 0 || r.result["timed_out"] != false {
		t.Errorf("result: %v", r.result)
	}
	recs := f.audit.Records()
	if last := recs[len(recs)-1]; last.Op != abi.OpCLIRun || last.Decision != "allow" || last.Path != "fake" {
		t.Errorf("audit: %+v", last)
	}
}

func TestCLIRunRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*policy.CLIConfig)
		req     abi.CLIRunRequest
		code    abi.Code
		mention string
	}{
		{"unlisted argument", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"--yolo"}}, abi.CodeDenied, `"--yolo" is not in the allowed_args`},
		{"argument glued to a listed one", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"--model=pro"}}, abi.CodeDenied, "allowed_args"},
		// A client (or the model driving it) sets clink's args: each is matched whole, so no
		// spelling of an unlisted flag, and no listed value smuggling another, gets through.
		{"auto-approve flag with a value", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"--yolo=true"}}, abi.CodeDenied, `"--yolo=true"`},
		{"flag and value in one argument", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"--model flash"}}, abi.CodeDenied, `"--model flash"`},
		{"split form of an unlisted value", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"--model", "pro"}}, abi.CodeDenied, `"pro"`},
		{"newline smuggling a flag", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"flash\n--yolo"}}, abi.CodeDenied, `"flash\n--yolo"`},
		{"NUL smuggling a flag", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"flash\x00--yolo"}}, abi.CodeDenied, `"flash\x00--yolo"`},
		{"listed argument with a trailing space", nil, abi.CLIRunRequest{Name: "fake", Args: []string{"flash "}}, abi.CodeDenied, "allowed_args"},
		{"unknown CLI", nil, abi.CLIRunRequest{Name: "codex"}, abi.CodeNotFound, "configured: fake"},
		{"directory outside the roots", nil, abi.CLIRunRequest{Name: "fake", Dir: "/"}, abi.CodeDenied, "outside"},
		{"provider key named", func(e *policy.CLIConfig) { e.Env = append(e.Env, "OPENAI_API_KEY") },
			abi.CLIRunRequest{Name: "fake"}, abi.CodeDenied, "provider key"},
		{"variable holding a key", func(e *policy.CLIConfig) { e.Env = append(e.Env, "SNEAKY") },
			abi.CLIRunRequest{Name: "fake"}, abi.CodeDenied, "SNEAKY"},
		{"not executable", func(e *policy.CLIConfig) { os.Chmod(e.Executable, 0o644) }, abi.CLIRunRequest{Name: "fake"}, abi.CodeUnavailable, "not an executable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			f, _ := cliFixture(t, "touch "+marker+"\n", tt.mod)
			tt.req.Op = abi.OpCLIRun
			r := do(t, cliCall(f), tt.req, nil)
			wantCode(t, r, tt.code, tt.mention)
			if strings.Contains(r.err.Message, secret) {
				t.Fatalf("refusal leaked the key: %s", r.err.Message)
			}
			if exe := f.env.CLIs[0].Executable; strings.Contains(r.err.Message, exe) {
				t.Fatalf("refusal told the tool the program's path %s: %s", exe, r.err.Message)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the program ran")
			}
		})
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(t *testing.T, pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// TestCLIHangingIsKilledWithItsChildren: a program that starts a child and hangs is killed,
// child included, at its timeout; the same on cancel.
func TestCLIHangingIsKilledWithItsChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	script := `sleep 300 &
echo $! > "$PIDFILE"
echo started
wait
`
	for _, how := range []string{"timeout", "cancel"} {
		t.Run(how, func(t *testing.T) {
			f, pidFile := cliFixture(t, script, func(e *policy.CLIConfig) {
				if how == "timeout" {
					e.Timeout.Duration = 700 * time.Millisecond
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if how == "cancel" {
				time.AfterFunc(700*time.Millisecond, cancel)
			}
			h, _ := json.Marshal(abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"})
			start := time.Now()
			raw := cliCall(f).Call(ctx, h)
			took := time.Since(start)
			head, body, _ := abi.Split(raw)
			var rep abi.Reply
			json.Unmarshal(head, &rep)
			if took > 10*time.Second {
				t.Fatalf("took %s", took)
			}
			switch how {
			case "timeout":
				var res abi.CLIRunResult
				json.Unmarshal(rep.Result, &res)
				if rep.Error != nil || !res.TimedOut || res.ExitCode != -1 || !strings.Contains(string(body), "started") {
					t.Fatalf("reply %s %q", head, body)
				}
			case "cancel":
				if rep.Error == nil || rep.Error.Code != abi.CodeCancelled {
					t.Fatalf("reply %s", head)
				}
			}
			data, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			deadline := time.Now().Add(3 * time.Second)
			for alive(t, pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(t, pid) {
				t.Fatalf("the child %d outlived the program", pid)
			}
		})
	}
}

func TestCLIOutputCapAndRedaction(t *testing.T) {
	f, _ := cliFixture(t, `echo "token `+secret+`"
head -c 200000 /dev/zero | tr '\0' 'x'
sleep 30
`, func(e *policy.CLIConfig) { e.OutputBytes = 1000 })
	start := time.Now()
	r := do(t, cliCall(f), abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"}, nil)
	if r.err != nil || r.result["truncated"] != true {
		t.Fatalf("capped run: %+v", r)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the program was not stopped at its output cap")
	}
	if strings.Contains(string(r.body), secret) || !strings.Contains(string(r.body), "[REDACTED") {
		t.Fatalf("key not redacted: %q", r.body[:80])
	}
	r = do(t, cliCall(f), abi.CLIListRequest{Op: abi.OpCLIList}, nil)
	clis := r.result["clis"].([]any)
	if len(clis) != 1 || clis[0].(map[string]any)["name"] != "fake" {
		t.Fatalf("cli.list: %v", r.result)
	}
	if b, _ := json.Marshal(r.result); strings.Contains(string(b), "fakecli") || strings.Contains(string(b), "PATH") {
		t.Fatalf("cli.list shows the executable or the environment: %s", b)
	}
}

func cliReplyCases() []replyCase {
	return []replyCase{
		{"cli.list", func() any { return abi.CLIListRequest{Op: abi.OpCLIList} }, nil, func() any { return &abi.CLIListResult{} }},
		{"cli.run", func() any { return abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"} }, []byte("p"), func() any { return &abi.CLIRunResult{} }},
	}
}

// TestCLIRepliesFitTheABITypes is TestRepliesFitTheABITypes for the cli ops, which need a
// configured program.
func TestCLIRepliesFitTheABITypes(t *testing.T) {
	f, _ := cliFixture(t, "cat; echo oops >&2\n", nil)
	for _, tc := range cliReplyCases() {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, cliCall(f)) })
	}
}

// TestCLIRunHeartbeats: an AI CLI runs for minutes, so while it runs the client gets the
// heartbeats a model call gets (limits.heartbeat_interval), each counted against
// limits.progress_notifications, and none after cli.run returns. The program here ends only
// once a heartbeat has reached the client.
func TestCLIRunHeartbeats(t *testing.T) {
	f, mark := cliFixture(t, `while [ ! -e "$PIDFILE" ]; do sleep 0.01; done
echo answered
`, func(e *policy.CLIConfig) { e.Timeout = policy.Duration{Duration: 30 * time.Second} })
	f.env.Heartbeat = 10 * time.Millisecond
	f.env.Budgets = policy.Budgets{ProgressNotifications: 3}
	var (
		mu       sync.Mutex
		msgs     []string
		returned bool
	)
	c := f.env.NewCall(CallSpec{Tool: "clink", CallID: "c1", Grant: policy.NewCapSet(abi.CapCLIRun),
		Progress: func(_, _ float64, msg string) {
			mu.Lock()
			defer mu.Unlock()
			if returned {
				t.Errorf("heartbeat after cli.run returned: %q", msg)
			}
			msgs = append(msgs, msg)
			os.WriteFile(mark, nil, 0o644)
		}})
	r := do(t, c, abi.CLIRunRequest{Op: abi.OpCLIRun, Name: "fake"}, nil)
	mu.Lock()
	returned = true
	got := slices.Clone(msgs)
	mu.Unlock()
	if r.err != nil || r.result["timed_out"] != false || string(r.body) != "answered\n" {
		t.Fatalf("cli.run: %v %v %q", r.err, r.result, r.body)
	}
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("%d heartbeats (budget 3): %q", len(got), got)
	}
	for _, m := range got {
		if !strings.HasPrefix(m, "waiting for CLI fake: ") || !strings.HasSuffix(m, " elapsed") {
			t.Errorf("heartbeat %q", m)
		}
	}
}
