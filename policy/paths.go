package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pal-mcp/pal/runtime/abi"
)

// MaxSymlinkHops is how many symlinks one path may pass through before it is refused as a loop.
const MaxSymlinkHops = 40

// Default caps of the path rules (pal.toml [paths]).
const (
	DefaultMaxFileBytes   = 1_000_000 // bytes per file read
	DefaultMaxListEntries = 2000      // entries per listing
	DefaultMaxDepth       = 8         // directory levels per listing
	DefaultMaxImageBytes  = 20 << 20  // bytes per image file model.generate sends
)

// Caps are the size, count and depth caps of Paths. A zero field means its default.
type Caps struct {
	MaxFileBytes   int64 // bytes a read may return; default 1,000,000
	MaxListEntries int   // entries a listing may return; default 2,000
	MaxDepth       int   // directory levels a listing may descend; default 8
	// MaxImageBytes is the largest image file model.generate may send; default 20 MiB.
	MaxImageBytes int64
	// AllowHardLinks lets reads open regular files with more than one hard link; default
	// false: such a file may be a link to one outside every root.
	AllowHardLinks bool
}

func (c Caps) withDefaults() Caps {
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = DefaultMaxFileBytes
	}
	if c.MaxListEntries <= 0 {
		c.MaxListEntries = DefaultMaxListEntries
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.MaxImageBytes <= 0 {
		c.MaxImageBytes = DefaultMaxImageBytes
	}
	return c
}

// Paths is the path allowlist: a set of roots, each opened as an os.Root, deny globs and caps.
// Every file a tool reads or lists goes through it. It is safe for concurrent use; Close it
// when done.
//
// A path is accepted when, in this order: it is absolute; after lexical cleaning it lies
// inside a root; none of its components relative to that root matches a deny glob; resolving
// it component by component inside the root, following symlinks (at most MaxSymlinkHops), never
// leaves the root; none of the components of the resolved path matches a deny glob. The file is
// then opened through the os.Root and must be the very file that was checked.
type Paths struct {
	roots   []*rootDir // disjoint: none lies inside another
	aliases []alias    // longest prefix first
	deny    denyList
	caps    Caps

	// scoped marks a Paths made by Narrow: it shares the roots above, and every path must
	// also lie inside one of scope (real, symlink-free directories: the client's roots
	// intersected with the trusted ones; none refuses every path).
	scoped     bool
	scope      []string
	scopeNames []string // scope, and the client roots' spellings through a symlink
}

// rootDir is one allowed root.
type rootDir struct {
	path string // absolute and free of symlinks
	root *os.Root
}

// alias maps a spelling of a root (as configured, or its real path) to its real path.
type alias struct {
	prefix string
	real   string
}

