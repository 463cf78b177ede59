package policy

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pal-mcp/pal/runtime/abi"
)

// maxWalkScan bounds how many directory entries one listing examines, counting the ones it
// leaves out (hidden, excluded, denied), so that a tree of millions of skipped files cannot
// make a listing run unbounded. Reaching it sets the truncated flag.
const maxWalkScan = 100_000

// ListOptions are a listing's own caps. Zero or negative means the policy's cap; a value above
// the policy's cap is lowered to it.
type ListOptions struct {
	MaxDepth   int // directory levels: 1 lists only the directory's own entries
	MaxEntries int // entries returned
}

// Entry is one listed file or directory.
type Entry struct {
	Path string `json:"path"` // absolute, beneath the path the client gave
	Kind string `json:"kind"` // "file" or "dir"
	Size int64  `json:"size"` // bytes, for files; 0 for directories
	Rel  string `json:"-"`    // relative to its root, "/"-separated, for the audit log
}

// Entry kinds.
const (
	KindFile = "file"
	KindDir  = "dir"
)

// List walks the directory abs, which must pass the same rules as ReadFile, and returns its
// files and directories sorted by path. The walk does not follow symlinks and leaves them out;
// it skips hidden entries (".name"), PAL's excluded build and vendor directories and editor
// litter, devices, sockets and pipes, and entries that match a deny glob. Directories at the
// depth cap are listed but not entered. truncated reports that the entry cap (or the internal
// scan bound) stopped the walk; the walk is breadth first, so what is returned is the part of
// the tree nearest to abs.
func (p *Paths) List(abs string, opt ListOptions) ([]Entry, bool, error) {
	res, err := p.resolve(abs)
	if err != nil {
		return nil, false, err
	}
	if !res.Info.IsDir() {
		return nil, false, pathErr(res.given, ErrNotDir, abi.ReasonNotDir)
	}
	maxDepth, maxEntries := p.caps.MaxDepth, p.caps.MaxListEntries
	if opt.MaxDepth > 0 && opt.MaxDepth < maxDepth {
		maxDepth = opt.MaxDepth
	}
	if opt.MaxEntries > 0 && opt.MaxEntries < maxEntries {
		maxEntries = opt.MaxEntries
	}

	type dir struct {
		rel      []string // resolved, relative to the root
		spelling []string // as the client spelled it, relative to the root
		abs      string   // as the client spelled it
		depth    int      // 1 for abs itself
	}
	queue := []dir{{rel: res.rel, spelling: res.spelling, abs: res.Path, depth: 1}}
	var entries []Entry
	scanned := 0
	truncated := false

walk:
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		// Every directory is opened again from the root, one component at a time, without
		// following a symlink: a directory swapped for a symlink since it was seen is left
		// out, never listed through. The top one must still be the directory resolved.
		f, err := openInRoot(res.root.root, d.rel, true)
		if err != nil {
			if d.depth == 1 {
				if errors.Is(err, errLoop) || errors.Is(err, errNotDir) {
					return nil, false, pathErr(res.given, ErrChanged, "changed while it was being listed")
				}
				return nil, false, osPathErr(res.given, err)
			}
			continue // vanished, unreadable or swapped below the top: leave it out
		}
		if d.depth == 1 {
			if st, err := f.Stat(); err != nil || !os.SameFile(st, res.Info) {
				f.Close()
				return nil, false, pathErr(res.given, ErrChanged, "changed while it was being listed")
			}
		}
		des, err := f.ReadDir(-1)
		if err != nil && d.depth == 1 {
			f.Close()
			return nil, false, osPathErr(res.given, err)
		}
		slices.SortFunc(des, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
		for _, de := range des {
			scanned++
			if scanned > maxWalkScan {
				truncated = true
				f.Close()
				break walk
			}
			name := de.Name()
			t := de.Type()
			isDir := t.IsDir()
			switch {
			case strings.HasPrefix(name, "."):
				continue
			case t&fs.ModeSymlink != 0:
				continue
			case isDir && matchesAny(excludedDirs, name):
				continue
			case !isDir && (!t.IsRegular() || matchesAny(excludedFiles, name)):
				continue
			}
			rel := append(slices.Clone(d.rel), name)
			spelling := append(slices.Clone(d.spelling), name)
			// The parents passed already: only runs ending at the new entry can match.
			if _, denied := p.deny.matchTail(rel); denied {
				continue
			}
			if _, denied := p.deny.matchTail(spelling); denied {
				continue
			}
			e := Entry{Path: filepath.Join(d.abs, name), Kind: KindDir, Rel: path.Join(rel...)}
			if !isDir {
				// Asked of the open directory, not by path: a parent swapped for a symlink
				// since cannot make this describe a file elsewhere.
				mode, size, err := lstatAt(f, name)
				if err != nil || mode != 0 {
					continue // vanished or changed type since ReadDir
				}
				e.Kind, e.Size = KindFile, size
			}
			if len(entries) >= maxEntries {
				truncated = true
				f.Close()
				break walk
			}
			entries = append(entries, e)
			if isDir && d.depth < maxDepth {
				queue = append(queue, dir{rel: rel, spelling: spelling, abs: e.Path, depth: d.depth + 1})
			}
		}
		f.Close()
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return entries, truncated, nil
}
