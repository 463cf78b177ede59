package policy

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// The values of paths.client_roots.
const (
	// ClientRootsNarrow (the default) makes the MCP client's roots the allowlist, within the
	// trusted roots: a client can narrow what tools read, never widen it.
	ClientRootsNarrow = "narrow"
	// ClientRootsOff ignores the client's roots.
	ClientRootsOff = "off"
)

// Caps on what pal takes from a client's roots/list reply; the client is not trusted.
const (
	// MaxClientRoots is how many roots of one reply are considered (64); the rest are
	// ignored, which can only narrow.
	MaxClientRoots = 64
	// MaxRootURIBytes is the longest root URI considered (4,096 bytes, PATH_MAX); a longer
	// one is ignored.
	MaxRootURIBytes = 4096
)

// ErrBadRootURI: a client root is not a file:// URI naming an absolute, plain path.
var ErrBadRootURI = errors.New("bad root URI")

// ParseRootURI turns one root URI of a client's roots/list reply into an absolute, clean
// path. Only "file" URIs on the local host ("file:///p", "file://localhost/p") are taken;
// the path is percent-decoded. Refused: other schemes, other hosts, user info, a query or a
// fragment, an encoded "/" or "\", "." or ".." or empty components (a trailing "/" is
// fine), NUL and control characters, and URIs longer than MaxRootURIBytes.
func ParseRootURI(uri string) (string, error) {
	bad := func(why string) (string, error) { return "", fmt.Errorf("%w: %s", ErrBadRootURI, why) }
	if len(uri) > MaxRootURIBytes {
		return bad(fmt.Sprintf("longer than %d bytes", MaxRootURIBytes))
	}
	u, err := url.Parse(uri)
	if err != nil {
		return bad("not a URI")
	}
	switch {
	case !strings.EqualFold(u.Scheme, "file"):
		return bad("not a file:// URI")
	case u.Opaque != "":
		return bad("not an absolute file:// URI")
	case u.User != nil:
		return bad("has user information")
	case u.Host != "" && !strings.EqualFold(u.Host, "localhost"):
		return bad("names another host")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(uri, "#"):
		return bad("has a query or a fragment")
	}
	if esc := strings.ToLower(u.EscapedPath()); strings.Contains(esc, "%2f") || strings.Contains(esc, "%5c") {
		return bad("has an encoded path separator")
	}
	p := u.Path
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("has a control character")
		}
	}
	if !strings.HasPrefix(p, "/") {
		return bad("has no absolute path")
	}
	body := strings.TrimSuffix(p[1:], "/")
	if body != "" {
		for _, c := range strings.Split(body, "/") {
			if c == "" || c == "." || c == ".." {
				return bad(`has an empty, "." or ".." component`)
			}
		}
	}
	abs := filepath.Clean(filepath.FromSlash("/" + body))
	if !filepath.IsAbs(abs) {
		return bad("has no absolute path")
	}
	return abs, nil
}

// ClientRoot is one root of a client's roots/list reply and what Narrow made of it.
type ClientRoot struct {
	URI  string   // as the client sent it, cut to 200 bytes for messages
	Path string   // the decoded path; "" when the URI was refused
	Dirs []string // the real directories it allows, inside the trusted roots; none when ignored
	// Ignored says why the root allows nothing ("" when Dirs is set).
	Ignored string
}

// Narrow returns the allowlist the client's roots leave: p intersected with the directories
// the root URIs name. A client root beneath a root of p narrows to that directory (resolved
// by p's own rules: inside a root, symlinks kept inside, deny globs, must be a directory); a
// client root that holds a root of p keeps that root whole; any other root is ignored (a root
// outside every trusted root never widens). Deny globs and caps stay p's. At most
// MaxClientRoots URIs are considered. When no URI allows anything the result refuses every
// path. The result shares p's open roots: it needs no Close (it is a no-op) and is usable
// until p is closed. The report has one entry per URI, in order.
func (p *Paths) Narrow(uris []string) (*Paths, []ClientRoot) {
	type unit struct{ prefix, real string }
	var units []unit // what a client root may hold whole
	if p.scoped {
		for _, s := range p.scope {
			units = append(units, unit{s, s})
		}
	} else {
		for _, a := range p.aliases {
			units = append(units, unit{a.prefix, a.real})
		}
	}
	report := make([]ClientRoot, 0, min(len(uris), MaxClientRoots+1))
	var dirs []string
	var names []string // spellings of the client roots that resolved through a symlink
	for i, uri := range uris {
		cr := ClientRoot{URI: clip(uri, 200)}
		if i >= MaxClientRoots {
			cr.Ignored = fmt.Sprintf("over the cap of %d roots", MaxClientRoots)
			report = append(report, cr)
			continue
		}
		abs, err := ParseRootURI(uri)
		if err != nil {
			cr.Ignored = err.Error()
			report = append(report, cr)
			continue
		}
		cr.Path = abs
		for _, u := range units {
			if within(abs, u.prefix) && !slices.Contains(cr.Dirs, u.real) {
				cr.Dirs = append(cr.Dirs, u.real)
			}
		}
		if len(cr.Dirs) == 0 {
			res, err := p.resolve(abs)
			switch {
			case err != nil:
				cr.Ignored = err.Error()
			case !res.Info.IsDir():
				cr.Ignored = fmt.Sprintf("%q is not a directory", abs)
			default:
				cr.Dirs = []string{res.Abs()}
				if real, ok := p.toReal(abs); ok && real != res.Abs() {
					names = append(names, real)
				}
			}
		}
		dirs = append(dirs, cr.Dirs...)
		report = append(report, cr)
	}
	// Keep the outermost directories; one inside another is reached through it.
	slices.SortStableFunc(dirs, func(a, b string) int { return len(a) - len(b) })
	scope := []string{}
	for _, d := range dirs {
		if !slices.ContainsFunc(scope, func(s string) bool { return within(s, d) }) {
			scope = append(scope, d)
		}
	}
	slices.Sort(scope)
	names = append(names, scope...)
	return &Paths{roots: p.roots, aliases: p.aliases, deny: p.deny, caps: p.caps, scope: scope, scopeNames: names, scoped: true}, report
}

// Narrowed reports whether p is the result of Narrow.
func (p *Paths) Narrowed() bool { return p.scoped }

// inScope reports whether real, an absolute real path, lies inside the client's roots (always
// true for a Paths that is not narrowed).
func (p *Paths) inScope(real string) bool {
	if !p.scoped {
		return true
	}
	return slices.ContainsFunc(p.scope, func(s string) bool { return within(s, real) })
}

// spelledInScope reports whether clean, an absolute path as spelled (root aliases mapped),
// lies inside the client's roots or one of their spellings through a symlink. The path it
// resolves to is checked with inScope.
func (p *Paths) spelledInScope(clean string) bool {
	if !p.scoped {
		return true
	}
	return slices.ContainsFunc(p.scopeNames, func(s string) bool { return within(s, clean) })
}

// scopeOf returns the client root holding real, or "" (p narrowed).
func (p *Paths) scopeOf(real string) string {
	for _, s := range p.scope {
		if within(s, real) {
			return s
		}
	}
	return ""
}

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