// NewPaths opens roots (absolute directories) as os.Roots and compiles deny (globs, see
// DefaultDeny). A root that is missing, not a directory, the filesystem root, the home
// directory itself, a system directory (/etc, /proc, /sys, /dev and beneath) or whose own path
// matches a deny glob is refused with ErrBadRoot. Roots inside other roots are merged into
// them. An empty roots list gives a Paths that refuses every path.
func NewPaths(roots []string, deny []string, caps Caps) (*Paths, error) {
	rules, err := compileDeny(deny)
	if err != nil {
		return nil, err
	}
	p := &Paths{deny: rules, caps: caps.withDefaults()}

	type cand struct{ configured, real string }
	var cands []cand
	for _, r := range roots {
		if !filepath.IsAbs(r) {
			return nil, fmt.Errorf("%w %q: not an absolute path", ErrBadRoot, r)
		}
		clean := filepath.Clean(r)
		real, err := filepath.EvalSymlinks(clean)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrBadRoot, r, errors.Unwrap(err))
		}
		st, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrBadRoot, r, errors.Unwrap(err))
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%w %q: not a directory", ErrBadRoot, r)
		}
		if why := tooBroad(real); why != "" {
			return nil, fmt.Errorf("%w %q: %s", ErrBadRoot, r, why)
		}
		for _, spelling := range []string{clean, real} {
			if rule, bad := rules.match(splitPath(spelling)); bad {
				return nil, fmt.Errorf("%w %q: matches deny rule %q", ErrBadRoot, r, rule)
			}
		}
		cands = append(cands, cand{clean, real})
	}

	// Keep the outermost roots; a root inside another is reached through the outer one.
	byLen := slices.Clone(cands)
	slices.SortStableFunc(byLen, func(a, b cand) int { return len(a.real) - len(b.real) })
	for _, c := range byLen {
		inside := false
		for _, kept := range p.roots {
			if within(kept.path, c.real) {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		root, err := os.OpenRoot(c.real)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("%w %q: %w", ErrBadRoot, c.configured, err)
		}
		p.roots = append(p.roots, &rootDir{path: c.real, root: root})
	}
	for _, c := range cands {
		for _, a := range []alias{{c.configured, c.real}, {c.real, c.real}} {
			if !slices.Contains(p.aliases, a) {
				p.aliases = append(p.aliases, a)
			}
		}
	}
	slices.SortStableFunc(p.aliases, func(a, b alias) int { return len(b.prefix) - len(a.prefix) })
	return p, nil
}

// tooBroad explains why a real root path may not be a root, or returns "".
func tooBroad(real string) string {
	if filepath.Dir(real) == real {
		return "the filesystem root may not be a root"
	}
	if home, err := os.UserHomeDir(); err == nil {
		if h, err := filepath.EvalSymlinks(home); err == nil {
			if h == real {
				return "the home directory itself may not be a root; name a project directory"
			}
			if within(real, h) {
				return "a directory that holds the home directory may not be a root; name a project directory"
			}
		}
	}
	if filepath.Separator == '/' {
		for _, sys := range systemTrees {
			if within(sys, real) {
				return "system directories may not be roots"
			}
		}
		if slices.Contains(sharedDirs, real) {
			return "a directory shared by many users or programs may not be a root; name a project directory beneath it"
		}
	}
	return ""
}

// systemTrees are refused as roots together with everything beneath them.
var systemTrees = []string{"/etc", "/proc", "/sys", "/dev", "/boot"}

// sharedDirs are refused as roots themselves; a project beneath one is fine.
var sharedDirs = []string{
	"/tmp", "/var", "/var/tmp", "/run", "/home", "/Users", "/usr", "/usr/local", "/opt", "/srv",
	"/mnt", "/media", "/bin", "/sbin", "/lib", "/lib64", "/root", "/private", "/private/tmp",
	"/private/var", "/Volumes", "/Applications", "/Library", "/System",
}

// Close closes every root. On a Paths made by Narrow, which shares its roots, it does nothing.
func (p *Paths) Close() error {
	if p.scoped {
		return nil
	}
	var errs []error
	for _, r := range p.roots {
		errs = append(errs, r.root.Close())
	}
	return errors.Join(errs...)
}

// Roots returns the roots in use (real paths, nested roots merged), sorted; for a Paths made
// by Narrow, the client's roots in force.
func (p *Paths) Roots() []string {
	if p.scoped {
		return slices.Clone(p.scope)
	}
	out := make([]string, len(p.roots))
	for i, r := range p.roots {
		out[i] = r.path
	}
	slices.Sort(out)
	return out
}

// Caps returns the caps in force (defaults filled in).
func (p *Paths) Caps() Caps { return p.caps }

// Resolved is a path that passed every rule: it exists, lies inside Root, and neither its
// spelling nor its target matches a deny glob.
type Resolved struct {
	Path string      // the path as the client gave it, lexically cleaned
	Root string      // the root it lies in (absolute, symlink-free)
	Rel  string      // the resolved path relative to Root, "/"-separated, symlink-free; "." for Root
	Info fs.FileInfo // Lstat of the resolved object (never a symlink)

	root     *rootDir
	rel      []string // Rel as components
	given    string   // Path before cleaning, for messages
	spelling []string // the requested path relative to Root, as components

	allowHardLinks bool // Caps.AllowHardLinks
}

