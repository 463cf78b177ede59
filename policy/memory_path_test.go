package policy

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestMemoryPath: [memory] path is "" (in memory) by default; "state" is the state file; a
// relative path is relative to the file that sets it; "~" is the home directory.
func TestMemoryPath(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("HOME", "/home/someone")
	if got := Default().Memory.Path; got != "" {
		t.Fatalf("default memory.path = %q, want \"\" (in memory)", got)
	}
	for _, tc := range []struct{ value, want string }{
		{`"state"`, filepath.Join(state, "pal", "threads.db")},
		{`"threads.db"`, "@/threads.db"},
		{`"../x/t.db"`, "@/../x/t.db"},
		{`"/abs/t.db"`, "/abs/t.db"},
		{`"~/t.db"`, "/home/someone/t.db"},
		{`""`, ""},
	} {
		file := writeConfig(t, "[memory]\npath = "+tc.value+"\n")
		c, err := Load(file)
		if err != nil {
			t.Fatalf("%s: %v", tc.value, err)
		}
		want := tc.want
		if len(want) > 0 && want[0] == '@' {
			want = filepath.Join(filepath.Dir(file), want[1:])
		}
		if c.Memory.Path != want {
			t.Errorf("path = %s: got %q, want %q", tc.value, c.Memory.Path, want)
		}
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "")
	if _, err := Load(writeConfig(t, "[memory]\npath = \"state\"\n")); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("\"state\" without a state directory: %v", err)
	}
}
