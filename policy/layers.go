package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultSystemFile is the system layer: an organisation's policy, which `locked = true`
// turns into ceilings.
const DefaultSystemFile = "/etc/pal/pal.toml"

// realSystemFile is DefaultSystemFile; tests point it elsewhere.
var realSystemFile = DefaultSystemFile

// Layer labels, in the order the layers apply. Every layer but the project file is trusted.
const (
	LayerDefault = "default"
	LayerSystem  = "system file"
	LayerUser    = "user file"
	LayerConfig  = "config file" // -config or PAL_CONFIG
	LayerEnv     = "environment"
	LayerProject = "project file"
)

// Errors of LoadLayers, wrapped in a *ConfigError that names the key and the file.
var (
	// ErrUntrusted: an untrusted project file tried to set a key only trusted layers may set,
	// or to widen a value.
	ErrUntrusted = errors.New("not allowed in an untrusted project file")
	// ErrLocked: a layer tried to widen a value the locked system file sets.
	ErrLocked = errors.New("widens a locked value")
)

// Sources says where each layer of the configuration comes from.
type Sources struct {
	// SystemFile is the system layer. "" means DefaultSystemFile. A missing file is skipped.
	// Naming another file is refused when DefaultSystemFile exists and is locked.
	SystemFile string
	// UserFile is the user layer. "" means $XDG_CONFIG_HOME/pal/pal.toml, else
	// ~/.config/pal/pal.toml. A missing file is skipped.
	UserFile string
	// ConfigFile is the file given with -config; "" means $PAL_CONFIG; it must exist.
	ConfigFile string
	// WorkDir is the directory pal started in: its pal.toml is the project layer, and it is
	// the root when no layer names one.
	WorkDir string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Trust decides whether the project file is trusted; nil means the store at
	// DefaultTrustStorePath.
	Trust *TrustStore
}

// LoadLayers builds the configuration from its layers: built-in defaults < system file < user
// file < config file (-config or $PAL_CONFIG) < environment < project file. A project file is
// applied as trusted only when the trust store holds its real path and sha256; otherwise it may
// only narrow (ErrUntrusted). When the system file says locked = true, every key it sets is a
// ceiling that no later layer may widen (ErrLocked). Config.Origins records which layer set
// each key.
func LoadLayers(src Sources) (*Config, error) {
	getenv := src.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	l := &loader{cfg: Default(), workDir: src.WorkDir}
	l.cfg.Origins = map[string]string{}

	system := src.SystemFile
	if system == "" {
		system = DefaultSystemFile
	} else if system != realSystemFile && systemFileLocked(realSystemFile) {
		return nil, &ConfigError{File: realSystemFile, Key: "locked", Err: ErrLocked,
			Msg: fmt.Sprintf("the system file is locked, so another system file (%s) may not replace it", system)}
	}
	if fileExists(system) {
		md, err := l.applyFile(system, LayerSystem, true)
		if err != nil {
			return nil, err
		}
		if l.cfg.Locked {
			l.lockBase, l.lockFile = l.cfg.clone(), system
			for _, r := range keyRules {
				if r.key != "locked" && r.defined(md.IsDefined, toolNamesIn(l.cfg)) {
					l.locked = append(l.locked, r)
				}
			}
		}
	}

	user := src.UserFile
	if user == "" {
		user = DefaultUserFile(getenv)
	}
	if user != "" && fileExists(user) {
		if _, err := l.applyFile(user, LayerUser, true); err != nil {
			return nil, err
		}
	}

	config := src.ConfigFile
	if config == "" {
		config = strings.TrimSpace(getenv("PAL_CONFIG"))
	}
	// The config file may be the user file itself (PAL_CONFIG=~/.config/pal/pal.toml): it is
	// applied once, so its warnings are printed once.
	if config != "" && !sameFile(config, user) {
		if _, err := l.applyFile(config, LayerConfig, true); err != nil {
			return nil, err
		}
	}

	next := l.cfg.clone()
	next.ApplyEnv(getenv)
	if err := l.checkLock(next, LayerEnv, ""); err != nil {
		return nil, err
	}
	l.cfg = next

	if src.WorkDir != "" {
		project := filepath.Join(src.WorkDir, "pal.toml")
		if fileExists(project) && !sameFile(project, config) {
			store := src.Trust
			if store == nil {
				store = &TrustStore{Path: DefaultTrustStorePath(getenv)}
			}
			if err := l.applyProject(project, store); err != nil {
				return nil, err
			}
		}
	}
	return l.cfg, nil
}

