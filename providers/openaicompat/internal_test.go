package openaicompat

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pal-mcp/pal/providers"
)

const internalKey = "sk-test-KEY-7f3a9c"

func TestParseErrorBody(t *testing.T) {
	cases := []struct {
		name string
		body string
		want errorInfo
	}{
		{"openai", `{"error":{"message":"m","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`, errorInfo{"m", "tokens", "rate_limit_exceeded"}},
		{"numeric code", `{"error":{"code":503,"message":"No instances available"}}`, errorInfo{"No instances available", "", "503"}},
		{"azure inner code", `{"error":{"message":"filtered","innererror":{"code":"ResponsibleAIPolicyViolation"}}}`, errorInfo{"filtered", "", "ResponsibleAIPolicyViolation"}},
		{"message list", `{"error":{"message":["a","b"],"type":"invalid_request_error"}}`, errorInfo{"a; b", "invalid_request_error", ""}},
		{"ollama string", `{"error":"model not found"}`, errorInfo{Message: "model not found"}},
		{"top-level message", `{"object":"error","message":"too long","type":"BadRequestError","code":400}`, errorInfo{"too long", "BadRequestError", "400"}},
		{"fastapi detail", `{"detail":"Not Found"}`, errorInfo{Message: "Not Found"}},
		{"fastapi detail list", `{"detail":[{"loc":["body","model"],"msg":"field required"}]}`, errorInfo{Message: `{"loc":["body","model"],"msg":"field required"}`}},
		{"array wrapped", `[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}]`, errorInfo{"Resource exhausted", "", "429"}},
		{"html", "<html><body>Bad Gateway</body></html>\n", errorInfo{Message: "<html><body>Bad Gateway</body></html>"}},
		{"empty", "", errorInfo{}},
		{"json without error fields", `{"foo":1}`, errorInfo{Message: `{"foo":1}`}},
		{"json scalar", `42`, errorInfo{Message: "42"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErrorBody([]byte(tc.body)); got != tc.want {
				t.Errorf("parseErrorBody = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	cases := []struct {
		status int
		info   errorInfo
		kind   providers.ErrorKind
		retry  bool
	}{
		{429, errorInfo{Code: "rate_limit_exceeded", Type: "requests"}, providers.KindRateLimit, true},
		{429, errorInfo{}, providers.KindRateLimit, true},
		{429, errorInfo{Code: "rate_limit_exceeded", Type: "tokens"}, providers.KindContextLength, false},
		{429, errorInfo{Code: "context_length_exceeded"}, providers.KindContextLength, false},
		{429, errorInfo{Code: "invalid_request_error"}, providers.KindContextLength, false},
		{429, errorInfo{Code: "insufficient_quota"}, providers.KindQuota, false},
		{429, errorInfo{Type: "insufficient_quota"}, providers.KindQuota, false},
		{429, errorInfo{Message: "You exceeded your current quota, please check your plan"}, providers.KindQuota, false},
		{401, errorInfo{}, providers.KindAuth, false},
		{403, errorInfo{}, providers.KindAuth, false},
		{408, errorInfo{}, providers.KindTransient, true},
		{500, errorInfo{}, providers.KindTransient, true},
		{503, errorInfo{}, providers.KindTransient, true},
		{529, errorInfo{}, providers.KindTransient, true},
		{400, errorInfo{Code: "context_length_exceeded"}, providers.KindContextLength, false},
		{400, errorInfo{}, providers.KindInvalid, false},
		{404, errorInfo{}, providers.KindInvalid, false},
		{422, errorInfo{}, providers.KindInvalid, false},
		{200, errorInfo{}, providers.KindUnknown, false},
	}
	for _, tc := range cases {
		kind, retry := kindOf(tc.status, tc.info)
		if kind != tc.kind || retry != tc.retry {
			t.Errorf("kindOf(%d, %+v) = %v, %v; want %v, %v", tc.status, tc.info, kind, retry, tc.kind, tc.retry)
		}
	}
}

// TestScrub: the provider scrubs its own key and cuts at MaxErrorMessageRunes; the patterns
// themselves are providers.ScrubErrorText's and tested there.
func TestScrub(t *testing.T) {
	p := &provider{key: internalKey}
	if got := p.scrub("key " + internalKey + " here"); got != "key [redacted] here" {
		t.Errorf("scrub kept the key: %q", got)
	}
	long := strings.Repeat("é", 5000)
	if n := utf8.RuneCountInString(p.scrub(long)); n != MaxErrorMessageRunes+1 {
		t.Errorf("long message cut to %d runes, want %d", n, MaxErrorMessageRunes+1)
	}
	if got := (&provider{}).scrub("no key configured"); got != "no key configured" {
		t.Errorf("scrub without a key changed text: %q", got)
	}
}

func TestTimeouts(t *testing.T) {
	cases := []struct {
		name          string
		s             providers.Settings
		base          string
		connect, read time.Duration
	}{
		{"openai default", providers.Settings{Type: providers.OpenAI}, DefaultOpenAIBaseURL, 30 * time.Second, 600 * time.Second},
		{"openrouter default", providers.Settings{Type: providers.OpenRouter}, DefaultOpenRouterBaseURL, 30 * time.Second, 600 * time.Second},
		{"custom localhost", providers.Settings{Type: providers.Custom}, "http://localhost:11434/v1", 60 * time.Second, 1800 * time.Second},
		{"custom loopback ip", providers.Settings{Type: providers.Custom}, "http://127.0.0.1:1234/v1", 60 * time.Second, 1800 * time.Second},
		{"custom private ip", providers.Settings{Type: providers.Custom}, "http://192.168.1.20:8000/v1", 60 * time.Second, 1800 * time.Second},
		{"custom ipv6 loopback", providers.Settings{Type: providers.Custom}, "http://[::1]:8000/v1", 60 * time.Second, 1800 * time.Second},
		{"custom docker host", providers.Settings{Type: providers.Custom}, "http://host.docker.internal:11434/v1", 60 * time.Second, 1800 * time.Second},
		{"custom remote", providers.Settings{Type: providers.Custom}, "https://llm.example.com/v1", 45 * time.Second, 900 * time.Second},
		{"custom public ip", providers.Settings{Type: providers.Custom}, "http://8.8.8.8/v1", 45 * time.Second, 900 * time.Second},
		{"openai pointed at localhost", providers.Settings{Type: providers.OpenAI}, "http://localhost:4000/v1", 60 * time.Second, 1800 * time.Second},
		{"override both", providers.Settings{Type: providers.Custom, ConnectTimeout: 5 * time.Second, ReadTimeout: 7 * time.Second}, "http://localhost/v1", 5 * time.Second, 7 * time.Second},
		{"override read only", providers.Settings{Type: providers.XAI, ReadTimeout: 7 * time.Second}, DefaultXAIBaseURL, 30 * time.Second, 7 * time.Second},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		c, r := timeouts(tc.s, u)
		if c != tc.connect || r != tc.read {
			t.Errorf("%s: timeouts = %v/%v, want %v/%v", tc.name, c, r, tc.connect, tc.read)
		}
	}
}

func TestNewHTTPClientUsesTimeoutsAndNoProxy(t *testing.T) {
	c := newHTTPClient(3*time.Second, 9*time.Second)
	if c.Timeout != 9*time.Second {
		t.Errorf("client timeout = %v, want 9s", c.Timeout)
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", c.Transport)
	}
	if tr.Proxy != nil {
		t.Error("proxy from environment is used; PAL suppresses it")
	}
	if tr.TLSHandshakeTimeout != 3*time.Second || tr.DialContext == nil {
		t.Errorf("TLS handshake timeout %v, dialer set %v", tr.TLSHandshakeTimeout, tr.DialContext != nil)
	}
}

func TestParseBaseURL(t *testing.T) {
	good := map[string]string{
		"https://api.openai.com/v1/": "https://api.openai.com/v1",
		"HTTP://localhost:11434/v1":  "http://localhost:11434/v1",
		"http://[::1]:8080":          "http://[::1]:8080",
		"https://h:65535/x":          "https://h:65535/x",
	}
	for in, want := range good {
		u, err := parseBaseURL(in)
		if err != nil || u.String() != want {
			t.Errorf("parseBaseURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	// Every refusal wraps providers.ErrInvalidBaseURL and names the reason.
	bad := map[string]string{
		"":                       "empty URL",
		"ftp://h":                "scheme",
		"//h/v1":                 "scheme",
		"http://":                "host",
		"http://h:0":             "port",
		"http://h:65536":         "port",
		"http://h:":              "port",
		"http://u:p@h":           "credentials",
		"http://h/v1?x=1":        "query or fragment",
		"http://h/v1?":           "query or fragment",
		"http://h/v1#f":          "query or fragment",
		"http://h/%zz":           "not a URL",
		"http://[::1":            "not a URL",
		"javascript:alert(1)":    "scheme",
		"http://h:port/v1":       "not a URL",
		"https://h:-1/v1":        "not a URL",
		"http://h\n.example.com": "not a URL",
	}
	for in, reason := range bad {
		if _, err := parseBaseURL(in); !errors.Is(err, providers.ErrInvalidBaseURL) || !strings.Contains(err.Error(), reason) {
			t.Errorf("parseBaseURL(%q) err = %v, want ErrInvalidBaseURL for %q", in, err, reason)
		}
	}
}

func TestCapReader(t *testing.T) {
	r := &capReader{r: strings.NewReader("0123456789"), left: 10}
	if b, err := io.ReadAll(r); err != nil || string(b) != "0123456789" {
		t.Errorf("exact size: %q, %v", b, err)
	}
	r = &capReader{r: strings.NewReader("0123456789X"), left: 10}
	if _, err := io.ReadAll(r); !errors.Is(err, errBodyTooLarge) {
		t.Errorf("over size: err = %v, want errBodyTooLarge", err)
	}
}

func TestResponsesFailureKinds(t *testing.T) {
	cases := map[string]providers.ErrorKind{
		"rate_limit_exceeded": providers.KindRateLimit, "server_error": providers.KindTransient,
		"insufficient_quota": providers.KindQuota, "context_length_exceeded": providers.KindContextLength,
		"invalid_prompt": providers.KindInvalid, "": providers.KindInvalid,
	}
	for code, want := range cases {
		if got, _ := responsesFailure(errorInfo{Code: code}); got != want {
			t.Errorf("responsesFailure(%q) = %v, want %v", code, got, want)
		}
	}
}

// FuzzErrorBody feeds arbitrary error bodies through both go-openai's decoding and this
// package's: nothing panics, the message is bounded valid UTF-8, and a key planted anywhere in
// the body never survives.
func FuzzErrorBody(f *testing.F) {
	seeds := []string{
		`{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
		`{"error":{"message":"Request too large","type":"tokens","code":"rate_limit_exceeded"}}`,
		`{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`,
		`{"error":{"code":503,"message":"No instances available","metadata":{"raw":"x"}}}`,
		`{"error":"model \"llama3.2\" not found"}`,
		`{"detail":[{"loc":["body"],"msg":"bad"}]}`,
		`[{"error":{"code":429,"message":"exhausted"}}]`,
		`{"error":{"message":"Authorization: Bearer ` + internalKey + `"}}`,
		`{"error":{"message":["a","b"],"innererror":{"code":"ResponsibleAIPolicyViolation"}}}`,
		"<html>502 Bad Gateway</html>",
		`{"error":{"message":"api-key=` + internalKey + `"}}`,
		"",
		`{"error":null}`,
		`{"error":{"message":1e400}}`,
	}
	for _, s := range seeds {
		for _, status := range []int{400, 429, 500} {
			f.Add(status, []byte(s))
		}
	}
	p := &provider{typ: providers.OpenAI, key: internalKey}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 400 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		// Plant the key in the middle of the body too.
		planted := append(append(append([]byte{}, body[:len(body)/2]...), internalKey...), body[len(body)/2:]...)
		for _, b := range [][]byte{body, planted} {
			info := parseErrorBody(b)
			kind, retry := kindOf(status, info)
			if retry && kind != providers.KindRateLimit && kind != providers.KindTransient {
				t.Fatalf("retryable kind %v", kind)
			}
			// go-openai's own decoding path, as the client would produce it.
			var errRes openai.ErrorResponse
			var err error
			if json.Unmarshal(b, &errRes) == nil && errRes.Error != nil {
				errRes.Error.HTTPStatusCode = status
				err = errRes.Error
			} else {
				err = &openai.RequestError{HTTPStatusCode: status, Body: b}
			}
			out := p.classify(err)
			var apiErr *providers.APIError
			if !errors.As(out, &apiErr) {
				t.Fatalf("classify returned %T", out)
			}
			msg := out.Error()
			if strings.Contains(msg, internalKey) {
				t.Fatalf("key survived: %q", msg)
			}
			if !utf8.ValidString(apiErr.Message) {
				t.Fatalf("invalid UTF-8 message %q", apiErr.Message)
			}
			if utf8.RuneCountInString(apiErr.Message) > MaxErrorMessageRunes+1 {
				t.Fatalf("message too long: %d runes", utf8.RuneCountInString(apiErr.Message))
			}
		}
	})
}

// FuzzSuccessBody decodes arbitrary 200 bodies as chat completions and as Responses API
// answers: nothing panics, finish reasons come out lower case, usage is never negative.
func FuzzSuccessBody(f *testing.F) {
	seeds := []string{
		`{"id":"c","object":"chat.completion","created":1,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`,
		`{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"multi"}]},"finish_reason":"LENGTH"}],"usage":{"prompt_tokens":-5}}`,
		`{"choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":null}]}`,
		`{"choices":[]}`,
		`{"id":"resp_1","object":"response","status":"completed","model":"o3-pro","output":[{"type":"message","content":[{"type":"output_text","text":"x"}]}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`,
		`{"status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]}`,
		`{"status":"failed","error":{"code":"server_error","message":"boom"}}`,
		`{"output":[{"type":"message","content":[{"type":"refusal","refusal":"no"}]}],"output_text":"direct"}`,
		`{"output":[1,"x",null,{"content":"notalist"}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var chat openai.ChatCompletionResponse
		if json.Unmarshal(body, &chat) == nil {
			res, err := chatResult(&chat)
			if err == nil {
				checkResult(t, res)
			}
		}
		var resp openai.CreateResponseResponse
		if json.Unmarshal(body, &resp) == nil {
			res, failure := responsesResult(&resp)
			if failure == nil {
				checkResult(t, res)
			} else if k, _ := responsesFailure(*failure); k == providers.KindUnknown {
				t.Fatalf("failure without a kind: %+v", failure)
			}
		}
	})
}

func checkResult(t *testing.T, res result) {
	t.Helper()
	if res.finishReason != strings.ToLower(res.finishReason) {
		t.Fatalf("finish reason %q not lower case", res.finishReason)
	}
	u := res.usage
	if u.InputTokens < 0 || u.OutputTokens < 0 || u.TotalTokens < 0 {
		t.Fatalf("negative usage %+v", u)
	}
}