// Abs is the resolved absolute path.
func (r Resolved) Abs() string { return filepath.Join(r.Root, filepath.FromSlash(r.Rel)) }

// Open opens the resolved object read-only through its os.Root, one component at a time
// without following symlinks, and checks that it is the same file that was resolved; a file
// or directory swapped in between (a race) is refused with ErrChanged.
func (r Resolved) Open() (*os.File, error) {
	if r.root == nil {
		return nil, errors.New("policy: Open on a zero Resolved")
	}
	// No symlink is followed on the way (openInRoot): a directory swapped for one since the
	// path was resolved makes the open fail, and the same-file check catches any other swap.
	f, err := openInRoot(r.root.root, r.rel, false)
	if err != nil {
		if errors.Is(err, errLoop) || errors.Is(err, errNotDir) {
			return nil, pathErr(r.given, ErrChanged, "changed while it was being opened")
		}
		return nil, osPathErr(r.given, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, osPathErr(r.given, err)
	}
	if !os.SameFile(st, r.Info) {
		f.Close()
		return nil, pathErr(r.given, ErrChanged, "changed while it was being opened")
	}
	if n := linkCount(st); n > 1 && st.Mode().IsRegular() && !r.allowHardLinks {
		f.Close()
		return nil, pathErr(r.given, ErrDenied, fmt.Sprintf("has %d hard links; a hard link can bring a file from outside "+
			"the roots inside, so such files are refused (paths.allow_hard_links)", n))
	}
	return f, nil
}

// FileInfo describes a file that was read.
type FileInfo struct {
	Path      string    // as the client gave it, cleaned
	Root      string    // the root it lies in
	Rel       string    // resolved path relative to Root, "/"-separated
	Size      int64     // bytes on disk when opened
	Modified  time.Time // modification time, UTC
	Truncated bool      // only the first maxBytes bytes were returned
}

// Check resolves abs under every rule and requires a regular file; it reads nothing. Use it
// for images and other files read by a caller with its own size cap, then Resolved.Open.
func (p *Paths) Check(abs string) (Resolved, error) {
	res, err := p.resolve(abs)
	if err != nil {
		return Resolved{}, err
	}
	if err := requireRegular(res); err != nil {
		return Resolved{}, err
	}
	return res, nil
}

// Resolve applies every path rule to abs and reports where it leads, without opening it: what
// `pal policy explain` shows.
func (p *Paths) Resolve(abs string) (Resolved, error) { return p.resolve(abs) }

// ReadFile reads the regular file abs under every rule. maxBytes <= 0, or not smaller than the
// per-file cap, means "the whole file, up to the cap": a larger file is refused with
// ErrTooLarge. A maxBytes below the cap asks for at most that many bytes: a larger file is
// returned cut, with Truncated set.
func (p *Paths) ReadFile(abs string, maxBytes int64) ([]byte, FileInfo, error) {
	res, err := p.resolve(abs)
	if err != nil {
		return nil, FileInfo{}, err
	}
	if err := requireRegular(res); err != nil {
		return nil, FileInfo{}, err
	}
	limit, cut := p.caps.MaxFileBytes, false
	if maxBytes > 0 && maxBytes < limit {
		limit, cut = maxBytes, true
	}
	f, err := res.Open()
	if err != nil {
		return nil, FileInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, FileInfo{}, osPathErr(res.given, err)
	}
	if !st.Mode().IsRegular() {
		return nil, FileInfo{}, pathErr(res.given, ErrNotRegular, "is not a regular file")
	}
	tooLarge := func(size int64) error {
		return pathErr(res.given, ErrTooLarge, abi.ReasonTooLarge(size, limit))
	}
	if !cut && st.Size() > limit {
		return nil, FileInfo{}, tooLarge(st.Size())
	}
	var buf bytes.Buffer
	buf.Grow(int(min(st.Size(), limit)) + 1)
	if _, err := io.Copy(&buf, io.LimitReader(f, limit+1)); err != nil {
		return nil, FileInfo{}, osPathErr(res.given, err)
	}
	data := buf.Bytes()
	info := FileInfo{
		Path: res.Path, Root: res.Root, Rel: res.Rel,
		Size: st.Size(), Modified: st.ModTime().UTC(),
	}
	if int64(len(data)) > limit {
		if !cut { // the file grew after the size check
			return nil, FileInfo{}, tooLarge(int64(len(data)))
		}
		data, info.Truncated = data[:limit], true
	}
	return data, info, nil
}

func requireRegular(res Resolved) error {
	switch m := res.Info.Mode(); {
	case m.IsDir():
		return pathErr(res.given, ErrIsDir, abi.ReasonIsDir)
	case !m.IsRegular():
		return pathErr(res.given, ErrNotRegular, "is not a regular file")
	}
	return nil
}

// resolve applies every path rule to given and returns where it leads.
func (p *Paths) resolve(given string) (Resolved, error) {
	if strings.IndexByte(given, 0) >= 0 {
		return Resolved{}, pathErr(given, ErrDenied, "contains a NUL byte")
	}
	if !filepath.IsAbs(given) {
		return Resolved{}, pathErr(given, ErrRelative, abi.ReasonRelative)
	}
	clean := filepath.Clean(given)
	real, ok := p.toReal(clean)
	if !ok {
		return Resolved{}, pathErr(given, ErrOutsideRoots, abi.ReasonOutsideRoots)
	}
	rd := p.rootOf(real)
	if rd == nil { // cannot happen: every alias maps into a kept root
		return Resolved{}, pathErr(given, ErrOutsideRoots, abi.ReasonOutsideRoots)
	}
	if !p.spelledInScope(real) {
		return Resolved{}, pathErr(given, ErrOutsideRoots, "is outside the MCP client's roots (paths.client_roots)")
	}
	spelling := splitPath(relTo(rd.path, real))
	if rule, denied := p.deny.match(spelling); denied {
		return Resolved{}, denyErr(given, rule, abi.ReasonDenyRule(rule))
	}
	rel, info, err := p.walk(rd, spelling, given)
	if err != nil {
		return Resolved{}, err
	}
	if rule, denied := p.deny.match(rel); denied {
		return Resolved{}, denyErr(given, rule, fmt.Sprintf("resolves to a path that matches deny rule %q", rule))
	}
	root, relPath := rd.path, path.Join(append([]string{"."}, rel...)...)
	if p.scoped {
		// Narrowed: the path must still be inside a client root once symlinks are followed,
		// and that client root is its root (a git op looks for the repository no higher).
		abs := filepath.Join(rd.path, relName(rel))
		if root = p.scopeOf(abs); root == "" {
			return Resolved{}, pathErr(given, ErrOutsideRoots, "leads out of the MCP client's roots through a symlink (paths.client_roots)")
		}
		relPath = filepath.ToSlash(relName(splitPath(relTo(root, abs))))
	}
	return Resolved{
		Path: clean, Root: root, Rel: relPath, Info: info,
		root: rd, rel: rel, given: given, spelling: spelling, allowHardLinks: p.caps.AllowHardLinks,
	}, nil
}

// walk resolves comps inside rd one component at a time, following symlinks itself so that it
// can refuse any step out of the root. It returns the symlink-free components and the Lstat
// of the object they name.
func (p *Paths) walk(rd *rootDir, comps []string, given string) ([]string, fs.FileInfo, error) {
	resolved := make([]string, 0, len(comps))
	pending := slices.Clone(comps)
	hops := 0
	var info fs.FileInfo
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return nil, nil, pathErr(given, ErrEscapesRoot, abi.ReasonSymlinkEscape)
			}
			resolved = resolved[:len(resolved)-1]
			info = nil
			continue
		}
		next := append(slices.Clone(resolved), c)
		fi, err := rd.root.Lstat(relName(next))
		if err != nil {
			return nil, nil, osPathErr(given, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			hops++
			if hops > MaxSymlinkHops {
				return nil, nil, pathErr(given, ErrSymlinkLoop, "passes through too many symbolic links (a loop?)")
			}
			target, err := rd.root.Readlink(relName(next))
			if errors.Is(err, syscall.EINVAL) {
				// No longer a symlink: swapped since the Lstat.
				return nil, nil, pathErr(given, ErrChanged, "changed while it was being resolved")
			}
			if err != nil {
				return nil, nil, osPathErr(given, err)
			}
			if target == "" {
				return nil, nil, pathErr(given, ErrNotFound, "does not exist (empty symbolic link)")
			}
			if filepath.IsAbs(target) {
				real, ok := p.toReal(filepath.Clean(target))
				if !ok || !within(rd.path, real) {
					return nil, nil, pathErr(given, ErrEscapesRoot, abi.ReasonSymlinkEscape)
				}
				resolved = resolved[:0]
				target = relTo(rd.path, real)
			}
			pending = append(splitPath(target), pending...)
			info = nil
			continue
		}
		if len(pending) > 0 && !fi.IsDir() {
			return nil, nil, pathErr(given, ErrNotFound, "does not exist (a component is not a directory)")
		}
		resolved, info = next, fi
	}
	if info == nil { // the root itself, or a path that ended in ".."
		fi, err := rd.root.Lstat(relName(resolved))
		if err != nil {
			return nil, nil, osPathErr(given, err)
		}
		info = fi
	}
	return resolved, info, nil
}

