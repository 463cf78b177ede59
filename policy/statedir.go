package policy

import (
	"os"
	"path/filepath"
)

// StateDir is pal's state directory: $XDG_STATE_HOME/pal when XDG_STATE_HOME is absolute,
// else $HOME/.local/state/pal; "" when neither is set to an absolute path. The trust store,
// the audit log, the compile cache key and the threads file ([memory] path = "state") live
// there. getenv nil means os.Getenv.
func StateDir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pal")
	}
	if home := getenv("HOME"); home != "" && filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "pal")
	}
	return ""
}

// stateFile is name in StateDir, or "" when there is no state directory.
func stateFile(getenv func(string) string, name string) string {
	if d := StateDir(getenv); d != "" {
		return filepath.Join(d, name)
	}
	return ""
}
