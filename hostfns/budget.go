package hostfns

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

// ErrOverBudget ends a tool call that went past one of its budgets ([limits] in pal.toml).
// The error that wraps it names the budget's key and its value.
var ErrOverBudget = errors.New("tool call over budget")

// budgetKind is one per-call budget.
type budgetKind int

const (
	budgetHostCalls budgetKind = iota
	budgetReadBytes
	budgetReadFiles
	budgetProviderCalls
	budgetProgress
	budgetAudit
	budgetKinds
)

// what names each budget in messages: its unit and its pal.toml key.
var budgetWhat = [budgetKinds]struct{ unit, key string }{
	budgetHostCalls:     {"host calls", "limits.host_calls"},
	budgetReadBytes:     {"bytes read", "limits.read_bytes"},
	budgetReadFiles:     {"files read", "limits.read_files"},
	budgetProviderCalls: {"provider calls", "limits.provider_calls"},
	budgetProgress:      {"progress notifications", "limits.progress_notifications"},
	budgetAudit:         {"audit bytes", "limits.audit_bytes"},
}

// budget counts what one tool call has spent. The guest is told once, with an over_budget
// reply, that a budget ran out; asking for that kind of op again ends the call, and so does
// passing host_calls or audit_bytes.
type budget struct {
	mu    sync.Mutex
	limit [budgetKinds]int64
	used  [budgetKinds]int64
	told  [budgetKinds]bool
	stop  error // set once: the call must end
}

func newBudget(b policy.Budgets) *budget {
	d := policy.DefaultBudgets()
	pick := func(v, def int64) int64 {
		if v <= 0 {
			return def
		}
		return v
	}
	var x budget
	x.limit[budgetHostCalls] = pick(int64(b.HostCalls), int64(d.HostCalls))
	x.limit[budgetReadBytes] = pick(b.ReadBytes, d.ReadBytes)
	x.limit[budgetReadFiles] = pick(int64(b.ReadFiles), int64(d.ReadFiles))
	x.limit[budgetProviderCalls] = pick(int64(b.ProviderCalls), int64(d.ProviderCalls))
	x.limit[budgetProgress] = pick(int64(b.ProgressNotifications), int64(d.ProgressNotifications))
	x.limit[budgetAudit] = pick(b.AuditBytes, d.AuditBytes)
	return &x
}

// overError is the error of a budget that n more would pass.
func (b *budget) overError(k budgetKind, n int64) error {
	w := budgetWhat[k]
	return fmt.Errorf("%w: %d %s (%s = %d)", ErrOverBudget, b.used[k]+n, w.unit, w.key, b.limit[k])
}

// hostCall counts one host call; past the budget the call must end.
func (b *budget) hostCall() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop != nil {
		return b.stop
	}
	if b.used[budgetHostCalls]+1 > b.limit[budgetHostCalls] {
		b.stop = b.overError(budgetHostCalls, 1)
		return b.stop
	}
	b.used[budgetHostCalls]++
	return nil
}

// remaining is what is left of a budget.
func (b *budget) remaining(k budgetKind) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit[k] - b.used[k]
}

// spend takes n from budget k. When n does not fit, nothing is taken and the op is refused
// with over_budget the first time, and the call is ended the next time.
func (b *budget) spend(k budgetKind, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used[k]+n <= b.limit[k] {
		b.used[k] += n
		return nil
	}
	err := b.overError(k, n)
	if b.told[k] {
		if b.stop == nil {
			b.stop = fmt.Errorf("%w; the tool asked again after being refused", err)
		}
		return &opError{code: abi.CodeOverBudget, msg: b.stop.Error()}
	}
	b.told[k] = true
	return &opError{code: abi.CodeOverBudget, msg: err.Error()}
}

// take takes n from budget k when it fits and reports whether it did. Unlike spend, a refusal
// tells the guest nothing and never ends the call: the host's own heartbeats use it.
func (b *budget) take(k budgetKind, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used[k]+n > b.limit[k] {
		return false
	}
	b.used[k] += n
	return true
}

// audited counts one audit record of n bytes. The record is written whatever this says (an
// op that happened is never left out of the log); past the budget the call must end.
func (b *budget) audited(n int64) (exhausted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used[budgetAudit] += n
	if b.used[budgetAudit] > b.limit[budgetAudit] && b.stop == nil {
		b.stop = b.overError(budgetAudit, 0)
		return true
	}
	return false
}

// stopped is the error that ends the call, or nil.
func (b *budget) stopped() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stop
}

// recordSize estimates the bytes an audit record takes in the log, the unit of the audit
// budget: each string field as the auditor caps it (policy.MaxAuditField), plus the keys, the time and the
// numbers. It never under-counts by more than the JSON escaping of the strings.
func recordSize(r policy.Record) int64 {
	const fixed = 160 // keys, quotes, time stamp, bytes
	n := int64(fixed)
	for _, f := range []string{r.CallID, r.Tool, r.Op, r.Decision, r.Reason, r.Root, r.Path} {
		n += int64(min(len(f), policy.MaxAuditField))
	}
	return n
}