// loader holds the configuration while the layers apply.
type loader struct {
	cfg      *Config
	workDir  string
	lockBase *Config   // the configuration right after a locked system file
	lockFile string    // that file
	locked   []keyRule // the keys it set
}

// applyFile applies one trusted file.
func (l *loader) applyFile(path, layer string, trusted bool) (toml.MetaData, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return toml.MetaData{}, err
	}
	return l.apply(path, data, layer, trusted)
}

// applyProject applies the project file, as trusted when store holds its real path and the
// sha256 of the very bytes read.
func (l *loader) applyProject(path string, store *TrustStore) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return &ConfigError{File: path, Msg: describeOSError(err), Err: ErrInvalidValue}
	}
	data, err := readConfigFile(real)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	trusted, err := store.IsTrusted(real, hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	_, err = l.apply(real, data, LayerProject, trusted)
	return err
}

// apply decodes data over a copy of the configuration, checks it against the trust of its
// layer and against the lock, records origins, and only then keeps it.
func (l *loader) apply(path string, data []byte, layer string, trusted bool) (toml.MetaData, error) {
	base := l.cfg
	next, md, err := base.decodeOver(path, data)
	if err != nil {
		return md, err
	}
	if md.IsDefined("locked") && layer != LayerSystem {
		return md, &ConfigError{File: path, Key: "locked", Err: ErrInvalidValue,
			Msg: "only the system file (" + DefaultSystemFile + ") may lock the policy"}
	}
	names := toolNamesIn(next)
	if !trusted {
		if err := l.checkUntrusted(path, base, next, md, names); err != nil {
			return md, err
		}
	}
	label := layer + " " + path
	for _, r := range keyRules {
		if r.key == "tools.<name>.capabilities" {
			for _, n := range names {
				if md.IsDefined("tools", n, "capabilities") {
					next.Origins["tools."+n+".capabilities"] = label
				}
			}
		} else if r.defined(md.IsDefined, nil) {
			next.Origins[r.key] = label
		}
	}
	if err := l.checkLock(next, layer, path); err != nil {
		return md, err
	}
	l.cfg = next
	return md, nil
}

// checkUntrusted refuses what an untrusted project file may not do, and turns the tool tables
// it sets where no earlier layer set one into limits (they can then only take away).
func (l *loader) checkUntrusted(path string, base, next *Config, md toml.MetaData, names []string) error {
	dir := filepath.Dir(path)
	for _, r := range keyRules {
		if !r.defined(md.IsDefined, names) {
			continue
		}
		if !r.project {
			return &ConfigError{File: path, Key: r.key, Err: ErrUntrusted, Msg: fmt.Sprintf(
				"an untrusted project file may not set this key: it decides where pal writes, what it loads, "+
					"where requests and keys go, or what may be read; if you trust this file, run: pal trust %s", dir)}
		}
	}
	for name, tp := range next.Tools.Tool {
		if !md.IsDefined("tools", name, "capabilities") {
			continue
		}
		if old, ok := base.Tools.Tool[name]; !ok || old.Capabilities == nil {
			limit := tp.Capabilities
			if ok && old.Limit != nil {
				limit = NewCapSet(old.Limit...).Intersect(NewCapSet(limit...)).List()
				if limit == nil {
					limit = []Capability{}
				}
			}
			next.Tools.Tool[name] = ToolPolicy{Limit: limit}
		}
	}
	for _, r := range keyRules {
		if !r.defined(md.IsDefined, names) {
			continue
		}
		if w := r.widening(base, next, l.workDir); w != "" {
			return &ConfigError{File: path, Key: r.key, Err: ErrUntrusted, Msg: fmt.Sprintf(
				"an untrusted project file may only narrow pal's policy, and this %s; "+
					"if you trust this file, run: pal trust %s", w, dir)}
		}
	}
	return nil
}

