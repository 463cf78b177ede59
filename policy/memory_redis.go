package policy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// Values of [memory] backend.
const (
	// MemoryBackendLocal keeps threads in this process: in memory, or in the bbolt file of
	// [memory] path.
	MemoryBackendLocal = "local"
	// MemoryBackendRedis keeps threads in the Redis server of [memory.redis], where every pal
	// replica using the same server and prefix finds them.
	MemoryBackendRedis = "redis"
)

// RedisConfig is [memory.redis]: the Redis server that holds threads when [memory] backend is
// "redis". Every key is trusted-only: whoever names the server reads every conversation, so
// an untrusted project file must not be able to send threads to its own Redis.
type RedisConfig struct {
	// Addr is the server's host:port. Default "127.0.0.1:6379".
	Addr string `toml:"addr"`
	// Username is the ACL user (Redis 6 and later). Default "" (the default user).
	Username string `toml:"username"`
	// PasswordEnv names the environment variable holding the password (A-Z, 0-9, _).
	// Default "" (no password, unless PasswordFile is set).
	PasswordEnv string `toml:"password_env"`
	// PasswordFile is a file holding the password (surrounding white space is ignored); it
	// must not be readable by group or others. Relative to the file that sets it. Set
	// PasswordEnv or PasswordFile, not both.
	PasswordFile string `toml:"password_file"`
	// DB is the database number (0 to 15 on a default server). Default 0.
	DB int `toml:"db"`
	// Prefix starts every key pal writes, so that several teams or deployments can share one
	// server. Default "pal:".
	Prefix string `toml:"prefix"`
	// TLS connects with TLS (certificate checked against the system roots, or TLSCAFile).
	// Default false.
	TLS bool `toml:"tls"`
	// TLSCAFile is a PEM file of the certificate authorities to trust instead of the system
	// roots. Relative to the file that sets it. Setting it implies TLS.
	TLSCAFile string `toml:"tls_ca_file"`
}

// Defaults of [memory.redis].
const (
	DefaultRedisAddr   = "127.0.0.1:6379"
	DefaultRedisPrefix = "pal:"
)

// DefaultRedis returns [memory.redis] with its defaults.
func DefaultRedis() RedisConfig {
	return RedisConfig{Addr: DefaultRedisAddr, Prefix: DefaultRedisPrefix}
}

// maxRedisPrefix bounds [memory.redis] prefix.
const maxRedisPrefix = 64

func (m MemoryConfig) validate(file string) error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{File: file, Key: key, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidValue}
	}
	switch m.Backend {
	case MemoryBackendLocal, MemoryBackendRedis:
	default:
		return bad("memory.backend", "must be %q or %q, got %q", MemoryBackendLocal, MemoryBackendRedis, m.Backend)
	}
	r := m.Redis
	host, port, err := net.SplitHostPort(r.Addr)
	if err != nil || host == "" || port == "" {
		return bad("memory.redis.addr", "must be host:port, such as %q", DefaultRedisAddr)
	}
	if strings.ContainsAny(r.Addr, "@/") {
		return bad("memory.redis.addr", "must be host:port only; put the password in password_env or password_file")
	}
	if r.PasswordEnv != "" && r.PasswordFile != "" {
		return bad("memory.redis", "set password_env or password_file, not both")
	}
	if r.PasswordEnv != "" && !envNameRE.MatchString(r.PasswordEnv) {
		// The value is not repeated: a password pasted here by mistake must not reach a log.
		return bad("memory.redis.password_env", "must be the NAME of an environment variable (A-Z, 0-9, _), "+
			"not the password itself; if you pasted a password here, remove it from the file")
	}
	if r.PasswordFile != "" {
		if err := checkKeyFile(r.PasswordFile); err != nil {
			return bad("memory.redis.password_file", "%v", err)
		}
	}
	if r.DB < 0 || r.DB > 1<<16 {
		return bad("memory.redis.db", "must be a database number from 0, got %d", r.DB)
	}
	if r.Prefix == "" || len(r.Prefix) > maxRedisPrefix || strings.ContainsFunc(r.Prefix, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return bad("memory.redis.prefix", "must be 1 to %d printable ASCII characters without spaces", maxRedisPrefix)
	}
	return nil
}

// ErrNoRedisPassword: [memory.redis] names a password source that is empty.
var ErrNoRedisPassword = errors.New("no Redis password")

// RedisPassword returns the password of [memory.redis]: the contents of password_file when
// set (checked again for permissions), else the value of the variable password_env names,
// read with getenv, else "" (no password). Errors never hold the password.
func (r RedisConfig) RedisPassword(getenv func(string) string) (string, error) {
	if r.PasswordFile != "" {
		return readSecretFile("memory.redis.password_file", r.PasswordFile)
	}
	if r.PasswordEnv == "" {
		return "", nil
	}
	if p := strings.TrimSpace(getenv(r.PasswordEnv)); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("memory.redis.password_env: %s is not set: %w", r.PasswordEnv, ErrNoRedisPassword)
}

// readSecretFile reads a key or password file that key names: checked for permissions,
// bounded, trimmed, not empty (ErrNoKey). Errors name the file, never its contents.
func readSecretFile(key, path string) (string, error) {
	if err := checkKeyFile(path); err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s %q: %s", key, path, describeOSError(err))
	}
	if len(data) > maxKeyFileBytes {
		return "", fmt.Errorf("%s %q: larger than %d bytes", key, path, maxKeyFileBytes)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("%s %q is empty: %w", key, path, ErrNoKey)
	}
	return v, nil
}
