package openaicompat

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pal-mcp/pal/providers"
)

// allowedImageTypes are the MIME types sent as data URLs.
var allowedImageTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}

// checkRequest refuses what cannot be sent: no prompt at all, images for a model without
// image support, unknown image types, empty images.
func checkRequest(caps *providers.Capabilities, req providers.Request) error {
	if req.Prompt == "" && len(req.Images) == 0 {
		return fmt.Errorf("%w: empty prompt", providers.ErrInvalidRequest)
	}
	if len(req.Images) > 0 && !caps.SupportsImages {
		return fmt.Errorf("%w: model %s does not accept images", providers.ErrInvalidRequest, req.Model)
	}
	for i, img := range req.Images {
		if !allowedImageTypes[img.MIMEType] {
			return fmt.Errorf("%w: image %d has unsupported type %q", providers.ErrInvalidRequest, i+1, img.MIMEType)
		}
		if len(img.Data) == 0 {
			return fmt.Errorf("%w: image %d is empty", providers.ErrInvalidRequest, i+1)
		}
	}
	return nil
}

// dataURL renders an image as data:<mime>;base64,<data>.
func dataURL(img providers.Image) string {
	return "data:" + img.MIMEType + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
}

// wireTemperature converts a temperature for go-openai, whose float32 field is omitted when
// zero: 0 becomes the smallest positive float32 (1e-45), the library's documented way to send
// an explicit zero.
func wireTemperature(t float64) float32 {
	if t == 0 {
		return math.SmallestNonzeroFloat32
	}
	return float32(t)
}

// chatRequest builds the chat completions body: [system?, user], stream false, temperature only
// when given and accepted, never max_tokens.
func chatRequest(wireModel string, caps *providers.Capabilities, req providers.Request) openai.ChatCompletionRequest {
	out := openai.ChatCompletionRequest{Model: wireModel, Stream: false}
	if req.SystemPrompt != "" {
		out.Messages = append(out.Messages, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: req.SystemPrompt})
	}
	user := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser}
	if len(req.Images) == 0 {
		user.Content = req.Prompt
	} else {
		if req.Prompt != "" {
			user.MultiContent = append(user.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: req.Prompt})
		}
		for _, img := range req.Images {
			user.MultiContent = append(user.MultiContent, openai.ChatMessagePart{
				Type:     openai.ChatMessagePartTypeImageURL,
				ImageURL: &openai.ChatMessageImageURL{URL: dataURL(img)},
			})
		}
	}
	out.Messages = append(out.Messages, user)
	if req.Temperature != nil && caps.AcceptsTemperature() {
		out.Temperature = wireTemperature(*req.Temperature)
	}
	return out
}

// result is one decoded answer before the empty/blocked checks.
type result struct {
	content      string
	finishReason string // lower case
	model        string
	usage        providers.Usage
	refusal      string // the model's refusal text, when it refused
}

// chatResult reads the first choice of a chat completion. A response without choices is an
// upstream hiccup (OpenRouter and proxies return one when a backend fails mid-request).
func chatResult(r *openai.ChatCompletionResponse) (result, error) {
	out := result{
		model: r.Model,
		usage: usageOf(r.Usage.PromptTokens, r.Usage.CompletionTokens, r.Usage.TotalTokens),
	}
	if len(r.Choices) == 0 {
		return out, errNoChoices
	}
	c := r.Choices[0]
	out.finishReason = strings.ToLower(strings.TrimSpace(string(c.FinishReason)))
	if out.finishReason == string(openai.FinishReasonNull) {
		out.finishReason = ""
	}
	out.content = c.Message.Content
	if out.content == "" {
		var b strings.Builder
		for _, part := range c.Message.MultiContent {
			if part.Type == openai.ChatMessagePartTypeText {
				b.WriteString(part.Text)
			}
		}
		out.content = b.String()
	}
	out.refusal = c.Message.Refusal
	return out, nil
}

func usageOf(in, out, total int) providers.Usage {
	u := providers.Usage{InputTokens: max(in, 0), OutputTokens: max(out, 0), TotalTokens: max(total, 0)}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.InputTokens + u.OutputTokens
	}
	return u
}
