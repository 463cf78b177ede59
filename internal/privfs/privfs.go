// Package privfs makes and opens files that only the current user can write: the compile
// cache, the audit log, the trust store and the keys that authenticate them. A directory is
// made 0700 and refused when it is a symlink, owned by someone else, or writable by group or
// others, or when one of its ancestors lets another user replace it. A file is opened without
// following a symlink and refused, after the open, unless it is a regular file of the user's,
// not writable by group or others, with exactly one hard link.
//
// The checks use Unix owners and modes. On systems without them (Windows) only the symlink
// and file-type checks apply.
package privfs

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Errors of this package. Each is returned wrapped with the path it is about.
var (
	// ErrSymlink: the path (a directory, or a file's last component) is a symbolic link.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotOwner: the directory or file is owned by another user (for an ancestor: by
	// neither root nor the current user).
	ErrNotOwner = errors.New("is not owned by the current user")
	// ErrWritableByOthers: group or others may write it (for an ancestor: and it is not sticky).
	ErrWritableByOthers = errors.New("is writable by group or others")
	// ErrNotDir: a directory was expected.
	ErrNotDir = errors.New("is not a directory")
	// ErrNotRegular: a regular file was expected.
	ErrNotRegular = errors.New("is not a regular file")
	// ErrHardLinked: the file has more than one hard link, so another name may change it.
	ErrHardLinked = errors.New("has more than one hard link")
	// ErrBadPath: the path is not absolute or has a ".." element.
	ErrBadPath = errors.New("is not an absolute path without \"..\"")
	// ErrBadKey: a key file does not hold exactly KeySize bytes.
	ErrBadKey = errors.New("key file does not hold a key of the right size")
	// ErrTooLarge: a file is larger than the limit ReadFileLimit was given.
	ErrTooLarge = errors.New("is larger than allowed")
)

// KeySize is the size of a key made by LoadOrCreateKey: 32 bytes (256 bits).
const KeySize = 32

// pathError wraps a sentinel with the path it is about.
func pathError(path string, err error) error { return fmt.Errorf("%s %w", path, err) }

// EnsureDir makes dir and its missing parents with mode 0700 and checks that dir can be
// written by the current user only:
//   - dir must be absolute, without ".." elements (ErrBadPath);
//   - dir itself must not be a symlink (ErrSymlink), must be a directory (ErrNotDir), owned by
//     the effective user (ErrNotOwner) and not writable by group or others
//     (ErrWritableByOthers); read bits for others are left as they are;
//   - every ancestor, along the path as written and along the path with symlinks resolved,
//     must be owned by root or the effective user (ErrNotOwner) and must not be writable by
//     group or others unless it has the sticky bit (ErrWritableByOthers): /tmp (root, 1777)
//     is a good ancestor, a 0777 directory without the sticky bit is not.
//
// A missing directory is created 0700 whatever the umask.
func EnsureDir(dir string) error {
	if !filepath.IsAbs(dir) || hasDotDot(dir) {
		return pathError(dir, ErrBadPath)
	}
	dir = filepath.Clean(dir)
	// Check what exists before making anything, then everything once made.
	if err := checkAncestors(existingParent(dir)); err != nil {
		return err
	}
	if err := makeDirs(dir); err != nil {
		return err
	}
	if err := checkAncestors(filepath.Dir(dir)); err != nil {
		return err
	}
	return checkOwnDir(dir)
}