// checkLock refuses next when it widens a key the locked system file sets. file is the file
// of the layer; for the environment the variable is taken from the key's origin.
func (l *loader) checkLock(next *Config, layer, file string) error {
	for _, r := range l.locked {
		w := r.widening(l.lockBase, next, l.workDir)
		if w == "" {
			continue
		}
		src := file
		if src == "" {
			src = next.Origins[r.key]
			if src == "" {
				src = layer
			}
		}
		return &ConfigError{File: src, Key: r.key, Err: ErrLocked, Msg: fmt.Sprintf(
			"the %s %s, but the system file %s is locked and sets this key", layer, w, l.lockFile)}
	}
	return nil
}

// decodeOver decodes data over a copy of c and validates it; c is not changed.
func (c *Config) decodeOver(path string, data []byte) (*Config, toml.MetaData, error) {
	var syntax map[string]any
	if _, err := toml.Decode(string(data), &syntax); err != nil {
		return nil, toml.MetaData{}, syntaxError(path, err)
	}
	next := c.clone()
	if next.Origins == nil {
		next.Origins = map[string]string{}
	}
	md, err := toml.Decode(string(data), next)
	if err != nil {
		return nil, md, decodeError(path, err)
	}
	if err := checkKeys(path, md); err != nil {
		return nil, md, err
	}
	absFile, err := filepath.Abs(path)
	if err != nil {
		return nil, md, &ConfigError{File: path, Msg: err.Error(), Err: ErrInvalidValue}
	}
	if err := next.resolvePaths(path, filepath.Dir(absFile), md); err != nil {
		return nil, md, err
	}
	if err := next.validate(path, md); err != nil {
		return nil, md, err
	}
	next.Sources = append(next.Sources, absFile)
	return next, md, nil
}

// DefaultUserFile is the user layer: $XDG_CONFIG_HOME/pal/pal.toml, else
// ~/.config/pal/pal.toml; "" when neither can be found.
func DefaultUserFile(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pal", "pal.toml")
	}
	if home := getenv("HOME"); home != "" && filepath.IsAbs(home) {
		return filepath.Join(home, ".config", "pal", "pal.toml")
	}
	return ""
}

func toolNamesIn(c *Config) []string {
	names := make([]string, 0, len(c.Tools.Tool))
	for n := range c.Tools.Tool {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// systemFileLocked reports whether the file at path exists and says locked = true. A file that
// exists but cannot be read or parsed counts as locked: it may be an organisation's policy.
func systemFileLocked(path string) bool {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return false
	}
	data, err := readConfigFile(path)
	if err != nil {
		return true
	}
	var v struct {
		Locked bool `toml:"locked"`
	}
	if _, err := toml.Decode(string(data), &v); err != nil {
		return true
	}
	return v.Locked
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// CheckProjectFile says what LoadLayers would do with file, a pal.toml, as an untrusted
// project file over the built-in defaults and the system file (DefaultSystemFile, with its
// lock when it says locked = true): nil when it would be accepted. The user file, the
// -config file and the environment differ from user to user and are left out.
func CheckProjectFile(file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pal-policy-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	_, err = LoadLayers(Sources{
		// The real system file itself: naming another one would be refused under its lock.
		SystemFile: realSystemFile,
		UserFile:   filepath.Join(tmp, "none.toml"),
		WorkDir:    filepath.Dir(abs),
		Getenv:     func(string) string { return "" },
		Trust:      &TrustStore{}, // no store: nothing is trusted
	})
	return err
}
