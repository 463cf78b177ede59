// Package providers talks to model APIs on the host's behalf. Keys live here and nowhere else:
// a tool module asks for a generation through the host, and only text comes back.
//
// The package root holds the shared vocabulary: the Provider interface, requests, responses,
// model capabilities, typed errors and the retry loop. Each API family lives in a subpackage
// (openaicompat, gemini, anthropic); the catalogue of models in catalog; choosing a provider
// for a model name, restrictions and auto selection in registry.
package providers

import (
	"context"
)

// Type names a provider family. The values are PAL's ProviderType strings, so logs, listings and
// allowlists read the same as in PAL.
type Type string

// The provider types, in PAL's priority order (see Priority).
const (
	Google     Type = "google"
	OpenAI     Type = "openai"
	Azure      Type = "azure"
	XAI        Type = "xai"
	DIAL       Type = "dial"
	Custom     Type = "custom"
	OpenRouter Type = "openrouter"
	Anthropic  Type = "anthropic"
)

// Priority is the order in which providers are asked whether they serve a model name: native
// APIs first, OpenRouter (the catch-all) last. Anthropic's native API sits with the other
// native providers, before DIAL, custom and OpenRouter.
var Priority = []Type{Google, OpenAI, Azure, XAI, Anthropic, DIAL, Custom, OpenRouter}

// Category is a tool's model-selection class, used when the client asks for "auto".
type Category string

// The tool categories (PAL's ToolModelCategory).
const (
	CategoryFast     Category = "fast"     // FAST_RESPONSE
	CategoryBalanced Category = "balanced" // BALANCED
	CategoryExtended Category = "extended" // EXTENDED_REASONING
)

// Image is one image attached to a request, already read and checked by the host.
type Image struct {
	MIMEType string // image/png, image/jpeg, image/gif or image/webp
	Data     []byte // raw bytes, not base64
}

// Request is one generation. Model is the canonical model name (aliases already resolved).
type Request struct {
	Model        string
	SystemPrompt string
	Prompt       string
	Images       []Image
	// Temperature is nil when the model does not accept one; otherwise already corrected to
	// the model's constraint.
	Temperature *float64
	// ThinkingMode is "", minimal, low, medium, high or max.
	ThinkingMode string
}

// Usage counts tokens as the provider reported them; zero when it reported none.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// Response is a finished generation.
type Response struct {
	Content      string
	Model        string // the model that answered, as the provider named it
	Provider     Type
	FinishReason string // normalised to lower case: stop, length, safety, …
	Usage        Usage
}

// Provider is one configured API. Implementations must be safe for concurrent use, must honour
// ctx (cancellation stops a retry loop at once), and must never put the key into an error, a
// log line or a response.
type Provider interface {
	// Type names the family.
	Type() Type
	// Generate runs one request against caps, the catalogue entry for req.Model.
	Generate(ctx context.Context, caps *Capabilities, req Request) (*Response, error)
}
