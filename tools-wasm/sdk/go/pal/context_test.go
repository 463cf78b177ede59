//go:build !wasip1

package pal_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// cancellingHost answers every op cancelled, as the real host does once a call is over.
type cancellingHost struct{}

func (cancellingHost) Call([]byte) []byte { return abi.RefuseCancelled(false).Reply() }
func (cancellingHost) Log(int, string)    {}

// TestHandlerContext: the handler's context carries the call's deadline and ends when it
// passes (seen by a loop that only checks ctx.Err()), when the test's context is cancelled
// (paltest.InvokeContext), when a host call is answered cancelled (how a wasm guest learns
// of a cancelled call), and when the handler returns.
func TestHandlerContext(t *testing.T) {
	type seen struct {
		err      error
		deadline time.Time
		hostErr  error
		ctx      context.Context
	}
	var mu sync.Mutex
	var got seen
	loop := func(withHostCalls bool) func(context.Context, *pal.Call, json.RawMessage) (*pal.Result, error) {
		return func(ctx context.Context, _ *pal.Call, _ json.RawMessage) (*pal.Result, error) {
			var hostErr error
			start := time.Now()
			for ctx.Err() == nil && time.Since(start) < 10*time.Second {
				if withHostCalls {
					_, hostErr = pal.HostInfo()
				}
			}
			dl, _ := ctx.Deadline()
			mu.Lock()
			got = seen{err: ctx.Err(), deadline: dl, hostErr: hostErr, ctx: ctx}
			mu.Unlock()
			return pal.TextResult("stopped"), nil
		}
	}
	t.Run("deadline from the test's context", func(t *testing.T) {
		probe = loop(false)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		want, _ := ctx.Deadline()
		start := time.Now()
		(&paltest.Host{}).InvokeContext(ctx, t, "probe", map[string]any{})
		if !errors.Is(got.err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("ctx.Err() = %v after %v", got.err, time.Since(start))
		}
		if d := got.deadline.Sub(want); d < -time.Second || d > time.Second {
			t.Fatalf("deadline %v, want about %v", got.deadline, want)
		}
	})
	t.Run("deadline from timeout_ms alone", func(t *testing.T) {
		probe = loop(false)
		pal.SetHost(&paltest.Host{})
		start := time.Now()
		pal.Invoke([]byte(`{"abi":1,"tool":"probe","call_id":"c","arguments":{},"timeout_ms":40}`))
		if !errors.Is(got.err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("ctx.Err() = %v after %v", got.err, time.Since(start))
		}
	})
	t.Run("cancelled by the test", func(t *testing.T) {
		probe = loop(true)
		h := &paltest.Host{}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		h.InvokeContext(ctx, t, "probe", map[string]any{})
		if !errors.Is(got.err, context.Canceled) || (got.hostErr != nil && !errors.Is(got.hostErr, pal.ErrCancelled)) {
			t.Fatalf("ctx.Err() = %v, last host call %v", got.err, got.hostErr)
		}
	})
	t.Run("a host call answered cancelled", func(t *testing.T) {
		probe = loop(true)
		pal.SetHost(cancellingHost{})
		pal.Invoke([]byte(`{"abi":1,"tool":"probe","call_id":"c","arguments":{}}`))
		if !errors.Is(got.err, context.Canceled) || !errors.Is(got.hostErr, pal.ErrCancelled) || !got.deadline.IsZero() {
			t.Fatalf("ctx.Err() = %v, host %v, deadline %v", got.err, got.hostErr, got.deadline)
		}
	})
	t.Run("ends when the handler returns", func(t *testing.T) {
		var kept context.Context
		probe = func(ctx context.Context, _ *pal.Call, _ json.RawMessage) (*pal.Result, error) {
			if ctx.Err() != nil {
				t.Errorf("ctx already done: %v", ctx.Err())
			}
			kept = ctx
			return pal.TextResult("ok"), nil
		}
		(&paltest.Host{}).Invoke(t, "probe", map[string]any{})
		select {
		case <-kept.Done():
		default:
			t.Fatal("ctx not done after the handler returned")
		}
	})
	t.Run("old handlers through NoContext", func(t *testing.T) {
		h := pal.NoContext(func(c *pal.Call, _ json.RawMessage) (*pal.Result, error) { return pal.TextResult(c.Tool), nil })
		probe = h
		if r := (&paltest.Host{}).Invoke(t, "probe", map[string]any{}); paltest.Text(r) != "probe" {
			t.Fatalf("got %q", paltest.Text(r))
		}
	})
}
