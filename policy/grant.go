package policy

import (
	"slices"
	"strings"

	"github.com/pal-mcp/pal/runtime/abi"
)

// Capability is an op class a tool may ask of the host (docs/abi.md).
type Capability string

// The capabilities of ABI 1, named once in runtime/abi.
const (
	CapFSRead        Capability = abi.CapFSRead        // read one file
	CapFSList        Capability = abi.CapFSList        // walk a directory
	CapModelGenerate Capability = abi.CapModelGenerate // model.resolve and model.generate
	CapModelList     Capability = abi.CapModelList     // list configured models
	CapThreadRead    Capability = abi.CapThreadRead    // read a conversation thread
	CapThreadWrite   Capability = abi.CapThreadWrite   // create and append to threads
	CapProgress      Capability = abi.CapProgress      // send progress notifications
	CapHostInfo      Capability = abi.CapHostInfo      // read server, limits and client info
	CapGitRead       Capability = abi.CapGitRead       // git status, diffs and log inside the roots
	CapCLIRun        Capability = abi.CapCLIRun        // run a program pal.toml lists in [[cli]]
)

// AllCapabilities lists every capability of ABI 1, in bit order (abi.KnownCapabilities' order).
var AllCapabilities = func() []Capability {
	out := make([]Capability, len(abi.KnownCapabilities))
	for i, c := range abi.KnownCapabilities {
		out[i] = Capability(c)
	}
	return out
}()

// Known reports whether c is a capability of ABI 1.
func (c Capability) Known() bool { return slices.Contains(AllCapabilities, c) }

func (c Capability) bit() uint32 {
	if i := slices.Index(AllCapabilities, c); i >= 0 {
		return 1 << uint(i)
	}
	return 0
}

// CapSet is an immutable set of capabilities. The zero value is empty.
type CapSet struct{ bits uint32 }

// NewCapSet returns the set of the known capabilities in caps; unknown names are dropped.
func NewCapSet(caps ...Capability) CapSet {
	var s CapSet
	for _, c := range caps {
		s.bits |= c.bit()
	}
	return s
}

// Has reports whether c is in the set.
func (s CapSet) Has(c Capability) bool {
	b := c.bit()
	return b != 0 && s.bits&b != 0
}

// Intersect returns the capabilities in both sets.
func (s CapSet) Intersect(o CapSet) CapSet { return CapSet{s.bits & o.bits} }

// Empty reports whether the set holds nothing.
func (s CapSet) Empty() bool { return s.bits == 0 }

// List returns the capabilities in the set, in AllCapabilities order.
func (s CapSet) List() []Capability {
	var out []Capability
	for _, c := range AllCapabilities {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

func (s CapSet) String() string { return abi.FormatGrant(s.Names()) }

// Names lists the set's capabilities as strings, in the order of AllCapabilities.
func (s CapSet) Names() []string {
	names := make([]string, 0, len(AllCapabilities))
	for _, c := range s.List() {
		names = append(names, string(c))
	}
	return names
}

// Grant returns what tool may do in a call: the capabilities it declares in its manifest,
// intersected with its ceiling. The ceiling is [tools.<tool>] capabilities when pal.toml sets
// it; otherwise everything the tool declares when builtin is true, and nothing for a tool from
// another module. A Limit set by an untrusted project file narrows it further. A disabled tool (ToolEnabled false) is granted nothing. Unknown capability
// names are dropped.
func (c *Config) Grant(tool string, declared []Capability, builtin bool) CapSet {
	if !c.ToolEnabled(tool) {
		return CapSet{}
	}
	want := NewCapSet(declared...)
	tp, ok := c.Tools.Tool[tool]
	if ok && tp.Limit != nil {
		want = want.Intersect(NewCapSet(tp.Limit...))
	}
	if ok && tp.Capabilities != nil {
		return want.Intersect(NewCapSet(tp.Capabilities...))
	}
	if builtin {
		return want
	}
	return CapSet{}
}

// ToolEnabled reports whether tool may be listed and called. version and listmodels always
// may; otherwise a tool in tools.disabled may not, and when tools.enabled is non-empty only the
// tools it names may. Names compare case-insensitively.
func (c *Config) ToolEnabled(tool string) bool {
	name := strings.ToLower(strings.TrimSpace(tool))
	if slices.Contains(EssentialTools, name) {
		return true
	}
	if slices.Contains(c.Tools.Disabled, name) {
		return false
	}
	return len(c.Tools.Enabled) == 0 || slices.Contains(c.Tools.Enabled, name)
}
