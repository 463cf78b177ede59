package server

import (
	"context"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// Progress coalescing: what one tool call's progress may cost the client. A call may send
// ProgressBurst notifications at once, then one per ProgressInterval; a notification that
// comes sooner waits, and a newer one replaces it. The last one is always written before the
// call's result.
const (
	ProgressBurst    = 4
	ProgressInterval = 250 * time.Millisecond
)

// progressUpdate is one notification's fields besides the token.
type progressUpdate struct {
	progress, total float64
	message         string
}

// coalescer paces one call's progress notifications (a token bucket). It is safe for
// concurrent use: the guest offers, a timer flushes, the handler finishes.
type coalescer struct {
	send func(progressUpdate) // writes one notification now

	mu      sync.Mutex
	tokens  float64
	at      time.Time // when tokens was last refilled
	pending *progressUpdate
	timer   *time.Timer
	done    bool
}

func newCoalescer(send func(progressUpdate)) *coalescer {
	return &coalescer{send: send, tokens: ProgressBurst, at: time.Now()}
}

func (c *coalescer) refillLocked() {
	now := time.Now()
	c.tokens = min(ProgressBurst, c.tokens+float64(now.Sub(c.at))/float64(ProgressInterval))
	c.at = now
}

// offer sends p now if the pace allows, else keeps it (replacing an older waiting one) for
// the timer or for finish.
func (c *coalescer) offer(p progressUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.refillLocked()
	if c.pending == nil && c.tokens >= 1 {
		c.tokens--
		c.send(p)
		return
	}
	c.pending = &p
	c.armLocked()
}

func (c *coalescer) armLocked() {
	if c.timer != nil {
		return
	}
	wait := time.Duration((1 - c.tokens) * float64(ProgressInterval))
	c.timer = time.AfterFunc(max(wait, time.Millisecond), c.fire)
}

func (c *coalescer) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if c.done || c.pending == nil {
		return
	}
	c.refillLocked()
	if c.tokens >= 1 {
		c.tokens--
		c.send(*c.pending)
		c.pending = nil
		return
	}
	c.armLocked()
}

// finish writes the waiting notification, if any, and sends nothing after. Call it before the
// call's result is written.
func (c *coalescer) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.pending != nil {
		c.send(*c.pending)
		c.pending = nil
	}
}

// progressSender forwards a tool's progress to the client when the request carried a
// progress token, paced by a coalescer, and drops it otherwise. Progress values only
// increase, as MCP requires. finish must be called before the result is written.
func progressSender(ctx context.Context, req mcp.CallToolRequest) (send func(progress, total float64, message string), finish func()) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return nil, func() {}
	}
	token := req.Params.Meta.ProgressToken
	c := newCoalescer(func(p progressUpdate) {
		params := map[string]any{"progressToken": token, "progress": p.progress}
		if p.total > 0 {
			params["total"] = p.total
		}
		if p.message != "" {
			params["message"] = p.message
		}
		Notify(ctx, "notifications/progress", params)
	})
	var mu sync.Mutex
	last := -1.0
	return func(progress, total float64, message string) {
		mu.Lock()
		if progress <= last {
			progress = last + 1e-9
		}
		last = progress
		mu.Unlock()
		c.offer(progressUpdate{progress, total, message})
	}, c.finish
}
