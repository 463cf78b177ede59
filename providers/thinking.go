package providers

import "strings"

// ThinkingModes are the accepted thinking_mode values, least to most thinking.
var ThinkingModes = []string{"minimal", "low", "medium", "high", "max"}

// thinkingRatios is the share of max_thinking_tokens each mode may spend.
var thinkingRatios = map[string]float64{
	"minimal": 0.005,
	"low":     0.08,
	"medium":  0.33,
	"high":    0.67,
	"max":     1.0,
}

// ValidThinkingMode reports whether mode is "" (no preference) or one of ThinkingModes, in any case.
func ValidThinkingMode(mode string) bool {
	mode = strings.ToLower(strings.TrimSpace(mode))
	_, ok := thinkingRatios[mode]
	return mode == "" || ok
}

// ThinkingBudget is the thinking-token budget for mode on this model:
// int(max_thinking_tokens × ratio), ratios minimal 0.005, low 0.08, medium 0.33, high 0.67,
// max 1.0, truncated toward zero. For gemini-3-pro models "medium" counts as "high" (PAL's
// upgrade). Zero — send no thinking configuration — when the model does not support thinking,
// has no max_thinking_tokens, or mode is "" or unknown. Gemini sends the budget as is;
// Anthropic must also respect its own minimum (1024) and keep max_tokens above the budget.
func ThinkingBudget(caps *Capabilities, mode string) int {
	if caps == nil || !caps.SupportsThinking || caps.MaxThinkingTokens <= 0 {
		return 0
	}
	mode = strings.ToLower(strings.TrimSpace(mode))
	if mode == "medium" && strings.Contains(strings.ToLower(caps.ModelName), "gemini-3-pro") {
		mode = "high"
	}
	ratio, ok := thinkingRatios[mode]
	if !ok {
		return 0
	}
	return int(float64(caps.MaxThinkingTokens) * ratio)
}
