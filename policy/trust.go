package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pal-mcp/pal/internal/privfs"
)

// TrustStore records the project files the user trusts, by real path and sha256, the way
// `direnv allow` does: a file whose bytes change is untrusted again. It lives in the user's
// state directory, where a project cannot write.
type TrustStore struct {
	// Path is the JSON file; see DefaultTrustStorePath.
	Path string
}

// TrustRecord is one trusted file.
type TrustRecord struct {
	Path      string    `json:"path"`   // real path (symlinks resolved)
	SHA256    string    `json:"sha256"` // hex sha256 of its bytes when trusted
	TrustedAt time.Time `json:"trusted_at"`
}

type trustFile struct {
	Version int           `json:"version"`
	Files   []TrustRecord `json:"files"`
}

// ErrTrustStore: the trust store could not be read or written.
var ErrTrustStore = errors.New("trust store")

// maxTrustStoreBytes bounds the store file.
const maxTrustStoreBytes = 4 << 20

// DefaultTrustStorePath is $XDG_STATE_HOME/pal/trusted.json, else
// ~/.local/state/pal/trusted.json; "" when neither can be found.
func DefaultTrustStorePath(getenv func(string) string) string {
	return stateFile(getenv, "trusted.json")
}

// List returns the trusted files. A missing store holds none.
func (s *TrustStore) List() ([]TrustRecord, error) {
	if s == nil || s.Path == "" {
		return nil, nil
	}
	f, err := privfs.OpenFile(s.Path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTrustStore, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTrustStoreBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s", ErrTrustStore, s.Path, describeOSError(err))
	}
	if len(data) > maxTrustStoreBytes {
		return nil, fmt.Errorf("%w %s: larger than %d bytes", ErrTrustStore, s.Path, maxTrustStoreBytes)
	}
	var tf trustFile
	if err := json.Unmarshal(data, &tf); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrTrustStore, s.Path, err)
	}
	return tf.Files, nil
}

// IsTrusted reports whether the store holds realPath with this hex sha256.
func (s *TrustStore) IsTrusted(realPath, sum string) (bool, error) {
	recs, err := s.List()
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(recs, func(r TrustRecord) bool { return r.Path == realPath && r.SHA256 == sum }), nil
}

// Trust records file (a pal.toml, or a directory holding one) as trusted with the sha256 of
// its current bytes, replacing any earlier record of the same file. The file must parse as a
// configuration, so that a typo is found now rather than at the next start.
func (s *TrustStore) Trust(file string) (TrustRecord, error) {
	real, data, err := readProjectFile(file)
	if err != nil {
		return TrustRecord{}, err
	}
	if _, _, err := Default().decodeOver(real, data); err != nil {
		return TrustRecord{}, err
	}
	sum := sha256.Sum256(data)
	rec := TrustRecord{Path: real, SHA256: hex.EncodeToString(sum[:]), TrustedAt: time.Now().UTC().Truncate(time.Second)}
	err = s.update(func(recs []TrustRecord) []TrustRecord {
		recs = slices.DeleteFunc(recs, func(r TrustRecord) bool { return r.Path == real })
		return append(recs, rec)
	})
	return rec, err
}

// Revoke removes file (a pal.toml, or a directory holding one) from the store and reports
// whether it was there.
func (s *TrustStore) Revoke(file string) (bool, error) {
	real, err := projectFilePath(file)
	if err != nil {
		return false, err
	}
	found := false
	err = s.update(func(recs []TrustRecord) []TrustRecord {
		return slices.DeleteFunc(recs, func(r TrustRecord) bool {
			if r.Path == real {
				found = true
				return true
			}
			return false
		})
	})
	return found, err
}

// update reads the store, applies change and writes it back, under an exclusive lock on the
// file Path+".lock", so that two `pal trust` at once both land: without it, each would read
// the same records and the second write would drop the first one's.
func (s *TrustStore) update(change func([]TrustRecord) []TrustRecord) error {
	if s == nil || s.Path == "" {
		return fmt.Errorf("%w: no state directory (set XDG_STATE_HOME or HOME)", ErrTrustStore)
	}
	if err := privfs.EnsureDir(filepath.Dir(s.Path)); err != nil {
		return fmt.Errorf("%w: %w", ErrTrustStore, err)
	}
	unlock, err := privfs.Lock(s.Path + ".lock")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTrustStore, err)
	}
	defer unlock()
	recs, err := s.List()
	if err != nil {
		return err
	}
	recs = change(recs)
	slices.SortFunc(recs, func(a, b TrustRecord) int {
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
	data, err := json.MarshalIndent(trustFile{Version: 1, Files: recs}, "", "  ")
	if err != nil {
		return err
	}
	if err := privfs.WriteFileAtomic(s.Path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("%w: %w", ErrTrustStore, err)
	}
	return nil
}

// projectFilePath returns the real path of file, or of file/pal.toml when file is a directory.
func projectFilePath(file string) (string, error) {
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		file = filepath.Join(file, "pal.toml")
	}
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return "", &ConfigError{File: file, Msg: describeOSError(err), Err: ErrInvalidValue}
	}
	return filepath.Abs(real)
}

func readProjectFile(file string) (string, []byte, error) {
	real, err := projectFilePath(file)
	if err != nil {
		return "", nil, err
	}
	data, err := readConfigFile(real)
	return real, data, err
}
