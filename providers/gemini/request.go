package gemini

import (
	"fmt"

	"google.golang.org/genai"

	"github.com/pal-mcp/pal/internal/boundedre"
	"github.com/pal-mcp/pal/providers"
)

// call is one request, built and checked before anything is sent.
type call struct {
	model    string
	contents []*genai.Content
	config   *genai.GenerateContentConfig
	budget   int // thinking budget in tokens; 0 when none is sent
}

// modelNamePattern is what a Gemini model id may look like. The name becomes a URL path
// segment (/v1beta/models/<name>:generateContent), so slashes, dots-only names, '?' and '%'
// are refused rather than escaped.
var modelNamePattern = boundedre.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`, 128)

// buildCall turns req into the SDK's request. It fails with providers.ErrInvalidRequest when
// the request cannot be sent as it is: no capabilities, a model name that is not a plain id,
// images refused by providers.CheckImages (no image support, type, bytes, count, size), an
// unknown thinking mode.
func buildCall(caps *providers.Capabilities, req providers.Request) (*call, error) {
	if caps == nil {
		return nil, fmt.Errorf("%w: google: no capabilities for model %q", providers.ErrInvalidRequest, req.Model)
	}
	model := req.Model
	if model == "" {
		model = caps.ModelName
	}
	if !modelNamePattern.MatchString(model) {
		return nil, fmt.Errorf("%w: google: model name %q is not a plain model id", providers.ErrInvalidRequest, model)
	}
	budget, err := thinkingBudget(caps, req.ThinkingMode)
	if err != nil {
		return nil, err
	}
	if err := providers.CheckImages(caps, req.Images); err != nil {
		return nil, fmt.Errorf("google: %w", err)
	}

	config := &genai.GenerateContentConfig{
		CandidateCount:        1,
		AutomaticContinuation: genai.Ptr(false),
	}
	text := req.Prompt
	if req.SystemPrompt != "" {
		if caps.SupportsSystemPrompts == nil || *caps.SupportsSystemPrompts {
			config.SystemInstruction = &genai.Content{
				Role:  genai.RoleUser,
				Parts: []*genai.Part{{Text: req.SystemPrompt}},
			}
		} else {
			text = req.SystemPrompt + "\n\n" + req.Prompt
		}
	}
	if req.Temperature != nil && caps.AcceptsTemperature() {
		config.Temperature = genai.Ptr(float32(*req.Temperature))
	}
	if budget > 0 {
		config.ThinkingConfig = &genai.ThinkingConfig{ThinkingBudget: genai.Ptr(int32(budget))}
	}

	parts := []*genai.Part{{Text: text}}
	for _, img := range req.Images {
		parts = append(parts, &genai.Part{InlineData: &genai.Blob{MIMEType: img.MIMEType, Data: img.Data}})
	}
	return &call{
		model:    model,
		contents: []*genai.Content{{Role: genai.RoleUser, Parts: parts}},
		config:   config,
		budget:   budget,
	}, nil
}
