package anthropic

import (
	"encoding/base64"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/pal-mcp/pal/providers"
)

// Token sizes, in tokens.
const (
	// DefaultMaxTokens is max_tokens when the catalogue entry gives no max_output_tokens.
	DefaultMaxTokens = 8192
	// MinThinkingBudget is the smallest budget_tokens the API accepts.
	MinThinkingBudget = 1024
	// minAnswerTokens is the share of max_tokens kept for the visible answer when a thinking
	// budget would otherwise take all of it.
	minAnswerTokens = 1024
	// maxModelNameLen bounds the model id sent in the body.
	maxModelNameLen = 128
)

// call is one request, built and checked before anything is sent.
type call struct {
	model     string
	params    sdk.MessageNewParams
	maxTokens int
	budget    int // budget_tokens; 0 when thinking is off
}

// buildCall turns req into Messages API parameters. It fails with providers.ErrInvalidRequest
// when the request cannot be sent as it is: no capabilities, an empty or oversized model
// name, images refused by providers.CheckImages, an unknown thinking mode.
func buildCall(caps *providers.Capabilities, req providers.Request) (*call, error) {
	if caps == nil {
		return nil, fmt.Errorf("%w: anthropic: no capabilities for model %q", providers.ErrInvalidRequest, req.Model)
	}
	model := req.Model
	if model == "" {
		model = caps.ModelName
	}
	if strings.TrimSpace(model) == "" || len(model) > maxModelNameLen || strings.ContainsAny(model, "\x00\r\n") {
		return nil, fmt.Errorf("%w: anthropic: model name %q is not a model id", providers.ErrInvalidRequest, model)
	}
	if !providers.ValidThinkingMode(req.ThinkingMode) {
		return nil, fmt.Errorf("%w: anthropic: unknown thinking mode %q (want minimal, low, medium, high or max)", providers.ErrInvalidRequest, req.ThinkingMode)
	}
	if err := providers.CheckImages(caps, req.Images); err != nil {
		return nil, fmt.Errorf("anthropic: %w", err)
	}

	maxTokens, budget := planTokens(caps, req.ThinkingMode)
	blocks := make([]sdk.ContentBlockParamUnion, 0, len(req.Images)+1)
	for _, img := range req.Images {
		blocks = append(blocks, sdk.NewImageBlockBase64(strings.ToLower(strings.TrimSpace(img.MIMEType)), base64.StdEncoding.EncodeToString(img.Data)))
	}
	blocks = append(blocks, sdk.NewTextBlock(req.Prompt))

	params := sdk.MessageNewParams{
		Model:     sdk.Model(model),
		MaxTokens: int64(maxTokens),
		Messages:  []sdk.MessageParam{sdk.NewUserMessage(blocks...)},
	}
	if req.SystemPrompt != "" {
		params.System = []sdk.TextBlockParam{{Text: req.SystemPrompt}}
	}
	if budget > 0 {
		params.Thinking = sdk.ThinkingConfigParamOfEnabled(int64(budget))
	} else if req.Temperature != nil && caps.AcceptsTemperature() {
		params.Temperature = sdk.Float(min(max(*req.Temperature, 0), 1))
	}
	return &call{model: model, params: params, maxTokens: maxTokens, budget: budget}, nil
}

// planTokens chooses max_tokens and the thinking budget (0: no thinking), in tokens.
//
// max_tokens is caps.MaxOutputTokens, or DefaultMaxTokens when unset. The budget starts from
// providers.ThinkingBudget (int(max_thinking_tokens × ratio of mode)); it is 0 when the model
// does not support thinking, has no max_thinking_tokens, or mode is empty. A non-zero budget
// is raised to MinThinkingBudget. The API wants max_tokens > budget_tokens, so:
//   - when the catalogue gives no max_output_tokens, max_tokens becomes budget +
//     DefaultMaxTokens;
//   - otherwise the budget is lowered to leave minAnswerTokens for the answer, and thinking is
//     dropped if what remains is under MinThinkingBudget.
func planTokens(caps *providers.Capabilities, mode string) (maxTokens, budget int) {
	maxTokens = caps.MaxOutputTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	budget = providers.ThinkingBudget(caps, mode)
	if budget <= 0 {
		return maxTokens, 0
	}
	budget = max(budget, MinThinkingBudget)
	if caps.MaxOutputTokens <= 0 {
		return budget + DefaultMaxTokens, budget
	}
	if budget > maxTokens-minAnswerTokens {
		budget = maxTokens - minAnswerTokens
	}
	if budget < MinThinkingBudget {
		return maxTokens, 0
	}
	return maxTokens, budget
}
