package anthropic

import (
	"encoding/json"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
)

const testKey = "sk-test-KEY-7f3a9c"

type reply = providertest.Reply

// harness is this package under the shared provider checks, with a loopback Messages API.
var harness = providertest.Harness{
	Type:  providers.Anthropic,
	Build: New,
	API: providertest.API{
		ContentType: "application/json",
		NoReply:     reply{Status: 500, Body: errBody("api_error", "no reply queued")},
	},
	Key:  testKey,
	Caps: sonnetCaps,
}

var (
	newFakeAPI      = harness.Start
	newTestProvider = harness.Provider
)

// okBody is a recorded-shape successful Messages API answer.
const okBody = `{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "Hello from Claude."}],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 12,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 6,
    "service_tier": "standard"
  }
}`

// emptyEndTurnBody: the turn ended normally with no text block.
const emptyEndTurnBody = `{
  "id": "msg_01EmptyEmptyEmptyEmpty0000",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {"input_tokens": 12, "output_tokens": 1}
}`

// errBody is the Messages API error envelope.
func errBody(errType, message string) string {
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": errType, "message": message},
		"request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
	})
	return string(b)
}

// sonnetCaps is the shipped catalogue entry for claude-sonnet-4-5.
func sonnetCaps() *providers.Capabilities {
	return &providers.Capabilities{
		Provider: providers.Anthropic, ModelName: "claude-sonnet-4-5", ContextWindow: 200000,
		MaxOutputTokens: 64000, MaxThinkingTokens: 32000, SupportsThinking: true, SupportsImages: true,
		MaxImageSizeMB: 20,
	}
}
