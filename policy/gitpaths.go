package policy

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// DeniedName applies the path rules to abs by name only, without touching the filesystem:
// abs must be absolute and inside a root, and no component of its spelling relative to that
// root may match a deny glob. It is for names that need not exist on disk, such as the paths
// of a git diff (a deleted file has none). It returns the rule or reason that refuses abs, and
// "" when the name passes.
func (p *Paths) DeniedName(abs string) string {
	if strings.IndexByte(abs, 0) >= 0 {
		return "contains a NUL byte"
	}
	if !filepath.IsAbs(abs) {
		return "is not an absolute path"
	}
	real, ok := p.toReal(filepath.Clean(abs))
	if !ok {
		return "is outside every allowed root"
	}
	rd := p.rootOf(real)
	if rd == nil {
		return "is outside every allowed root"
	}
	if !p.spelledInScope(real) {
		return "is outside the MCP client's roots"
	}
	if rule, denied := p.deny.match(splitPath(relTo(rd.path, real))); denied {
		return fmt.Sprintf("matches deny rule %q", rule)
	}
	return ""
}

// Within reports whether abs, an absolute path free of symlinks, lies inside one of the roots.
// It applies no deny glob: it is for places that are not read as files, such as a
// repository's git directory, which the default deny list names.
func (p *Paths) Within(abs string) bool {
	if !filepath.IsAbs(abs) {
		return false
	}
	clean := filepath.Clean(abs)
	return p.rootOf(clean) != nil && p.inScope(clean)
}

// LinkCount returns the number of hard links of the file fi describes; 1 where the platform
// does not say.
func LinkCount(fi fs.FileInfo) uint64 { return linkCount(fi) }
