package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"

	"github.com/pal-mcp/pal/runtime/abi"
)

// Host performs the ops a running tool asks for. The runtime passes each request message to
// Call and writes the returned reply message into the guest. One Host value serves one tool
// call; hostfns provides the real one.
type Host interface {
	// Call performs one op and returns the reply message (abi.OK or abi.Fail). request is a
	// copy the Host may keep.
	Call(ctx context.Context, request []byte) []byte
	// Log records one diagnostic line from the guest, already cut to LogLineLimit bytes.
	Log(ctx context.Context, level int, msg string)
	// Refused records a request the runtime refused before it reached Call (a pointer outside
	// guest memory, a request over the size cap), so it is audited like any other refusal.
	Refused(ctx context.Context, code abi.Code, reason string)
}

// Stopper is implemented by a Host that may end the call it serves, for instance when a
// budget is used up. The runtime asks after every request it passes to the Host or reports
// as refused; a non-nil error ends the call at once, and Invoke returns ErrStopped wrapping it.
type Stopper interface {
	Stop() error
}

// hostStop carries a Stopper's error out of the guest as a panic, which wazero turns into the
// error of the guest function the host was called from.
type hostStop struct{ err error }

func (s *hostStop) Error() string { return s.err.Error() }
func (s *hostStop) Unwrap() error { return s.err }

// checkStop ends the call when the Host says so.
func checkStop(st *callState) { CheckStop(st.host) }

// CheckStop ends the guest call a host function is serving when host is a Stopper whose Stop
// returns an error: it panics with a value wazero turns into the error of that call, which
// CallError reports as ErrStopped. For host functions outside this package (runtime/extism).
func CheckStop(host Host) {
	if s, ok := host.(Stopper); ok {
		if err := s.Stop(); err != nil {
			panic(&hostStop{err: err})
		}
	}
}

// Limits on the log import.
const (
	LogLineLimit    = 4 << 10 // bytes per line
	LogLinesPerCall = 1000
)

// callState is the per-call state the host functions find in their context. Instantiation
// and describe get one with no host, so that the re-entrancy guard holds there too. Wasm runs
// on one goroutine per instance, so the fields need no lock.
type callState struct {
	host Host // nil outside a tool call (initialisation, describe)
	// call is the tool call's context (deadline, cancellation), which host calls run under;
	// the guest runs under a longer one (Config.CancelGrace). nil outside a tool call.
	call       context.Context
	inst       *instance
	logLines   int
	logDropped int
	// writing is set while the host is inside the guest's alloc, placing a message.
	writing bool
	// reentered counts host calls the guest made from inside alloc; each was refused.
	reentered int
}

type callStateKey struct{}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// hostCall implements pal.call(ptr, len) -> packed reply.
func hostCall(ctx context.Context, mod api.Module, stack []uint64) {
	ptr, n := uint32(stack[0]), uint32(stack[1])
	st := stateFrom(ctx)
	if st == nil {
		// No state: not an instance this runtime made. Never call into the guest.
		stack[0] = 0
		return
	}
	if st.writing {
		// The guest called the host from inside alloc while the host was placing a message.
		// Serving it would need alloc again, and a guest that does this on every alloc would
		// nest host and guest frames until the host's stack gave out. Refuse it without
		// calling into the guest: the inner call gets 0, and the reply the host was placing
		// is replaced by a reentrant error (writeToGuest).
		st.reentered++
		if st.reentered == 1 && st.host != nil {
			st.host.Refused(ctx, abi.CodeReentrant, ReentrantMessage)
			checkStop(st)
		}
		stack[0] = 0
		return
	}
	var reply []byte
	switch {
	case st.host == nil:
		reply = abi.Fail(abi.CodeInvalid, "host calls are only allowed while a tool call runs, not during initialisation")
	case n > abi.MaxRequestBytes:
		reason := fmt.Sprintf("request of %d bytes is over the %d-byte cap", n, abi.MaxRequestBytes)
		st.host.Refused(ctx, abi.CodeTooLarge, reason)
		reply = abi.Fail(abi.CodeTooLarge, reason)
	case st.call != nil && st.call.Err() != nil:
		// The call is over (cancelled or past its deadline) and the guest is in its grace
		// time: every op is refused at once, so a guest learns it and can return.
		reason := CancelledMessage(st.call)
		st.host.Refused(ctx, abi.CodeCancelled, reason)
		reply = abi.Fail(abi.CodeCancelled, reason)
	default:
		raw, ok := mod.Memory().Read(ptr, n)
		if !ok {
			reason := fmt.Sprintf("request buffer [%d, +%d) lies outside guest memory", ptr, n)
			st.host.Refused(ctx, abi.CodeInvalid, reason)
			reply = abi.Fail(abi.CodeInvalid, reason)
		} else {
			callCtx := ctx
			if st.call != nil {
				callCtx = st.call
			}
			reply = st.host.Call(callCtx, bytes.Clone(raw))
		}
	}
	if st.host != nil {
		checkStop(st)
	}
	stack[0] = writeToGuest(ctx, mod, st, reply)
}

