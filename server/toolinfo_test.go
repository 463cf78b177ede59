package server

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pal-mcp/pal/policy"
)

func TestSummary(t *testing.T) {
	long := strings.Repeat("word ", 40)
	for _, tc := range []struct{ in, want string }{
		{"One sentence only.", "One sentence only."},
		{"First part: a, b, c. Second sentence here.", "First part: a, b, c."},
		{"Use it, e.g. for this. Then more.", "Use it, e.g. for this."},
		{"Version 1.2 is fine. More.", "Version 1.2 is fine."},
		{"Spread\nover   lines. Next.", "Spread over lines."},
		{"Ask? Yes.", "Ask?"},
		{"", ""},
	} {
		if got := summary(tc.in); got != tc.want {
			t.Errorf("summary(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := summary(long)
	if utf8.RuneCountInString(got) > SummaryRunes || !strings.HasSuffix(got, "…") || strings.Contains(got, "  ") {
		t.Errorf("long summary %q (%d runes)", got, utf8.RuneCountInString(got))
	}
}

// TestToolInfosShowTheGrant: the built-in tools report their summary and the capabilities
// pal.toml leaves them; what a narrowed tool declares but is not granted is listed apart.
func TestToolInfosShowTheGrant(t *testing.T) {
	e := newEngine(t)
	p := policy.Default()
	p.Tools.Tool["chat"] = policy.ToolPolicy{Capabilities: []policy.Capability{policy.CapModelGenerate, policy.CapFSRead}}
	s := newServer(t, Options{Modules: builtins(t, e), Policy: p})
	infos := s.ToolInfos()
	if len(infos) != len(s.Tools()) {
		t.Fatalf("%d infos for %d tools", len(infos), len(s.Tools()))
	}
	byName := map[string]ToolInfo{}
	for _, in := range infos {
		byName[in.Name] = in
		if in.Summary == "" || strings.Contains(in.Summary, "\n") || utf8.RuneCountInString(in.Summary) > SummaryRunes {
			t.Errorf("%s: summary %q", in.Name, in.Summary)
		}
	}
	chat := byName["chat"]
	if !slices.Equal(chat.Grant, []policy.Capability{policy.CapFSRead, policy.CapModelGenerate}) && !slices.Equal(chat.Grant, []policy.Capability{policy.CapModelGenerate, policy.CapFSRead}) {
		t.Errorf("chat grant %v", chat.Grant)
	}
	if !slices.Contains(chat.Withheld, policy.CapFSList) || slices.Contains(chat.Withheld, policy.CapFSRead) {
		t.Errorf("chat withheld %v", chat.Withheld)
	}
	if c := byName["challenge"]; !slices.Equal(c.Grant, []policy.Capability{policy.CapHostInfo}) || len(c.Withheld) != 0 || !strings.HasPrefix(c.Summary, "When the user pushes back") {
		t.Errorf("challenge %+v", c)
	}
	if v := byName["version"]; !slices.Equal(v.Grant, []policy.Capability{policy.CapHostInfo}) || len(v.Withheld) != 0 {
		t.Errorf("version %+v", v)
	}
}
