package anthropic

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/internal/providertest"
)

// FuzzInterpret feeds arbitrary Messages API bodies to the response reader: no panic, either
// text or an ErrBlocked error, lower-case finish reasons, and never the key in an error.
func FuzzInterpret(f *testing.F) {
	for _, seed := range []string{
		okBody, emptyEndTurnBody,
		`{"content":[{"type":"thinking","thinking":"x"},{"type":"text","text":"y"}],"stop_reason":"end_turn"}`,
		`{"content":[],"stop_reason":"refusal","stop_details":{"category":"cyber","explanation":"` + testKey + `"}}`,
		`{"content":[{"type":"text","text":" "}],"stop_reason":"max_tokens"}`,
		`{"content":[null,{"type":"text"}],"stop_reason":"` + testKey + `"}`,
		`{"usage":{"input_tokens":-5,"output_tokens":9223372036854775807}}`, `{}`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var msg *sdk.Message
		if err := json.Unmarshal(body, &msg); err != nil {
			return
		}
		a, err := interpret(msg, testKey)
		var text, finish string
		if a != nil {
			text, finish = a.text, a.finish
		}
		providertest.CheckInterpreted(t, a != nil, text, finish, err, testKey)
	})
}

// FuzzClassifyErrorBody decodes arbitrary error bodies with any status: only rate limits and
// transient failures may be retried, rate limits always are, the message is bounded valid
// UTF-8 and never holds the key.
func FuzzClassifyErrorBody(f *testing.F) {
	f.Add(429, []byte(errBody("rate_limit_error", "slow down")))
	f.Add(529, []byte(errBody("overloaded_error", "Overloaded")))
	f.Add(400, []byte(errBody("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")))
	f.Add(401, []byte(errBody("authentication_error", "invalid x-api-key "+testKey)))
	f.Add(502, []byte("<html>"+testKey+"</html>"))
	f.Add(0, []byte(`{"type":"error","error":{"type":"overloaded_error","message":"?api_key=`+testKey+`"}}`))
	f.Add(0, []byte(`{"error":{"type":7}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		errType, message, requestID := decodeErrorBody(body)
		e := classifyStatus(status, errType, message, requestID, testKey)
		if e.Retryable && e.Kind != providers.KindRateLimit && e.Kind != providers.KindTransient {
			t.Fatalf("retryable %v", e.Kind)
		}
		if e.Kind == providers.KindRateLimit && !e.Retryable {
			t.Fatal("rate limit not retryable")
		}
		if (status == 429 || status == 529 || status >= 500) && !e.Retryable {
			t.Fatalf("status %d not retried", status)
		}
		if (status == 400 || status == 401 || status == 403) && e.Retryable {
			t.Fatalf("status %d retried", status)
		}
		if strings.Contains(e.Error(), testKey) {
			t.Fatalf("key in %q", e.Error())
		}
		if !utf8.ValidString(e.Message) || utf8.RuneCountInString(e.Message) > maxMessageRunes+1 {
			t.Fatalf("message not bounded or not UTF-8: %d bytes", len(e.Message))
		}
	})
}

func TestPlanTokens(t *testing.T) {
	t.Parallel()
	caps := func(maxOut, maxThink int, thinking bool) *providers.Capabilities {
		return &providers.Capabilities{ModelName: "claude-x", MaxOutputTokens: maxOut, MaxThinkingTokens: maxThink, SupportsThinking: thinking}
	}
	tests := []struct {
		caps                *providers.Capabilities
		mode                string
		wantMax, wantBudget int
	}{
		{caps(64000, 32000, true), "medium", 64000, 10560},
		{caps(64000, 32000, true), "minimal", 64000, MinThinkingBudget},
		{caps(0, 32000, true), "max", 32000 + DefaultMaxTokens, 32000},
		{caps(0, 0, false), "max", DefaultMaxTokens, 0},
		{caps(2048, 32000, true), "max", 2048, 1024},  // lowered to leave 1024 for the answer
		{caps(2047, 32000, true), "max", 2047, 0},     // 1023 left: below the API minimum
		{caps(64000, 32000, false), "high", 64000, 0}, // no thinking support
		{caps(64000, 32000, true), "", 64000, 0},
	}
	for _, tc := range tests {
		gotMax, gotBudget := planTokens(tc.caps, tc.mode)
		if gotMax != tc.wantMax || gotBudget != tc.wantBudget {
			t.Errorf("planTokens(out %d, think %d, %q) = %d, %d; want %d, %d",
				tc.caps.MaxOutputTokens, tc.caps.MaxThinkingTokens, tc.mode, gotMax, gotBudget, tc.wantMax, tc.wantBudget)
		}
		if gotBudget > 0 && (gotBudget < MinThinkingBudget || gotBudget >= gotMax) {
			t.Errorf("budget %d with max_tokens %d breaks the API's rules", gotBudget, gotMax)
		}
	}
}

func TestDecodeErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body                string
		errType, msg, reqID string
	}{
		{errBody("overloaded_error", "Overloaded"), "overloaded_error", "Overloaded", "req_011CSHoEeqs5C35K2UUqR7Fy"},
		{"upstream connect error", "", "upstream connect error", ""},
		{`{"message":"not the envelope"}`, "", `{"message":"not the envelope"}`, ""},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		errType, msg, reqID := decodeErrorBody([]byte(tc.body))
		if errType != tc.errType || msg != tc.msg || reqID != tc.reqID {
			t.Errorf("decodeErrorBody(%q) = %q, %q, %q", tc.body, errType, msg, reqID)
		}
	}
}
