package gemini

import (
	"fmt"

	"github.com/pal-mcp/pal/providers"
)

// thinkingBudget returns the thinkingBudget to send, in tokens: providers.ThinkingBudget
// (int(max_thinking_tokens × ratio), gemini-3-pro's medium→high upgrade). It is 0, and nothing
// is sent, when mode is empty, when the model does not support thinking or has no
// max_thinking_tokens, or when the product truncates to 0. An unknown mode is refused with
// providers.ErrInvalidRequest rather than ignored.
func thinkingBudget(caps *providers.Capabilities, mode string) (int, error) {
	if !providers.ValidThinkingMode(mode) {
		return 0, fmt.Errorf("%w: google: unknown thinking mode %q (want minimal, low, medium, high or max)", providers.ErrInvalidRequest, mode)
	}
	return providers.ThinkingBudget(caps, mode), nil
}
