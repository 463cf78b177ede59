package gemini

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/genai"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
)

// FuzzInterpret feeds arbitrary generateContent bodies to the response reader: it must not
// panic, must return either text or an ErrBlocked error, and must never quote the key.
func FuzzInterpret(f *testing.F) {
	for _, seed := range []string{
		okBody, emptyStopBody,
		`{"candidates":[{"finishReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"HIGH","blocked":true}]}]}`,
		`{"promptFeedback":{"blockReason":"OTHER","blockReasonMessage":"` + testKey + `"}}`,
		`{"candidates":[{"content":{"parts":[{"text":"x","thought":true}]},"finishReason":"STOP"}]}`,
		`{"candidates":[null]}`, `{"candidates":[{"content":{"parts":[null,{"text":"ok"}]}}]}`,
		`{"candidates":[{"finishReason":"` + testKey + `"}]}`, `{}`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp *genai.GenerateContentResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			return
		}
		a, err := interpret(resp, testKey)
		var text, finish string
		if a != nil {
			text, finish = a.text, a.finish
		}
		providertest.CheckInterpreted(t, a != nil, text, finish, err, testKey)
	})
}

// FuzzClassifyErrorBody decodes arbitrary error bodies the way the SDK does and classifies
// them: only rate limits and transient failures may be retried, the message is bounded and
// valid UTF-8, and the key never survives.
func FuzzClassifyErrorBody(f *testing.F) {
	f.Add(429, []byte(errBody(429, "RESOURCE_EXHAUSTED", "Too many requests")))
	f.Add(429, []byte(errBody(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota")))
	f.Add(400, []byte(errBody(400, "INVALID_ARGUMENT", "The input token count (5) exceeds the maximum number of tokens allowed (4).")))
	f.Add(503, []byte("<html>"+testKey+"</html>"))
	f.Add(0, []byte(`{"error":{"status":"UNAVAILABLE","message":"?key=`+testKey+`"}}`))
	f.Add(307, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		// As genai's newAPIError: the "error" object when there is one, the raw body otherwise.
		var wrapped struct {
			Error *genai.APIError `json:"error"`
		}
		ae := genai.APIError{Code: status, Status: "HTTP", Message: string(body)}
		if json.Unmarshal(body, &wrapped) == nil && wrapped.Error != nil {
			ae = *wrapped.Error
		}
		e := classify(ae, testKey)
		if e.Retryable && e.Kind != providers.KindRateLimit && e.Kind != providers.KindTransient {
			t.Fatalf("retryable %v", e.Kind)
		}
		if e.Kind == providers.KindRateLimit && !e.Retryable {
			t.Fatal("rate limit not retryable")
		}
		if strings.Contains(e.Error(), testKey) {
			t.Fatalf("key in %q", e.Error())
		}
		if !utf8.ValidString(e.Message) || utf8.RuneCountInString(e.Message) > maxMessageRunes+64 {
			t.Fatalf("message not bounded or not UTF-8: %d runes", utf8.RuneCountInString(e.Message))
		}
	})
}

func TestThinkingBudgetRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		caps    *providers.Capabilities
		mode    string
		want    int
		wantErr bool
	}{
		{proCaps("gemini-2.5-pro"), "MEDIUM", 10813, false}, // case-insensitive
		{proCaps("gemini-2.5-pro"), " high ", 21954, false},
		{proCaps("gemini-2.5-pro"), "ultra", 0, true},
		{&providers.Capabilities{ModelName: "x", SupportsThinking: true, MaxThinkingTokens: 100}, "minimal", 0, false}, // truncates to 0: nothing sent
		{&providers.Capabilities{ModelName: "x", MaxThinkingTokens: 100}, "ultra", 0, true},                            // bad mode refused even without thinking
	}
	for _, tc := range tests {
		got, err := thinkingBudget(tc.caps, tc.mode)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("thinkingBudget(%s, %q) = %d, %v; want %d, err %v", tc.caps.ModelName, tc.mode, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, providers.ErrInvalidRequest) {
			t.Errorf("err %v is not ErrInvalidRequest", err)
		}
	}
}