// EnsureDirs is EnsureDir for dir and then for each of its subdirectories names (single path
// elements), without checking dir's ancestors again for each: EnsureDir has just found dir
// the user's own, writable by no one else, under ancestors only root or the user can change,
// so no one else can have changed them or planted a name in dir since. Each subdirectory is
// made 0700 when missing and checked as EnsureDir checks dir itself (not a symlink, a
// directory, the user's, not writable by group or others). The checks of every ancestor for
// each of the cache's five directories were ~0.3 ms of pal's start (docs/RATIONALE.md §79).
func EnsureDirs(dir string, names ...string) error {
	if err := EnsureDir(dir); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	for _, name := range names {
		sub := filepath.Join(dir, name)
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/`+string(filepath.Separator)) {
			return pathError(sub, ErrBadPath)
		}
		if err := makeDirs(sub); err != nil {
			return err
		}
		if err := checkOwnDir(sub); err != nil {
			return err
		}
	}
	return nil
}

// existingParent is the nearest ancestor of dir that exists.
func existingParent(dir string) string {
	p := filepath.Dir(dir)
	for {
		if _, err := os.Lstat(p); err == nil || filepath.Dir(p) == p {
			return p
		}
		p = filepath.Dir(p)
	}
}

func hasDotDot(p string) bool {
	for _, e := range strings.Split(filepath.ToSlash(p), "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// makeDirs creates the missing directories of dir, top down, each 0700.
func makeDirs(dir string) error {
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		_, err := os.Lstat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("privfs: %w", err)
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		p := missing[i]
		if err := os.Mkdir(p, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // made by someone else meanwhile: checked below like any other
			}
			return fmt.Errorf("privfs: %w", err)
		}
		// The umask may have taken owner bits away; it cannot have added any.
		if err := os.Chmod(p, 0o700); err != nil {
			return fmt.Errorf("privfs: %w", err)
		}
	}
	return nil
}

// checkOwnDir checks dir itself, without following a symlink.
func checkOwnDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("privfs: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return pathError(dir, ErrSymlink)
	}
	if !fi.IsDir() {
		return pathError(dir, ErrNotDir)
	}
	return checkOwnerAndMode(dir, fi)
}

// checkOwnerAndMode refuses an object not owned by the effective user or writable by others.
func checkOwnerAndMode(path string, fi fs.FileInfo) error {
	if !ownerChecks {
		return nil
	}
	uid, _, ok := statOwner(fi)
	if !ok {
		return pathError(path, ErrNotOwner)
	}
	if uid != euid() {
		return pathError(path, ErrNotOwner)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return pathError(path, ErrWritableByOthers)
	}
	return nil
}

// checkAncestors checks parent and every directory above it, both along parent as written
// (each prefix followed if it is a symlink, since whoever can write a symlink's directory can
// re-point it) and along parent with symlinks resolved.
func checkAncestors(parent string) error {
	if !ownerChecks {
		return nil
	}
	if err := checkChain(parent); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(parent)
	if err != nil {
		return fmt.Errorf("privfs: %w", err)
	}
	if real != parent {
		return checkChain(real)
	}
	return nil
}

// checkChain checks p and every directory above it with checkAncestor.
func checkChain(p string) error {
	for {
		if err := checkAncestor(p); err != nil {
			return err
		}
		up := filepath.Dir(p)
		if up == p {
			return nil
		}
		p = up
	}
}

// checkAncestor: owned by root or the effective user, and not writable by group or others
// unless sticky (in a sticky directory only an entry's owner may rename or remove it).
func checkAncestor(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("privfs: %w", err)
	}
	if !fi.IsDir() {
		return pathError(p, ErrNotDir)
	}
	uid, _, ok := statOwner(fi)
	if !ok || (uid != 0 && uid != euid()) {
		return pathError(p, ErrNotOwner)
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return pathError(p, ErrWritableByOthers)
	}
	return nil
}

// OpenFile opens path with flag (os.O_* values) and, when it creates the file, perm. The last
// component is not followed if it is a symlink (ErrSymlink). After the open the file itself is
// checked: a regular file (ErrNotRegular), owned by the effective user (ErrNotOwner), not
// writable by group or others (ErrWritableByOthers), one hard link only (ErrHardLinked).
// The directories above path are not checked here: make them with EnsureDir.
func OpenFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if !ownerChecks {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, pathError(path, ErrSymlink)
		}
	}
	f, err := os.OpenFile(path, flag|openFlags, perm)
	if err != nil {
		if errors.Is(err, errLoop) {
			return nil, pathError(path, ErrSymlink)
		}
		return nil, fmt.Errorf("privfs: %w", err)
	}
	if err := checkOpenFile(path, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkOpenFile checks the open file with fstat, so that what is checked is what was opened.
func checkOpenFile(path string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("privfs: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return pathError(path, ErrNotRegular)
	}
	if err := checkOwnerAndMode(path, fi); err != nil {
		return err
	}
	if ownerChecks {
		if _, nlink, _ := statOwner(fi); nlink != 1 {
			return pathError(path, ErrHardLinked)
		}
	}
	return nil
}

// ReadFile reads the whole of path, opened and checked as OpenFile does, into a buffer of the
// file's size (as os.ReadFile does: io.ReadAll's doubling from 512 bytes allocated and copied
// about twice a 5 MB file's size, a cost on the first call's path, docs/RATIONALE.md).
func ReadFile(path string) ([]byte, error) { return ReadFileLimit(path, math.MaxInt) }

// ReadFileLimit is ReadFile for a file of at most limit bytes: a larger one fails with
// ErrTooLarge, from its size before anything is read, or once more than limit bytes were read
// (a file that grows while it is read).
func ReadFileLimit(path string, limit int) ([]byte, error) {
	f, err := OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := 0
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		if fi.Size() > int64(limit) {
			return nil, fmt.Errorf("privfs: %s %w (%d bytes, at most %d)", path, ErrTooLarge, fi.Size(), limit)
		}
		size = int(fi.Size())
	}
	b := make([]byte, 0, size+1) // +1: the read that meets the end needs no growth
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > limit {
			return nil, fmt.Errorf("privfs: %s %w (at most %d bytes)", path, ErrTooLarge, limit)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("privfs: %w", err)
		}
		if len(b) == cap(b) { // the file grew: let append pick a larger buffer
			b = append(b, 0)[:len(b)]
		}
	}
}

// WriteFileAtomic replaces path with data: it writes a new file in path's directory (mode
// perm, which may not give group or others write), syncs it, renames it over path and syncs
// the directory. Readers see the old content or the new, never a mix. A symlink at path is
// replaced, not followed.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	if perm&0o022 != 0 {
		return pathError(path, ErrWritableByOthers)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("privfs: %w", err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("privfs: %w", err)
	}
	if err := tmp.Chmod(perm.Perm()); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("privfs: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable; errors are ignored (some file systems refuse it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// LoadOrCreateKey returns the KeySize-byte key stored in dir/name, creating it from
// crypto/rand (mode 0600) when it does not exist. dir is made and checked with EnsureDir;
// the key file is read back with ReadFile's checks, and must hold exactly KeySize bytes
// (ErrBadKey). name must be a plain file name. Two processes creating the key at once agree
// on one key: creation is serialised by a lock on dir.
func LoadOrCreateKey(dir, name string) ([]byte, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return nil, pathError(name, ErrBadPath)
	}
	if err := EnsureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	key, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("privfs: %w", err)
	}
	defer d.Close()
	if err := lockFile(d); err != nil {
		return nil, fmt.Errorf("privfs: lock %s: %w", dir, err)
	}
	defer unlockFile(d)
	key, err = readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("privfs: %w", err)
	}
	if err := WriteFileAtomic(path, key, 0o600); err != nil {
		return nil, err
	}
	return readKey(path)
}

// Lock takes an exclusive advisory lock (flock(2)) on the file at path, made 0600 if missing
// and opened with OpenFile's checks, waiting for it. unlock releases it. Where flock is not
// available (see the package doc) it only opens the file.
func Lock(path string) (unlock func() error, err error) {
	f, err := OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("privfs: lock %s: %w", path, err)
	}
	return f.Close, nil // closing the last descriptor releases the lock
}

func readKey(path string) ([]byte, error) {
	b, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != KeySize {
		return nil, pathError(path, ErrBadKey)
	}
	return b, nil
}

// Inside reports whether path is equal to or below one of roots, after resolving the symlinks
// of the part of each that exists (the rest is taken as written, ".." and all). A relative
// path is taken from the working directory. Use it to refuse a cache or audit directory that
// a root, and so a tool or a repository, could reach. When path cannot be resolved for a
// reason other than a missing component (a permission error, a loop), Inside answers true, so
// that a caller refusing on true refuses. Empty roots are ignored.
func Inside(path string, roots []string) bool {
	p, err := resolve(path)
	if err != nil {
		return true
	}
	for _, r := range roots {
		if r == "" {
			continue
		}
		rr, err := resolve(r)
		if err != nil {
			rr = filepath.Clean(r)
			if !filepath.IsAbs(rr) {
				return true
			}
		}
		if within(p, rr) {
			return true
		}
	}
	return false
}

// within reports whether the clean absolute path p is root or below it.
func within(p, root string) bool {
	if p == root {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(p, root)
}

// resolve returns p absolute, with the symlinks of its longest existing prefix resolved and
// the missing rest appended. Prefixes are taken from p as written, so "link/.." means the
// parent of link's target, as the kernel reads it.
func resolve(p string) (string, error) {
	if p == "" {
		return "", pathError(p, ErrBadPath)
	}
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		p = wd + string(filepath.Separator) + p
	}
	sep := string(filepath.Separator)
	elems := strings.Split(p, sep)
	for i := len(elems); i >= 1; i-- {
		prefix := strings.Join(elems[:i], sep)
		if prefix == "" || filepath.VolumeName(prefix) == prefix {
			prefix += sep
		}
		real, err := filepath.EvalSymlinks(prefix)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDirErr) {
				continue
			}
			return "", err
		}
		rest := elems[i:]
		out := filepath.Join(append([]string{real}, rest...)...)
		for _, e := range rest {
			if e == ".." {
				// ".." in the missing part was applied lexically and may have led back to
				// existing names: resolve once more (out has no ".." left).
				return resolve(out)
			}
		}
		return out, nil
	}
	return "", pathError(p, ErrBadPath)
}
