package policy

import (
	"fmt"
	"time"
)

// Budgets are the [limits] keys that bound what one tool call, and the whole process, may cost
// the host. They sit in [limits] beside call_timeout and memory_mb (LimitsConfig embeds
// Budgets). For every key a larger value is wider: a locked system file's value is a ceiling,
// and an untrusted project file may only lower it.
//
// Per tool call, a module that runs out of a budget is told so with an `over_budget` error
// reply; an op asked for again after that refusal, or any host call past host_calls or audit
// past audit_bytes, ends the call with an error naming the key.
type Budgets struct {
	// HostCalls is the most host calls (every `pal.call`, allowed or refused) one tool call
	// may make. Default 10,000.
	HostCalls int `toml:"host_calls"`
	// ReadBytes is the most file bytes one tool call may read (fs.read bodies and images read
	// from disk). A read that would pass it is cut short and marked truncated. Default 64 MiB
	// (67,108,864).
	ReadBytes int64 `toml:"read_bytes"`
	// ReadFiles is the most files one tool call may read (fs.read and images read from disk).
	// Default 1,000.
	ReadFiles int `toml:"read_files"`
	// ProviderCalls is the most model.generate requests one tool call may make. Default 50.
	ProviderCalls int `toml:"provider_calls"`
	// ProgressNotifications is the most progress ops one tool call may make. What reaches the
	// client is also coalesced (a burst of 4, then at most one every 250 ms, the last always
	// delivered before the result). Default 1,000.
	ProgressNotifications int `toml:"progress_notifications"`
	// AuditBytes is the most audit-log bytes one tool call may cause. Default 1 MiB
	// (1,048,576).
	AuditBytes int64 `toml:"audit_bytes"`

	// ThreadBytes caps what one conversation thread holds, every field counted (turns, file
	// and image names, initial context), in bytes. Default 8 MiB (8,388,608).
	ThreadBytes int64 `toml:"thread_bytes"`
	// ThreadsTotalBytes caps what all conversation threads of the process hold together, in
	// bytes; past it the least recently used threads are dropped. Default 128 MiB
	// (134,217,728). It may not be below thread_bytes.
	ThreadsTotalBytes int64 `toml:"threads_total_bytes"`
	// WaitingRequests is the most requests that may wait for a worker on stdio; past it a
	// request is answered at once with JSON-RPC error -32000 (server busy). Default 64.
	WaitingRequests int `toml:"waiting_requests"`
	// ConcurrentCalls is the most requests served at once, tool calls included (stdio
	// workers; tool calls over any transport). Default 8.
	ConcurrentCalls int `toml:"concurrent_calls"`
}

// DefaultHeartbeatInterval is limits.heartbeat_interval's default.
const DefaultHeartbeatInterval = 10 * time.Second

// Defaults of Budgets.
const (
	DefaultHostCalls             = 10_000
	DefaultReadBytes             = 64 << 20
	DefaultReadFiles             = 1_000
	DefaultProviderCalls         = 50
	DefaultProgressNotifications = 1_000
	DefaultAuditBytes            = 1 << 20
	DefaultThreadBytes           = 8 << 20
	DefaultThreadsTotalBytes     = 128 << 20
	DefaultWaitingRequests       = 64
	DefaultConcurrentCalls       = 8
)

// DefaultBudgets returns the built-in budgets.
func DefaultBudgets() Budgets {
	return Budgets{
		HostCalls:             DefaultHostCalls,
		ReadBytes:             DefaultReadBytes,
		ReadFiles:             DefaultReadFiles,
		ProviderCalls:         DefaultProviderCalls,
		ProgressNotifications: DefaultProgressNotifications,
		AuditBytes:            DefaultAuditBytes,
		ThreadBytes:           DefaultThreadBytes,
		ThreadsTotalBytes:     DefaultThreadsTotalBytes,
		WaitingRequests:       DefaultWaitingRequests,
		ConcurrentCalls:       DefaultConcurrentCalls,
	}
}

// budgetRange is one key's valid range, for validation and the lock rules.
type budgetRange struct {
	key      string
	get      func(b *Budgets) int64
	min, max int64
}

// budgetRanges lists every Budgets key with its valid range. The upper bounds are sanity
// ceilings (a typo of three zeros is an error, not a silent loss of the protection).
var budgetRanges = []budgetRange{
	{"limits.host_calls", func(b *Budgets) int64 { return int64(b.HostCalls) }, 1, 10_000_000},
	{"limits.read_bytes", func(b *Budgets) int64 { return b.ReadBytes }, 1, 64 << 30},
	{"limits.read_files", func(b *Budgets) int64 { return int64(b.ReadFiles) }, 1, 10_000_000},
	{"limits.provider_calls", func(b *Budgets) int64 { return int64(b.ProviderCalls) }, 1, 100_000},
	{"limits.progress_notifications", func(b *Budgets) int64 { return int64(b.ProgressNotifications) }, 1, 10_000_000},
	{"limits.audit_bytes", func(b *Budgets) int64 { return b.AuditBytes }, 4 << 10, 16 << 30},
	{"limits.thread_bytes", func(b *Budgets) int64 { return b.ThreadBytes }, 4 << 10, 4 << 30},
	{"limits.threads_total_bytes", func(b *Budgets) int64 { return b.ThreadsTotalBytes }, 4 << 10, 64 << 30},
	{"limits.waiting_requests", func(b *Budgets) int64 { return int64(b.WaitingRequests) }, 1, 100_000},
	{"limits.concurrent_calls", func(b *Budgets) int64 { return int64(b.ConcurrentCalls) }, 1, 1_024},
}

// validate checks every budget against its range; file names the file for the error.
func (b *Budgets) validate(file string) error {
	for _, r := range budgetRanges {
		if v := r.get(b); v < r.min || v > r.max {
			return &ConfigError{File: file, Key: r.key, Err: ErrInvalidValue,
				Msg: fmt.Sprintf("must be %d to %d, got %d", r.min, r.max, v)}
		}
	}
	if b.ThreadsTotalBytes < b.ThreadBytes {
		return &ConfigError{File: file, Key: "limits.threads_total_bytes", Err: ErrInvalidValue,
			Msg: fmt.Sprintf("must not be below limits.thread_bytes (%d), got %d", b.ThreadBytes, b.ThreadsTotalBytes)}
	}
	return nil
}

// budgetRules are the lock and trust rules of Budgets: a number, larger is wider, and an
// untrusted project may lower it.
func budgetRules() []keyRule {
	out := make([]keyRule, 0, len(budgetRanges))
	for _, r := range budgetRanges {
		get := r.get
		out = append(out, keyRule{r.key, kindLower, func(c *Config) any { return get(&c.Limits.Budgets) }, true})
	}
	return out
}
