package providers

// TemperatureConstraint says which temperatures a model accepts.
type TemperatureConstraint string

// The constraint kinds of PAL's catalogue. An empty constraint means Range.
const (
	TemperatureFixed    TemperatureConstraint = "fixed"    // only 1.0
	TemperatureRange    TemperatureConstraint = "range"    // 0 to 2, default 0.3
	TemperatureDiscrete TemperatureConstraint = "discrete" // 0, 0.3, 0.7, 1, 1.5, 2
)

// Capabilities is one model's catalogue entry. The JSON names are PAL's catalogue fields, so a
// PAL catalogue file loads unchanged.
type Capabilities struct {
	Provider Type `json:"-"`

	ModelName              string                `json:"model_name"`
	FriendlyName           string                `json:"friendly_name,omitempty"`
	Aliases                []string              `json:"aliases,omitempty"`
	IntelligenceScore      int                   `json:"intelligence_score,omitempty"` // 1 to 20; 0 means 10
	Description            string                `json:"description,omitempty"`
	ContextWindow          int                   `json:"context_window,omitempty"`      // tokens
	MaxOutputTokens        int                   `json:"max_output_tokens,omitempty"`   // tokens
	MaxThinkingTokens      int                   `json:"max_thinking_tokens,omitempty"` // tokens; Gemini's budget base
	SupportsThinking       bool                  `json:"supports_extended_thinking,omitempty"`
	SupportsSystemPrompts  *bool                 `json:"supports_system_prompts,omitempty"` // nil means true
	SupportsStreaming      *bool                 `json:"supports_streaming,omitempty"`      // nil means true
	SupportsFunctionCalls  bool                  `json:"supports_function_calling,omitempty"`
	SupportsJSONMode       bool                  `json:"supports_json_mode,omitempty"`
	SupportsImages         bool                  `json:"supports_images,omitempty"`
	MaxImageSizeMB         float64               `json:"max_image_size_mb,omitempty"`    // total per request
	SupportsTemperature    *bool                 `json:"supports_temperature,omitempty"` // nil means true
	TemperatureConstraint  TemperatureConstraint `json:"temperature_constraint,omitempty"`
	UseResponsesAPI        bool                  `json:"use_openai_response_api,omitempty"`
	DefaultReasoningEffort string                `json:"default_reasoning_effort,omitempty"`
	AllowCodeGeneration    bool                  `json:"allow_code_generation,omitempty"`
	// Deployment is the Azure deployment (or DIAL deployment) that serves this model.
	Deployment string `json:"deployment,omitempty"`
	// ProviderOverride is OpenRouter's per-entry "provider" field.
	ProviderOverride string `json:"provider,omitempty"`
}

// AcceptsTemperature reports whether a temperature may be sent for this model.
func (c *Capabilities) AcceptsTemperature() bool {
	return c.SupportsTemperature == nil || *c.SupportsTemperature
}
