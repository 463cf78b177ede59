package policy

import "fmt"

// AuditConfig is [audit]: the audit log.
type AuditConfig struct {
	// Path is the JSON-lines audit file. Default $XDG_STATE_HOME/pal/audit.jsonl, else
	// ~/.local/state/pal/audit.jsonl.
	Path string `toml:"path"`
	// Enabled turns the audit log on. Default true.
	Enabled bool `toml:"enabled"`
	// MaxBytes is the size, in bytes, past which the file is rotated: it becomes
	// <path>.1 (the older ones shift to .2, .3, …) and a new file is started. 65,536 to
	// 1 GiB; 0 in a Config built by hand means the default. Default 16 MiB (16,777,216).
	MaxBytes int64 `toml:"max_bytes"`
	// Keep is how many rotated files are kept beside the current one (1 to 100); the oldest
	// is removed. 0 in a Config built by hand means the default. Default 3.
	Keep int `toml:"keep"`
}

// Defaults and bounds of [audit].
const (
	DefaultAuditMaxBytes = 16 << 20
	DefaultAuditKeep     = 3
	MinAuditMaxBytes     = 64 << 10
	MaxAuditMaxBytes     = 1 << 30
	MaxAuditKeep         = 100
)

// validate checks max_bytes and keep, and that an enabled log has a path.
func (a AuditConfig) validate(file string) error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{File: file, Key: key, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidValue}
	}
	if a.MaxBytes < MinAuditMaxBytes || a.MaxBytes > MaxAuditMaxBytes {
		return bad("audit.max_bytes", "must be %d to %d bytes, got %d", MinAuditMaxBytes, MaxAuditMaxBytes, a.MaxBytes)
	}
	if a.Keep < 1 || a.Keep > MaxAuditKeep {
		return bad("audit.keep", "must be 1 to %d, got %d", MaxAuditKeep, a.Keep)
	}
	return nil
}

// rotation returns MaxBytes and Keep with zero values replaced by the defaults.
func (a AuditConfig) rotation() (maxBytes int64, keep int) {
	maxBytes, keep = a.MaxBytes, a.Keep
	if maxBytes <= 0 {
		maxBytes = DefaultAuditMaxBytes
	}
	if keep <= 0 {
		keep = DefaultAuditKeep
	}
	return maxBytes, keep
}
