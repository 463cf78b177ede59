package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestBudgetsDefaultAndLoad(t *testing.T) {
	if got := Default().Limits.Budgets; got != DefaultBudgets() {
		t.Fatalf("default budgets %+v", got)
	}
	c, err := Load(writeConfig(t, "[limits]\nhost_calls = 7\nread_bytes = 4096\nthread_bytes = 8192\nthreads_total_bytes = 8192\nconcurrent_calls = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Limits.Budgets
	if b.HostCalls != 7 || b.ReadBytes != 4096 || b.ThreadBytes != 8192 || b.ThreadsTotalBytes != 8192 || b.ConcurrentCalls != 2 {
		t.Fatalf("loaded %+v", b)
	}
	if b.ReadFiles != DefaultReadFiles || b.WaitingRequests != DefaultWaitingRequests {
		t.Fatalf("unset budgets lost their defaults: %+v", b)
	}
}

func TestBudgetsValidation(t *testing.T) {
	for _, tc := range []struct {
		content, key, want string
	}{
		{"host_calls = 0", "limits.host_calls", "must be 1 to"},
		{"read_bytes = -1", "limits.read_bytes", "must be 1 to"},
		{"read_files = 0", "limits.read_files", "must be 1 to"},
		{"provider_calls = 1000000", "limits.provider_calls", "must be 1 to 100000"},
		{"progress_notifications = 0", "limits.progress_notifications", "must be 1 to"},
		{"audit_bytes = 10", "limits.audit_bytes", "must be 4096 to"},
		{"thread_bytes = 100", "limits.thread_bytes", "must be 4096 to"},
		{"threads_total_bytes = 5000\nthread_bytes = 6000", "limits.threads_total_bytes", "not be below limits.thread_bytes"},
		{"waiting_requests = 0", "limits.waiting_requests", "must be 1 to"},
		{"concurrent_calls = 5000", "limits.concurrent_calls", "must be 1 to 1024"},
		{"host_call = 5", "limits.host_call", "did you mean \"limits.host_calls\""},
	} {
		_, err := Load(writeConfig(t, "[limits]\n"+tc.content+"\n"))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error on %s saying %q", tc.content, err, tc.key, tc.want)
		}
	}
}

// TestBudgetsAreLowerIsNarrower: every budget is a lock ceiling and an untrusted project may
// only lower it.
func TestBudgetsAreLowerIsNarrower(t *testing.T) {
	for _, r := range budgetRanges {
		rule, ok := ruleFor(r.key)
		if !ok || rule.kind != kindLower || !rule.project {
			t.Errorf("%s: rule %+v, want kindLower settable by a project", r.key, rule)
		}
		base, wider := Default(), Default()
		switch r.key {
		case "limits.threads_total_bytes":
			wider.Limits.ThreadsTotalBytes *= 2
		default:
			// Raise the key by one through its own getter's field: find it by comparing.
			setBudget(&wider.Limits.Budgets, r.key, r.get(&base.Limits.Budgets)+1)
		}
		if rule.widening(base, wider, "/") == "" {
			t.Errorf("%s: raising it is not reported as widening", r.key)
		}
		if rule.widening(wider, base, "/") != "" {
			t.Errorf("%s: lowering it is reported as widening", r.key)
		}
	}
}

func setBudget(b *Budgets, key string, v int64) {
	switch key {
	case "limits.host_calls":
		b.HostCalls = int(v)
	case "limits.read_bytes":
		b.ReadBytes = v
	case "limits.read_files":
		b.ReadFiles = int(v)
	case "limits.provider_calls":
		b.ProviderCalls = int(v)
	case "limits.progress_notifications":
		b.ProgressNotifications = int(v)
	case "limits.audit_bytes":
		b.AuditBytes = v
	case "limits.thread_bytes":
		b.ThreadBytes = v
	case "limits.waiting_requests":
		b.WaitingRequests = int(v)
	case "limits.concurrent_calls":
		b.ConcurrentCalls = int(v)
	}
}
