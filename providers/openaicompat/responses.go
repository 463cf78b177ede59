package openaicompat

import (
	"encoding/json"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pal-mcp/pal/providers"
)

// DefaultReasoningEffort is sent as reasoning.effort when the catalogue gives none.
const DefaultReasoningEffort = "medium"

// responsesRequest builds a Responses API body as PAL does: the system prompt becomes a user
// message of one input_text part, the prompt a second user message (plus input_image parts),
// reasoning.effort from the catalogue, store true unless the provider is OpenRouter. PAL sends
// no temperature and no token limit on this endpoint; neither does this.
func responsesRequest(wireModel string, caps *providers.Capabilities, req providers.Request, store bool) openai.CreateResponseRequest {
	var input []openai.ResponseInputMessage
	if req.SystemPrompt != "" {
		input = append(input, openai.ResponseInputMessage{
			Role:    openai.ChatMessageRoleUser,
			Content: []any{openai.ResponseInputText{Type: "input_text", Text: req.SystemPrompt}},
		})
	}
	var parts []any
	if req.Prompt != "" {
		parts = append(parts, openai.ResponseInputText{Type: "input_text", Text: req.Prompt})
	}
	for _, img := range req.Images {
		parts = append(parts, openai.ResponseInputImage{Type: "input_image", ImageURL: dataURL(img)})
	}
	input = append(input, openai.ResponseInputMessage{Role: openai.ChatMessageRoleUser, Content: parts})

	effort := strings.TrimSpace(caps.DefaultReasoningEffort)
	if effort == "" {
		effort = DefaultReasoningEffort
	}
	out := openai.CreateResponseRequest{
		Model:     wireModel,
		Input:     input,
		Reasoning: &openai.ResponseReasoning{Effort: effort},
	}
	if store {
		t := true
		out.Store = &t
	}
	return out
}

// responsesResult reads a Responses API answer. completed → finish "stop"; incomplete → the
// incomplete reason ("max_output_tokens" reported as "length"); failed → an error built from
// the embedded error object.
func responsesResult(r *openai.CreateResponseResponse) (result, *errorInfo) {
	out := result{model: r.Model}
	if r.Usage != nil {
		out.usage = usageOf(r.Usage.InputTokens, r.Usage.OutputTokens, r.Usage.TotalTokens)
	}
	switch r.Status {
	case openai.ResponseStatusFailed, openai.ResponseStatusCancelled:
		info := errorInfo{Message: "response " + string(r.Status), Code: string(r.Status)}
		if r.Error != nil {
			info.Code, info.Message = r.Error.Code, r.Error.Message
		}
		return out, &info
	case openai.ResponseStatusIncomplete:
		reason := ""
		if r.IncompleteDetails != nil {
			reason = strings.ToLower(r.IncompleteDetails.Reason)
		}
		switch reason {
		case "max_output_tokens", "":
			out.finishReason = "length"
		default:
			out.finishReason = reason
		}
	case openai.ResponseStatusCompleted, "":
		out.finishReason = "stop"
	default:
		out.finishReason = strings.ToLower(string(r.Status))
	}
	out.content = r.GetOutputText()
	for _, raw := range r.Output {
		b, err := json.Marshal(raw)
		if err != nil {
			continue
		}
		var item openai.ResponseOutputItem
		if json.Unmarshal(b, &item) != nil {
			continue
		}
		for _, c := range item.Content {
			if c.Type == "refusal" && c.Refusal != "" {
				out.refusal = c.Refusal
			}
		}
	}
	return out, nil
}

// responsesFailure classifies the error object of a failed response (HTTP 200, status
// "failed"): rate_limit_exceeded is retried like a 429, server_error like a 5xx.
func responsesFailure(info errorInfo) (providers.ErrorKind, bool) {
	switch strings.ToLower(info.Code) {
	case "rate_limit_exceeded":
		return providers.KindRateLimit, true
	case "server_error", "cancelled":
		return providers.KindTransient, true
	case "insufficient_quota":
		return providers.KindQuota, false
	case "context_length_exceeded":
		return providers.KindContextLength, false
	}
	return providers.KindInvalid, false
}
