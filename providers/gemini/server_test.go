package gemini

import (
	"encoding/json"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
)

const testKey = "sk-test-KEY-7f3a9c"

type reply = providertest.Reply

// harness is this package under the shared provider checks, with a loopback Gemini API.
var harness = providertest.Harness{
	Type:  providers.Google,
	Build: New,
	API: providertest.API{
		ContentType: "application/json; charset=UTF-8",
		NoReply:     reply{Status: 500, Body: `{"error":{"code":500,"message":"no reply queued","status":"INTERNAL"}}`},
	},
	Key:  testKey,
	Caps: flashCaps,
}

var (
	newFakeAPI      = harness.Start
	newTestProvider = harness.Provider
)

// okBody is a recorded-shape successful generateContent answer.
const okBody = `{
  "candidates": [
    {
      "content": {"parts": [{"text": "Hello from Gemini."}], "role": "model"},
      "finishReason": "STOP",
      "index": 0,
      "safetyRatings": [
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}
      ]
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 12,
    "candidatesTokenCount": 5,
    "totalTokenCount": 40,
    "thoughtsTokenCount": 23,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}]
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "mJ3xZ6a2L9yW1MkP0oLq8Qs"
}`

// emptyStopBody: the model stopped normally with no text at all.
const emptyStopBody = `{
  "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
  "modelVersion": "gemini-2.5-flash"
}`

func errBody(code int, status, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
	return string(b)
}

func flashCaps() *providers.Capabilities {
	return &providers.Capabilities{
		Provider: providers.Google, ModelName: "gemini-2.5-flash", ContextWindow: 1048576,
		MaxOutputTokens: 65536, MaxThinkingTokens: 24576, SupportsThinking: true, SupportsImages: true,
		MaxImageSizeMB: 20,
	}
}

func proCaps(name string) *providers.Capabilities {
	return &providers.Capabilities{
		Provider: providers.Google, ModelName: name, ContextWindow: 1048576,
		MaxOutputTokens: 65536, MaxThinkingTokens: 32768, SupportsThinking: true, SupportsImages: true,
	}
}
