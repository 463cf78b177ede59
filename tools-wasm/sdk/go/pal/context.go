package pal

import (
	"context"
	"sync"
	"time"
)

// callContext is the context.Context a handler gets. A wasm guest has one thread and no
// preemption, so nothing can interrupt a running handler to cancel a context: instead the
// context checks for itself. It carries the call's deadline (the handle request's timeout_ms,
// measured on the guest's clock from the moment the request arrived), and Err and Done look
// at the clock each time they are called, so a loop that checks ctx.Err() stops once the
// deadline passes. It also ends when a host call is answered with code cancelled (the client
// cancelled, or the host saw the deadline first), and when the handler returns. The host
// gives a guest a short grace (runtime.Config.CancelGrace, 250 ms) after the deadline before
// it stops the instance, for the handler to return what it has.
type callContext struct {
	mu       sync.Mutex
	deadline time.Time // zero: none
	done     chan struct{}
	err      error
	timer    *time.Timer // closes done at the deadline for goroutines blocked on Done
	stop     func() bool // unhooks the parent context (native InvokeContext)
}

var _ context.Context = (*callContext)(nil)

// newCallContext returns the context of a call whose host gave it timeout (0: none); parent,
// when not nil, ends it too (natively: a test's context).
func newCallContext(parent context.Context, timeout time.Duration) *callContext {
	c := &callContext{done: make(chan struct{})}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	}
	if parent != nil {
		c.hookParent(parent)
	}
	if !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
	}
	return c
}

// Deadline implements context.Context.
func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// Done implements context.Context; it checks the clock first.
func (c *callContext) Done() <-chan struct{} {
	c.poll()
	return c.done
}

// Err implements context.Context: context.DeadlineExceeded once the deadline has passed,
// context.Canceled once the host answered cancelled or the handler returned; it checks the
// clock first.
func (c *callContext) Err() error {
	c.poll()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value implements context.Context; the call's context carries no values.
func (c *callContext) Value(any) any { return nil }

func (c *callContext) String() string { return "pal.callContext" }

// poll ends the context when its deadline has passed.
func (c *callContext) poll() {
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		c.end(context.DeadlineExceeded)
	}
}

// end ends the context with err, once.
func (c *callContext) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if err == nil {
		err = context.Canceled
	}
	c.err = err
	close(c.done)
	if c.timer != nil {
		c.timer.Stop()
	}
}

// release ends the context when its handler has returned and unhooks it from its parent.
func (c *callContext) release() {
	c.end(context.Canceled)
	if c.stop != nil {
		c.stop()
	}
}

// current is the context of the call being handled (one at a time: the wasm guest has one
// thread, and the native host runs one call at a time).
var current struct {
	sync.Mutex
	ctx *callContext
}

func setCurrent(c *callContext) {
	current.Lock()
	current.ctx = c
	current.Unlock()
}

// hostCancelled ends the current call's context: a host call was answered cancelled. A
// passed deadline is reported as such.
func hostCancelled() {
	current.Lock()
	c := current.ctx
	current.Unlock()
	if c != nil {
		c.poll()
		c.end(context.Canceled)
	}
}
