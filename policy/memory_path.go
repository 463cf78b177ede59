package policy

import (
	"errors"
)

// MemoryPathState is the value of [memory] path that names the default file in the user's
// state directory: $XDG_STATE_HOME/pal/threads.db, else ~/.local/state/pal/threads.db.
const MemoryPathState = "state"

// StateThreadsPath is the file MemoryPathState stands for, or "" when there is no state
// directory (no absolute XDG_STATE_HOME and no home directory).
func StateThreadsPath(getenv func(string) string) string {
	return stateFile(getenv, "threads.db")
}

// resolveMemoryPath makes [memory] path absolute: "" stays "" (threads in memory),
// MemoryPathState is the state file, "~" is the home directory and a relative path is
// relative to dir, the directory of the file that sets it.
func resolveMemoryPath(p, dir string) (string, error) {
	switch p {
	case "":
		return "", nil
	case MemoryPathState:
		s := StateThreadsPath(nil)
		if s == "" {
			return "", errNoStateDir
		}
		return s, nil
	}
	return expandPath(p, dir)
}

var errNoStateDir = errors.New(`"state" needs a state directory: set XDG_STATE_HOME or HOME`)