// toReal maps an absolute, clean path through the root aliases to its real spelling.
func (p *Paths) toReal(clean string) (string, bool) {
	for _, a := range p.aliases {
		if within(a.prefix, clean) {
			return filepath.Join(a.real, relTo(a.prefix, clean)), true
		}
	}
	return "", false
}

func (p *Paths) rootOf(real string) *rootDir {
	for _, r := range p.roots {
		if within(r.path, real) {
			return r
		}
	}
	return nil
}

// osPathErr turns an error from the os into a PathError without repeating the os's text,
// which may hold the resolved path.
func osPathErr(given string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errNotDir):
		return pathErr(given, ErrNotFound, abi.ReasonNotFound)
	case errors.Is(err, fs.ErrPermission):
		return pathErr(given, ErrDenied, "is not readable (the filesystem refused access)")
	case errors.Is(err, errTooLong):
		return pathErr(given, ErrNotFound, "does not exist (a name is too long)")
	case errors.Is(err, errLoop):
		return pathErr(given, ErrSymlinkLoop, "passes through too many symbolic links (a loop?)")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err.Error() == "path escapes from parent" {
		return pathErr(given, ErrEscapesRoot, abi.ReasonEscapesRoot)
	}
	return &PathError{Path: given, Reason: "cannot be read: " + err.Error(), Err: err}
}

// within reports whether p is dir or lies beneath it (both absolute and clean).
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return strings.HasPrefix(p, dir)
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

// relTo is p relative to dir, for p within dir; "" when p == dir.
func relTo(dir, p string) string {
	if p == dir {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, dir), string(filepath.Separator))
}

// splitPath splits on any separator, dropping empty components and a volume name.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, filepath.VolumeName(p))
	return strings.FieldsFunc(p, func(r rune) bool { return r < 0x80 && os.IsPathSeparator(uint8(r)) })
}

// relName is the name os.Root methods take for components.
func relName(comps []string) string {
	if len(comps) == 0 {
		return "."
	}
	return filepath.Join(comps...)
}