// CancelledMessage is the cancelled reply's text for a call whose context ctx is done.
func CancelledMessage(ctx context.Context) string {
	return abi.RefuseCancelled(errors.Is(ctx.Err(), context.DeadlineExceeded)).Message
}

// ReentrantMessage is the error a guest gets when it made a host call from inside alloc.
const ReentrantMessage = "a host call was made from inside alloc while the host was writing into guest memory; host calls must not be nested (docs/abi.md)"

// writeToGuest places msg in a buffer from the guest's alloc and returns it packed, or 0 when
// the guest could not provide one. When the guest makes a host call from inside that alloc,
// msg is replaced by a reentrant error reply, placed with a second alloc; a guest that
// re-enters again gets 0. The host never has more than one alloc frame on the guest's stack.
func writeToGuest(ctx context.Context, mod api.Module, st *callState, msg []byte) uint64 {
	before := st.reentered
	packed := place(ctx, mod, st, msg)
	if st.reentered == before {
		return packed
	}
	if packed == 0 {
		return 0
	}
	again := st.reentered
	packed = place(ctx, mod, st, abi.Fail(abi.CodeReentrant, ReentrantMessage))
	if st.reentered != again {
		return 0
	}
	return packed
}

// place calls the guest's alloc once, with the re-entrancy guard up, and copies msg in.
func place(ctx context.Context, mod api.Module, st *callState, msg []byte) uint64 {
	var alloc api.Function
	if st.inst != nil {
		alloc = st.inst.alloc
	} else {
		alloc = mod.ExportedFunction(abi.ExportAlloc)
	}
	if alloc == nil || uint64(len(msg)) > uint64(^uint32(0)) {
		return 0
	}
	st.writing = true
	res, err := alloc.Call(ctx, uint64(len(msg)))
	st.writing = false
	if err != nil || len(res) == 0 {
		return 0
	}
	p := uint32(res[0])
	if p == 0 && len(msg) > 0 {
		return 0
	}
	if !mod.Memory().Write(p, msg) {
		return 0
	}
	return abi.Pack(p, uint32(len(msg)))
}

// hostLog implements pal.log(level, ptr, len).
func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	st := stateFrom(ctx)
	if st == nil || st.host == nil {
		return
	}
	if st.logLines >= LogLinesPerCall {
		st.logDropped++
		return
	}
	st.logLines++
	cut := min(n, LogLineLimit)
	raw, ok := mod.Memory().Read(ptr, cut)
	if !ok {
		st.host.Refused(ctx, abi.CodeInvalid, fmt.Sprintf("log buffer [%d, +%d) lies outside guest memory", ptr, n))
		return
	}
	msg := strings.ToValidUTF8(string(raw), string(utf8.RuneError))
	if n > cut {
		msg += fmt.Sprintf(" [%d bytes cut]", n-cut)
	}
	if level < abi.LogDebug || level > abi.LogError {
		level = abi.LogInfo
	}
	st.host.Log(ctx, int(level), msg)
}
