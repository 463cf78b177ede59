package policy

import (
	"slices"
	"testing"
)

func TestGrant(t *testing.T) {
	c := Default()
	c.Tools.Tool["chat"] = ToolPolicy{Capabilities: []Capability{CapFSRead, CapModelGenerate, CapHostInfo}}
	c.Tools.Tool["sealed"] = ToolPolicy{Capabilities: []Capability{}}
	c.Tools.Tool["userfs"] = ToolPolicy{Capabilities: []Capability{CapFSRead}}
	c.Tools.Tool["nocaps"] = ToolPolicy{} // a table without capabilities: no ceiling set
	c.Tools.Disabled = []string{"debug"}
	declared := []Capability{CapFSRead, CapFSList, CapModelGenerate, CapThreadRead, "git.push"}

	tests := []struct {
		tool    string
		builtin bool
		want    []Capability
	}{
		{"chat", true, []Capability{CapFSRead, CapModelGenerate}},                                // declared ∩ ceiling
		{"thinkdeep", true, []Capability{CapFSRead, CapFSList, CapModelGenerate, CapThreadRead}}, // no table: what it declares
		{"mytool", false, nil},                     // other module, no table: nothing
		{"userfs", false, []Capability{CapFSRead}}, // other module, granted
		{"sealed", true, nil},                      // empty ceiling
		{"nocaps", true, []Capability{CapFSRead, CapFSList, CapModelGenerate, CapThreadRead}},
		{"nocaps", false, nil},
		{"debug", true, nil}, // disabled
	}
	for _, tc := range tests {
		got := c.Grant(tc.tool, declared, tc.builtin)
		if !slices.Equal(got.List(), tc.want) {
			t.Errorf("Grant(%q, builtin=%v) = %v, want %v", tc.tool, tc.builtin, got, tc.want)
		}
		for _, cp := range AllCapabilities {
			if got.Has(cp) != slices.Contains(tc.want, cp) {
				t.Errorf("Grant(%q).Has(%s) = %v", tc.tool, cp, got.Has(cp))
			}
		}
		if got.Has("git.push") {
			t.Errorf("unknown capability granted to %q", tc.tool)
		}
	}
}

func TestToolEnabled(t *testing.T) {
	c := Default()
	c.Tools.Enabled = []string{"chat"}
	c.Tools.Disabled = []string{"chat", "version"}
	for tool, want := range map[string]bool{"chat": false, "debug": false, "version": true, "listmodels": true, " Version ": true} {
		if got := c.ToolEnabled(tool); got != want {
			t.Errorf("ToolEnabled(%q) = %v, want %v", tool, got, want)
		}
	}
	c.Tools.Disabled = nil
	if !c.ToolEnabled("CHAT") || c.ToolEnabled("debug") {
		t.Error("enabled list not applied")
	}
	if !Default().ToolEnabled("anything") {
		t.Error("default must enable every tool")
	}
}

func TestCapSet(t *testing.T) {
	s := NewCapSet(CapProgress, CapFSRead, "nope", CapFSRead)
	if !s.Has(CapFSRead) || !s.Has(CapProgress) || s.Has(CapFSList) || s.Has("nope") || s.Has("") {
		t.Fatalf("set = %v", s)
	}
	if s.String() != "{fs.read,progress}" || s.Empty() || !(CapSet{}).Empty() {
		t.Fatalf("String = %s", s)
	}
	if got := s.Intersect(NewCapSet(CapProgress, CapHostInfo)).List(); !slices.Equal(got, []Capability{CapProgress}) {
		t.Fatalf("intersect = %v", got)
	}
	for _, c := range AllCapabilities {
		if !c.Known() {
			t.Errorf("%s not known", c)
		}
	}
	for _, c := range []Capability{"fs.write", "net.fetch", "CLI.RUN", ""} {
		if c.Known() {
			t.Errorf("%q is not in ABI 1", c)
		}
	}
}
