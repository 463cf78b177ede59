package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pal-mcp/pal/runtime/abi"
)

// Call is one tool call to run.
type Call struct {
	Tool      string          // a tool of the module's manifest
	CallID    string          // for logs and audit
	Arguments json.RawMessage // the client's arguments, a JSON object
	Host      Host            // performs the ops the tool asks for
	// Timeout overrides the engine's CallTimeout when positive.
	Timeout time.Duration
}

// Outcome is what a finished call leaves besides its result: for logs and diagnostics.
type Outcome struct {
	Duration   time.Duration
	Stderr     string // the guest's captured stderr, bounded
	LogDropped int    // log lines over the per-call limit
	MemoryPeak uint64 // bytes of linear memory at the end of the call
}

// Invoke runs one tool call in a fresh instance and closes the instance afterwards, whatever
// happens. The error, when not nil, wraps one of ErrDeadline, ErrCancelled, ErrMemoryCap,
// ErrOutputCap, ErrTrap, ErrReentrant, ErrStopped, ErrBadResult or ErrBadModule, and its text is fit for the client.
func (m *Module) Invoke(ctx context.Context, c Call) (_ *abi.Result, out Outcome, _ error) {
	start := time.Now()
	timeout := m.engine.cfg.CallTimeout
	if c.Timeout > 0 {
		timeout = c.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Two contexts: ctx is the call's (its deadline, the client's cancellation); once it is
	// done, host calls are answered cancelled (hostCall) and the guest has CancelGrace to
	// return before hard, which the guest runs under, stops the instance.
	hard, stopHard := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHard()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(m.engine.cfg.CancelGrace, stopHard) })()

	var timeoutMS int64
	if dl, ok := ctx.Deadline(); ok {
		timeoutMS = max(time.Until(dl).Milliseconds(), 1)
	}
	req, err := json.Marshal(abi.HandleRequest{ABI: abi.Version, Tool: c.Tool, CallID: c.CallID, Arguments: c.Arguments, TimeoutMS: timeoutMS})
	if err != nil {
		return nil, out, fmt.Errorf("%w: arguments are not JSON: %v", ErrBadResult, err)
	}
	inst, err := m.take(ctx)
	if err != nil {
		return nil, out, err
	}
	defer m.startRefill()
	defer inst.close()
	st := &callState{host: c.Host, inst: inst, call: ctx}
	cctx := context.WithValue(hard, callStateKey{}, st)
	defer watch(hard, inst.interrupt)() // the guest runs until hard is done
	defer func() {
		out.Duration = time.Since(start)
		out.Stderr = inst.stderr.String()
		out.LogDropped = st.logDropped
		if mem := inst.mod.Memory(); mem != nil {
			out.MemoryPeak = uint64(mem.Size())
		}
	}()

	if err := ctx.Err(); err != nil {
		// Done before the guest runs: it does not start (the grace is for a running guest).
		return nil, out, m.callError(ctx, inst, timeout, err)
	}
	ptr := writeToGuest(cctx, inst.mod, st, req)
	if st.reentered > 0 {
		return nil, out, fmt.Errorf("%w while the host was writing the request; the call was refused", ErrReentrant)
	}
	if ptr == 0 {
		return nil, out, m.callError(ctx, inst, timeout, errors.New("alloc failed for the request"))
	}
	p, n := abi.Unpack(ptr)
	res, err := inst.handle.Call(cctx, uint64(p), uint64(n))
	if err != nil {
		return nil, out, m.callError(ctx, inst, timeout, err)
	}
	rp, rn := abi.Unpack(res[0])
	if rn > m.engine.cfg.OutputLimitBytes {
		return nil, out, fmt.Errorf("%w: tool %s returned %d bytes; the cap is %d bytes", ErrOutputCap, c.Tool, rn, m.engine.cfg.OutputLimitBytes)
	}
	raw, ok := inst.mod.Memory().Read(rp, rn)
	if !ok {
		return nil, out, fmt.Errorf("%w: tool %s returned a buffer outside its memory", ErrBadResult, c.Tool)
	}
	result, err := abi.ParseResult(raw)
	if err != nil {
		return nil, out, fmt.Errorf("%w: tool %s: %v", ErrBadResult, c.Tool, err)
	}
	return result, out, nil
}

// callError explains why handle failed: deadline, cancellation, memory cap, or a crash.
func (m *Module) callError(ctx context.Context, inst *instance, timeout time.Duration, err error) error {
	return CallError(ctx, err, inst.mem.hit.Load(), m.engine.cfg.MemoryLimitBytes, timeout)
}

// CallError explains why a guest call failed with err, for the client: ErrStopped wrapping the
// Stopper's error when CheckStop ended it, else ErrDeadline (timeout is the call's limit) or
// ErrCancelled when ctx, the call's context, is done, ErrMemoryCap (of memoryLimit bytes) when
// memoryHit, else ErrTrap with the first line of err. runtime/extism uses it for plugins.
func CallError(ctx context.Context, err error, memoryHit bool, memoryLimit uint64, timeout time.Duration) error {
	var stop *hostStop
	if errors.As(err, &stop) {
		return fmt.Errorf("%w: %w", ErrStopped, stop.err)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w (%v); the call was stopped", ErrDeadline, timeout)
	case ctx.Err() != nil:
		return ErrCancelled
	case memoryHit:
		return fmt.Errorf("%w of %d MiB; the call was stopped", ErrMemoryCap, memoryLimit>>20)
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i] // the first line; the wasm stack trace goes to the log via Outcome
	}
	return fmt.Errorf("%w: %s", ErrTrap, msg)
}
