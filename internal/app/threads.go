package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"

	"github.com/pal-mcp/pal/internal/privfs"
	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
)

// openThreads returns the conversation store: in memory when [memory] path is empty or
// inMemory is set, else
// the bbolt file it names. checkPrivateDirs has made the file's directory (0700, owned, not
// inside a root); here the file itself is checked before bbolt opens it: created 0600 if
// missing, not a symlink, a regular file owned by this user with one link, and not readable
// by group or others, since it holds prompts and replies.
func openThreads(cfg *policy.Config, inMemory bool, logger *slog.Logger) (*memory.Store, error) {
	mc := memory.Config{TTL: cfg.Memory.TTL.Duration, MaxTurns: cfg.Memory.MaxTurns,
		MaxThreadBytes: cfg.Limits.ThreadBytes, MaxTotalBytes: cfg.Limits.ThreadsTotalBytes}
	path := cfg.Memory.Path
	if path == "" || inMemory {
		return memory.New(mc), nil
	}
	where := originOf(cfg, "memory.path")
	f, err := privfs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("memory.path: %w (%s)", err, where)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("memory.path: %w (%s)", err, where)
	}
	if goruntime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("memory.path: %s has mode %v; it holds conversations, so pal wants it private: chmod 600 %s (%s)",
			path, fi.Mode().Perm(), path, where)
	}
	s, err := memory.OpenBolt(path, mc, memory.BoltOptions{})
	if err != nil {
		return nil, fmt.Errorf("memory.path: %w (%s)", err, where)
	}
	st := s.Stats()
	level := slog.LevelInfo
	if st.Discarded > 0 {
		level = slog.LevelWarn
	}
	logger.Log(context.Background(), level, "conversation threads on disk", "path", path, "threads", st.Threads, "bytes", st.Bytes,
		"discarded_unreadable", st.Discarded, "dropped_over_caps", st.Evicted)
	return s, nil
}
