package extism

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	extism "github.com/extism/go-sdk"

	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

// callState is what pal_call and the logger find for one instance: the Host of the call (nil
// while describing) and the log line count.
type callState struct {
	ctx        context.Context
	host       runtime.Host
	logLines   int
	logDropped int
}

type callStateKey struct{}

// hostCall implements extism:host/user pal_call(request offset) -> reply offset.
func hostCall(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	off := stack[0]
	var reply []byte
	switch {
	case st == nil:
		stack[0] = 0
		return
	case st.host == nil:
		reply = abi.Fail(abi.CodeInvalid, "host calls are only allowed while a tool call runs, not in describe")
	default:
		n, err := p.Length(off)
		switch {
		case err != nil:
			reason := fmt.Sprintf("request offset %d is not a block of the plugin's memory", off)
			st.host.Refused(ctx, abi.CodeInvalid, reason)
			reply = abi.Fail(abi.CodeInvalid, reason)
		case n > abi.MaxRequestBytes:
			reason := fmt.Sprintf("request of %d bytes is over the %d-byte cap", n, abi.MaxRequestBytes)
			st.host.Refused(ctx, abi.CodeTooLarge, reason)
			reply = abi.Fail(abi.CodeTooLarge, reason)
		default:
			raw, err := p.ReadBytes(off)
			if err != nil {
				reason := fmt.Sprintf("request block at %d lies outside the plugin's memory", off)
				st.host.Refused(ctx, abi.CodeInvalid, reason)
				reply = abi.Fail(abi.CodeInvalid, reason)
			} else {
				reply = st.host.Call(ctx, bytes.Clone(raw))
			}
		}
		runtime.CheckStop(st.host)
	}
	out, err := p.WriteBytes(reply)
	if err != nil {
		out = 0
	}
	stack[0] = out
}

// log is the plugin's logger (Plugin.SetLogger): Extism's log_* lines, cut and counted as
// pal.log lines are (runtime.LogLineLimit, runtime.LogLinesPerCall).
func (st *callState) log(level extism.LogLevel, msg string) {
	if st.host == nil {
		return
	}
	if st.logLines >= runtime.LogLinesPerCall {
		st.logDropped++
		return
	}
	st.logLines++
	if len(msg) > runtime.LogLineLimit {
		msg = msg[:runtime.LogLineLimit] + fmt.Sprintf(" [%d bytes cut]", len(msg)-runtime.LogLineLimit)
	}
	msg = strings.ToValidUTF8(msg, string(utf8.RuneError))
	lvl := abi.LogInfo
	switch level {
	case extism.LogLevelTrace, extism.LogLevelDebug:
		lvl = abi.LogDebug
	case extism.LogLevelWarn:
		lvl = abi.LogWarn
	case extism.LogLevelError:
		lvl = abi.LogError
	}
	st.host.Log(st.ctx, int(lvl), msg)
}
