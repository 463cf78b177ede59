package hostfns

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pal-mcp/pal/runtime/abi"
)

// maxProgressMessage caps a progress message (bytes).
const maxProgressMessage = 1024

func progressOp(_ context.Context, c *Call, req abi.ProgressRequest, _ []byte) (outcome, error) {
	if err := c.budget.spend(budgetProgress, 1); err != nil {
		return outcome{}, err
	}
	if req.Progress < 0 || req.Total < 0 {
		return outcome{}, fail(abi.CodeInvalid, "progress and total must not be negative")
	}
	if c.progress != nil {
		c.progress(req.Progress, req.Total, clipProgress(req.Message))
	}
	return outcome{result: struct{}{}}, nil
}

// clipProgress cuts a progress message to maxProgressMessage bytes, never inside a character.
func clipProgress(msg string) string {
	if len(msg) <= maxProgressMessage {
		return msg
	}
	cut := maxProgressMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut]
}

func hostInfo(_ context.Context, c *Call, _ abi.HostInfoRequest, _ []byte) (outcome, error) {
	res := c.env.Info
	res.ABI, res.Client, res.Providers, res.ModelsAvailable = abi.Version, c.client, []string{}, 0
	if res.ContinuationTools == nil {
		res.ContinuationTools = []string{}
	}
	if c.env.Models != nil {
		res.Providers, res.ModelsAvailable = c.env.Models.Summary()
	}
	return outcome{result: res}, nil
}

// heartbeat sends a progress notification every Env.Heartbeat while a model call or a [[cli]]
// program runs, saying what is awaited and for how long, so that a client that cuts calls
// without progress (many do at 60 s) waits for a long one. Each one spends from the call's
// progress budget (limits.progress_notifications); when that runs out they stop, silently. It
// returns the function that stops them; nothing is sent after it returns.
func (c *Call) heartbeat(what string) (stop func()) {
	every := c.env.Heartbeat
	if c.progress == nil || every <= 0 {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				if !c.budget.take(budgetProgress, 1) {
					return
				}
				elapsed := now.Sub(start).Round(time.Second)
				if every < time.Second {
					elapsed = now.Sub(start).Round(time.Millisecond)
				}
				// Progress 0 means "no new progress": the sender keeps the values increasing.
				// what may come from the guest (a model name): held to the cap of its own messages.
				c.progress(0, 0, clipProgress(fmt.Sprintf("waiting for %s: %s elapsed", what, elapsed)))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
