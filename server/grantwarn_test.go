package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/policy"
)

// TestEmptyGrantWarning: a module tool that declares capabilities and has no [tools.<name>]
// table is published, but the server warns at start, on stderr and (through the client log)
// to the first MCP client, and ToolInfos flags it for `pal tools`. A granted tool, a built-in
// tool and a tool that declares nothing get no warning.
func TestEmptyGrantWarning(t *testing.T) {
	e := newEngine(t)
	cases := []struct {
		name    string
		builtin bool
		caps    []policy.Capability // nil: no [tools.hostcall] table
		warn    bool
	}{
		{"module tool, no table", false, nil, true},
		{"module tool, table grants something else", false, []policy.Capability{policy.CapGitRead}, true},
		{"module tool, granted", false, []policy.Capability{policy.CapProgress}, false},
		{"built-in tool, no table", true, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Default()
			if tc.caps != nil {
				p.Tools.Tool["hostcall"] = policy.ToolPolicy{Capabilities: tc.caps}
			}
			var stderr bytes.Buffer
			clientLog := NewClientLog()
			logger := slog.New(slog.NewMultiHandler(slog.NewTextHandler(&stderr, nil), clientLog.Handler()))
			s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, tc.builtin)}, Policy: p,
				Env: testEnv(nil, nil), Logger: logger, ClientLog: clientLog})
			// The log lines are logfmt, which escapes the quotes around the tool's name.
			const want = `declares fs.read, fs.list, model.generate, progress but is granted none of them`
			if got := strings.Contains(stderr.String(), want); got != tc.warn {
				t.Errorf("warning on stderr: %v, want %v:\n%s", got, tc.warn, stderr.String())
			}
			early := false
			clientLog.mu.Lock()
			for _, n := range clientLog.early {
				if strings.Contains(n.Params.Data.(string), want) && n.Params.Level == "warning" {
					early = true
				}
			}
			clientLog.mu.Unlock()
			if early != tc.warn {
				t.Errorf("warning kept for the first client: %v, want %v", early, tc.warn)
			}
			for _, in := range s.ToolInfos() {
				switch in.Name {
				case "hostcall":
					if got := strings.HasPrefix(in.Warning, `tool "hostcall" `+want); got != tc.warn {
						t.Errorf("ToolInfo warning %q, want one: %v", in.Warning, tc.warn)
					}
				case "ping", "badptr": // declare nothing: need no grant
					if in.Warning != "" {
						t.Errorf("%s: warning %q for a tool that declares nothing", in.Name, in.Warning)
					}
				}
			}
		})
	}
}
