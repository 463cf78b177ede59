package hostfns

import (
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

// TestHeartbeatsSpendTheProgressBudget: heartbeats come out of the call's
// limits.progress_notifications like the guest's own progress: no more are sent than it
// allows, and once they have used it the guest's progress op is over budget.
func TestHeartbeatsSpendTheProgressBudget(t *testing.T) {
	f := newFixture(t)
	f.env.Budgets = policy.Budgets{ProgressNotifications: 3}
	f.env.Heartbeat = time.Millisecond
	var mu sync.Mutex
	var msgs []string
	third := make(chan struct{})
	c := f.env.NewCall(CallSpec{Tool: "t", CallID: "c1", Grant: policy.NewCapSet(policy.CapProgress), Category: "fast",
		Progress: func(_, _ float64, msg string) {
			mu.Lock()
			defer mu.Unlock()
			msgs = append(msgs, msg)
			if len(msgs) == 3 {
				close(third)
			}
		}})
	stop := c.heartbeat("m1")
	<-third
	stop()
	mu.Lock()
	n := len(msgs)
	mu.Unlock()
	if n != 3 {
		t.Fatalf("%d heartbeats with limits.progress_notifications = 3: %q", n, msgs)
	}
	r := do(t, c, map[string]any{"op": "progress", "progress": 1}, nil)
	if r.err == nil || r.err.Code != abi.CodeOverBudget {
		t.Fatalf("the guest's progress after the heartbeats used the budget: %+v", r.err)
	}
}
