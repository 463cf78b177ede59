package providers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RetryPolicy says how often and how patiently a failed request is tried again.
type RetryPolicy struct {
	// Delays between attempts; len(Delays)+1 attempts at most. PAL waits 1, 3, 5 and 8 seconds
	// between its four attempts; DefaultRetry keeps the same spacing.
	Delays []time.Duration
	// Sleep waits for d or until ctx is done; nil means a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRetry is PAL's schedule: four attempts, waiting 1, 3 and 5 seconds between them (the
// fourth delay, 8 s, is never reached with four attempts and is kept for a fifth if configured).
var DefaultRetry = RetryPolicy{Delays: []time.Duration{1 * time.Second, 3 * time.Second, 5 * time.Second}}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry runs fn until it succeeds, returns a non-retryable error, the attempts run out, or ctx
// is done. An error is retried only when it is an *APIError with Retryable set. The returned
// error names the provider, the model and the attempts, and wraps the last error.
func Retry[T any](ctx context.Context, p RetryPolicy, provider Type, model string, fn func(ctx context.Context) (T, error)) (T, error) {
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var zero T
	attempts := len(p.Delays) + 1
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) || !apiErr.Retryable || attempt >= attempts {
			if attempt > 1 {
				return zero, fmt.Errorf("%s API error for model %s after %d attempts: %w", provider, model, attempt, err)
			}
			return zero, fmt.Errorf("%s API error for model %s: %w", provider, model, err)
		}
		if err := sleep(ctx, p.Delays[attempt-1]); err != nil {
			return zero, err
		}
	}
}
