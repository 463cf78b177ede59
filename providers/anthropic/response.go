package anthropic

import (
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/pal-mcp/pal/providers"
)

// errEmptyEndTurn: the model ended its turn normally and wrote no text. Generate asks once more.
var errEmptyEndTurn = fmt.Errorf("%w: the model ended its turn without any text", providers.ErrBlocked)

// answer is the useful part of one message.
type answer struct {
	text   string
	finish string // stop, length, or the API's stop_reason as it is
	usage  providers.Usage
}

// interpret reads a Messages API answer: the text blocks joined in order (thinking and
// redacted_thinking blocks, and any tool blocks, are left out), the stop reason and the usage.
// A refusal, or an answer without text, is an error wrapping providers.ErrBlocked
// (errEmptyEndTurn when the turn ended normally). key is removed from any provider text
// quoted in an error.
func interpret(msg *sdk.Message, key string) (*answer, error) {
	if msg == nil {
		return nil, fmt.Errorf("%w: empty response", providers.ErrBlocked)
	}
	var text strings.Builder
	for _, b := range msg.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
		}
	}
	a := &answer{text: text.String(), finish: normaliseStop(msg.StopReason), usage: usage(msg.Usage)}
	switch {
	case msg.StopReason == sdk.StopReasonRefusal:
		detail := ""
		if d := msg.StopDetails; d.Category != "" || d.Explanation != "" {
			detail = " (" + strings.TrimSpace(string(d.Category)+" "+d.Explanation) + ")"
		}
		return nil, fmt.Errorf("%w: the model refused to answer%s", providers.ErrBlocked, scrub(detail, key))
	case strings.TrimSpace(a.text) != "":
		return a, nil
	case msg.StopReason == sdk.StopReasonEndTurn:
		return nil, errEmptyEndTurn
	case msg.StopReason == sdk.StopReasonMaxTokens:
		return nil, fmt.Errorf("%w: max_tokens was reached before any text (thinking may have used it all)", providers.ErrBlocked)
	default:
		reason := string(msg.StopReason)
		if reason == "" {
			reason = "none"
		}
		return nil, fmt.Errorf("%w: no text (stop reason %s)", providers.ErrBlocked, scrub(reason, key))
	}
}

// normaliseStop maps stop_reason onto providers.Response's vocabulary: end_turn and
// stop_sequence → stop; max_tokens and model_context_window_exceeded → length; anything else
// lower-cased as it is.
func normaliseStop(r sdk.StopReason) string {
	switch r {
	case sdk.StopReasonEndTurn, sdk.StopReasonStopSequence:
		return "stop"
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded:
		return "length"
	}
	return strings.ToLower(string(r))
}

// usage counts every input token the API billed (fresh, cache writes and cache reads) as input.
func usage(u sdk.Usage) providers.Usage {
	in := int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens)
	out := int(u.OutputTokens)
	return providers.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out}
}
