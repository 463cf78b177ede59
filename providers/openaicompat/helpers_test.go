package openaicompat_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

const testKey = "sk-test-KEY-7f3a9c"

// seen is one request as the fake API received it. URL is the URL the provider aimed at
// (before the test transport rerouted it to the loopback server).
type seen struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// fakeAPI is a loopback server that records requests and answers with reply(n, w), n counting
// from 0.
type fakeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []seen
	reply func(n int, w http.ResponseWriter, r *http.Request)
}

func newFakeAPI(t *testing.T, reply func(n int, w http.ResponseWriter, r *http.Request)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	s := seen{Method: r.Method, Header: r.Header.Clone(), Raw: raw}
	target := r.Header.Get("X-Test-Original-Url")
	if target == "" {
		target = "http://" + r.Host + r.URL.RequestURI()
	}
	s.URL, _ = url.Parse(target)
	s.Header.Del("X-Test-Original-Url")
	_ = json.Unmarshal(raw, &s.Body)
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, s)
	f.mu.Unlock()
	f.reply(n, w, r)
}

func (f *fakeAPI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// client reroutes every request to the fake server, recording the original URL in a header,
// so default endpoints (https://api.openai.com/v1 …) are checked exactly without leaving the
// machine.
func (f *fakeAPI) client() *http.Client {
	target, _ := url.Parse(f.srv.URL)
	return &http.Client{Transport: reroute{target: target, rt: f.srv.Client().Transport}}
}

type reroute struct {
	target *url.URL
	rt     http.RoundTripper
}

func (r reroute) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header.Set("X-Test-Original-Url", req.URL.String())
	out.URL.Scheme, out.URL.Host, out.Host = r.target.Scheme, r.target.Host, r.target.Host
	return r.rt.RoundTrip(out)
}

// jsonReply writes status and body with a JSON content type.
func jsonReply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Recorded-shape responses.
const (
	openAIChatOK = `{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4.1-2025-04-14",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "The function leaks a file handle.", "refusal": null, "annotations": []},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {
    "prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}`
	azureChatOK = `{
  "choices": [{
    "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}, "self_harm": {"filtered": false, "severity": "safe"}, "sexual": {"filtered": false, "severity": "safe"}, "violence": {"filtered": false, "severity": "safe"}},
    "finish_reason": "stop", "index": 0, "logprobs": null,
    "message": {"content": "Azure says hello.", "refusal": null, "role": "assistant"}
  }],
  "created": 1741570300, "id": "chatcmpl-AzUre123", "model": "gpt-4o-2024-11-20", "object": "chat.completion",
  "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}}}],
  "system_fingerprint": "fp_ee1d74bde0",
  "usage": {"completion_tokens": 5, "prompt_tokens": 20, "total_tokens": 25}
}`
	xaiChatOK = `{
  "id": "3f4e8a2c-0b1d-4c3e-9a7f-6d5b2e1c0a9f", "object": "chat.completion", "created": 1741570400, "model": "grok-4-0709",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Grok answer.", "refusal": null}, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 32, "completion_tokens": 3, "total_tokens": 135, "prompt_tokens_details": {"text_tokens": 32, "audio_tokens": 0, "image_tokens": 0, "cached_tokens": 6}, "completion_tokens_details": {"reasoning_tokens": 100, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}, "num_sources_used": 0},
  "system_fingerprint": "fp_0d42a4eb3d"
}`
	openRouterChatOK = `{
  "id": "gen-1741570500-AbCdEfGhIjKlMnOp", "provider": "Anthropic", "model": "anthropic/claude-sonnet-4.5", "object": "chat.completion", "created": 1741570500,
  "choices": [{"logprobs": null, "finish_reason": "stop", "native_finish_reason": "end_turn", "index": 0,
    "message": {"role": "assistant", "content": "Routed answer.", "refusal": null, "reasoning": null}}],
  "usage": {"prompt_tokens": 14, "completion_tokens": 4, "total_tokens": 18}
}`
	dialChatOK = `{
  "id": "chatcmpl-dial-77", "object": "chat.completion", "created": 1741570600, "model": "o3-2025-04-16",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "DIAL answer."}, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
}`
	ollamaChatOK = `{
  "id": "chatcmpl-465", "object": "chat.completion", "created": 1741570700, "model": "llama3.2", "system_fingerprint": "fp_ollama",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Local answer."}, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 26, "completion_tokens": 3, "total_tokens": 29}
}`
	responsesOK = `{
  "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", "object": "response", "created_at": 1741476542,
  "status": "completed", "background": false, "error": null, "incomplete_details": null, "instructions": null,
  "max_output_tokens": null, "model": "gpt-5-codex",
  "output": [
    {"id": "rs_67ccd2bf17f0819081ff3bb2cf6508e6", "type": "reasoning", "summary": []},
    {"id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b", "type": "message", "status": "completed", "role": "assistant",
     "content": [{"type": "output_text", "text": "Codex answer.", "annotations": [], "logprobs": []}]}
  ],
  "parallel_tool_calls": true, "previous_response_id": null, "prompt_cache_key": null,
  "reasoning": {"effort": "high", "summary": null}, "safety_identifier": null, "service_tier": "default", "store": true,
  "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto", "tools": [],
  "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled",
  "usage": {"input_tokens": 36, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 87, "output_tokens_details": {"reasoning_tokens": 64}, "total_tokens": 123},
  "user": null, "metadata": {}
}`
)

// chatWith builds an OpenAI chat completion answer with the given content and finish reason.
func chatWith(content, finish string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
	})
	return string(b)
}

// Recorded-shape error bodies.
const (
	errRateLimit = `{"error": {"message": "Rate limit reached for gpt-4.1 in organization org-abc on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}`
	errTokens    = `{"error": {"message": "Request too large for gpt-4.1 in organization org-abc on tokens per min (TPM): Limit 30000, Requested 45210. The input or output tokens must be reduced in order to run successfully.", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}`
	errQuota     = `{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}`
	errContext   = `{"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}`
	errInvalidRQ = `{"error": {"message": "Request was rejected.", "type": "invalid_request_error", "param": null, "code": "invalid_request_error"}}`
	errServer    = `{"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}}`
	errORUnavail = `{"error": {"code": 503, "message": "No instances available", "metadata": {"provider_name": "Anthropic"}}}`
	errHTML503   = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
	errAuth      = `{"error": {"message": "Incorrect API key provided: sk-test-***********7f3a9c. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}`
	errBadModel  = `{"error": {"message": "The model 'gpt-9' does not exist or you do not have access to it.", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}`
	errOllama404 = `{"error":"model \"llama3.2\" not found, try pulling it first"}`
	errAzureCF   = `{"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", "type": null, "param": "prompt", "code": "content_filter", "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": false, "severity": "safe"}, "jailbreak": {"filtered": false, "detected": false}, "self_harm": {"filtered": false, "severity": "safe"}, "sexual": {"filtered": true, "severity": "medium"}, "violence": {"filtered": false, "severity": "safe"}}}}}`
)
