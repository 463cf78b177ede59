package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	goruntime "runtime"

	"github.com/pal-mcp/pal/internal/privfs"
	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
)

// openThreads returns the conversation store: in memory when inMemory is set or [memory]
// path is empty, else the bbolt file it names; with [memory] backend = "redis" (and not
// inMemory), the Redis server of [memory.redis] (openRedis). secret is given the Redis
// password, to be redacted everywhere.
//
// For the bbolt file, checkPrivateDirs has made the file's directory (0700, owned, not
// inside a root); here the file itself is checked before bbolt opens it: created 0600 if
// missing, not a symlink, a regular file owned by this user with one link, and not readable
// by group or others, since it holds prompts and replies.
func openThreads(cfg *policy.Config, inMemory bool, getenv func(string) string, secret func(string), logger *slog.Logger) (memory.Threads, error) {
	mc := memory.Config{TTL: cfg.Memory.TTL.Duration, MaxTurns: cfg.Memory.MaxTurns,
		MaxThreadBytes: cfg.Limits.ThreadBytes, MaxTotalBytes: cfg.Limits.ThreadsTotalBytes}
	if cfg.Memory.Backend == policy.MemoryBackendRedis && !inMemory {
		return openRedis(cfg, mc, getenv, secret, logger)
	}
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

// openRedis connects to [memory.redis]. Errors name the address and the file or variable of
// the password, never the password.
func openRedis(cfg *policy.Config, mc memory.Config, getenv func(string) string, secret func(string), logger *slog.Logger) (memory.Threads, error) {
	rc := cfg.Memory.Redis
	password, err := rc.RedisPassword(getenv)
	if err != nil {
		key := "memory.redis.password_env"
		if rc.PasswordFile != "" {
			key = "memory.redis.password_file"
		}
		return nil, fmt.Errorf("%w (%s)", err, originOf(cfg, key))
	}
	if password != "" {
		secret(password)
	}
	opts := memory.RedisOptions{Addr: rc.Addr, Username: rc.Username, Password: password, DB: rc.DB, Prefix: rc.Prefix}
	if rc.TLS || rc.TLSCAFile != "" {
		if opts.TLS, err = redisTLS(rc); err != nil {
			return nil, err
		}
	}
	s, err := memory.OpenRedis(mc, opts)
	if err != nil {
		return nil, fmt.Errorf("memory.backend = \"redis\": %w (%s)", err, originOf(cfg, "memory.redis.addr"))
	}
	logger.Info("conversation threads in Redis", "addr", rc.Addr, "db", rc.DB, "prefix", rc.Prefix, "tls", opts.TLS != nil)
	return s, nil
}

// redisTLS is the TLS configuration of [memory.redis]: TLS 1.2 or later, the server's
// certificate checked for its host name against the system roots or tls_ca_file.
func redisTLS(rc policy.RedisConfig) (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(rc.Addr)
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if rc.TLSCAFile != "" {
		pem, err := os.ReadFile(rc.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("memory.redis.tls_ca_file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("memory.redis.tls_ca_file %s: no PEM certificate in it", rc.TLSCAFile)
		}
	}
	return c, nil
}
