package providertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/providers"
)

// Harness is one provider package under test: its constructor, its fake API and a model to
// send requests to. Its Check methods are the behaviour every provider built on an HTTP API
// shares; the data (replies, bad settings, bad requests) stays with each package.
type Harness struct {
	Type  providers.Type
	Build func(providers.Settings) (providers.Provider, error) // the package's New
	API   API
	Key   string
	Caps  func() *providers.Capabilities // a model the requests go to
}

// Start runs the provider's fake API with replies queued.
func (h Harness) Start(t *testing.T, replies ...Reply) *FakeAPI {
	t.Helper()
	return h.API.Start(t, replies...)
}

// Provider builds the provider aimed at f with PAL's retry spacing recorded by rec and, when
// logs is not nil, a debug logger writing into logs.
func (h Harness) Provider(t *testing.T, f *FakeAPI, rec *Sleeps, logs *SyncBuffer) providers.Provider {
	t.Helper()
	p, err := h.Build(providers.Settings{
		Type:       h.Type,
		APIKey:     h.Key,
		BaseURL:    f.Server.URL,
		HTTPClient: f.Server.Client(),
		Retry:      PALRetry(rec),
		Logger:     DebugLogger(logs),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// Request is a plain valid request for h.Caps.
func (h Harness) Request() providers.Request {
	return providers.Request{Model: h.Caps().ModelName, Prompt: "p"}
}

// RetryCase is one row of CheckRetryDecisions: the replies queued, then either success
// (WantErr false) or an *APIError of Kind and Retryable, after WantCalls requests and
// WantDelays waits.
type RetryCase struct {
	Name       string
	Replies    []Reply
	WantErr    bool
	Kind       providers.ErrorKind
	Retryable  bool
	WantCalls  int
	WantDelays []time.Duration
}

// CheckRetryDecisions runs each case on a fresh fake API. An error must be an *APIError that
// wraps ErrUpstream and does not repeat the API's URL. eachRequest, when not nil, checks every
// request the API received.
func (h Harness) CheckRetryDecisions(t *testing.T, cases []RetryCase, eachRequest func(t *testing.T, i int, r Request)) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := h.Start(t, tc.Replies...)
			rec := &Sleeps{}
			p := h.Provider(t, f, rec, nil)
			_, err := p.Generate(context.Background(), h.Caps(), h.Request())
			if got := len(f.Requests()); got != tc.WantCalls {
				t.Errorf("calls = %d, want %d (the SDK must not retry on its own)", got, tc.WantCalls)
			}
			if got := rec.Recorded(); !reflect.DeepEqual(got, tc.WantDelays) {
				t.Errorf("delays = %v, want %v", got, tc.WantDelays)
			}
			if eachRequest != nil {
				for i, r := range f.Requests() {
					eachRequest(t, i, r)
				}
			}
			if !tc.WantErr {
				if err != nil {
					t.Fatalf("Generate: %v", err)
				}
				return
			}
			var apiErr *providers.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Kind != tc.Kind || apiErr.Retryable != tc.Retryable {
				t.Errorf("kind %v retryable %v, want %v %v", apiErr.Kind, apiErr.Retryable, tc.Kind, tc.Retryable)
			}
			if !errors.Is(err, providers.ErrUpstream) {
				t.Errorf("err %v does not wrap ErrUpstream", err)
			}
			if strings.Contains(apiErr.Message, f.Server.URL) {
				t.Errorf("error repeats the URL: %q", apiErr.Message)
			}
		})
	}
}

// CheckConnectionFailureIsRetried: with nothing listening, Generate fails with a retryable
// transient *APIError after the whole retry schedule, and the message does not repeat the URL.
func (h Harness) CheckConnectionFailureIsRetried(t *testing.T) {
	f := h.Start(t)
	f.Server.Close() // nothing listens any more
	rec := &Sleeps{}
	p := h.Provider(t, f, rec, nil)
	_, err := p.Generate(context.Background(), h.Caps(), h.Request())
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != providers.KindTransient || !apiErr.Retryable {
		t.Fatalf("err = %v, want a retryable transient APIError", err)
	}
	if got := len(rec.Recorded()); got != 3 {
		t.Errorf("waited %d times, want 3", got)
	}
	if strings.Contains(apiErr.Message, f.Server.URL) {
		t.Errorf("error repeats the URL: %q", apiErr.Message)
	}
}

// CheckCancelStopsRetriesAtOnce: cancelling the context while waiting to retry, or during the
// request, ends Generate with context.Canceled after one request. retryable is an answer the
// provider retries.
func (h Harness) CheckCancelStopsRetriesAtOnce(t *testing.T, retryable Reply) {
	t.Run("cancelled while waiting to retry", func(t *testing.T) {
		t.Parallel()
		f := h.Start(t, retryable)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &Sleeps{Hook: cancel}
		p := h.Provider(t, f, rec, nil)
		_, err := p.Generate(ctx, h.Caps(), h.Request())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := len(f.Requests()); n != 1 {
			t.Fatalf("requests = %d, want 1", n)
		}
	})
	t.Run("cancelled during the request", func(t *testing.T) {
		t.Parallel()
		f := h.Start(t, retryable)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.OnRequest = func(r *http.Request) {
			cancel()
			<-r.Context().Done() // the client gives up on the in-flight request
		}
		rec := &Sleeps{}
		p := h.Provider(t, f, rec, nil)
		_, err := p.Generate(ctx, h.Caps(), h.Request())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := len(f.Requests()); n != 1 || len(rec.Recorded()) != 0 {
			t.Fatalf("requests = %d, waits = %d; want 1 and 0", n, len(rec.Recorded()))
		}
	})
}

// ReplyCase names a sequence of replies.
type ReplyCase struct {
	Name    string
	Replies []Reply
}

// CheckKeyNeverLeaks sends req against each case's replies (which echo the key) with debug
// logging on: neither the error nor the log may carry h.Key, and the log may not be empty.
func (h Harness) CheckKeyNeverLeaks(t *testing.T, req providers.Request, cases []ReplyCase) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var logs SyncBuffer
			f := h.Start(t, tc.Replies...)
			p := h.Provider(t, f, &Sleeps{}, &logs)
			_, err := p.Generate(context.Background(), h.Caps(), req)
			if err != nil && strings.Contains(err.Error(), h.Key) {
				t.Errorf("error carries the key: %v", err)
			}
			if logs.Len() == 0 {
				t.Error("no debug log written; the check below would be empty")
			}
			if strings.Contains(logs.String(), h.Key) {
				t.Errorf("log carries the key:\n%s", logs.String())
			}
		})
	}
}

// SettingsCase names Settings that New must refuse.
type SettingsCase struct {
	Name     string
	Settings providers.Settings
}

// CheckNewRefuses: New refuses each case, and every base URL that providers.ValidateBaseURL
// refuses, with an error that wraps ErrNotConfigured and does not carry h.Key.
func (h Harness) CheckNewRefuses(t *testing.T, cases []SettingsCase) {
	for _, bad := range [][2]string{
		{"ftp base URL", "ftp://example.com/"},
		{"no host", "https:///v1"},
		{"port zero", "https://example.com:0/"},
		{"port out of range", "https://example.com:70000/"},
		{"key in query", "https://example.com/?key=" + h.Key},
		{"key in a header-named query parameter", "https://example.com/?x-api-key=" + h.Key},
		{"user info", "https://user:" + h.Key + "@example.com/"},
		{"key as user", "https://" + h.Key + "@example.com/"},
		{"fragment", "https://example.com/#" + h.Key},
		{"unparsable", "http://[::1" + h.Key},
	} {
		cases = append(cases, SettingsCase{Name: bad[0], Settings: providers.Settings{Type: h.Type, APIKey: h.Key, BaseURL: bad[1]}})
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			p, err := h.Build(tc.Settings)
			if err == nil || p != nil {
				t.Fatalf("New accepted %s", tc.Name)
			}
			if !errors.Is(err, providers.ErrNotConfigured) {
				t.Errorf("err = %v, want ErrNotConfigured", err)
			}
			if strings.Contains(err.Error(), h.Key) {
				t.Errorf("error carries the key: %v", err)
			}
		})
	}
}

// RequestCase names a request Generate must refuse before sending anything.
type RequestCase struct {
	Name    string
	Caps    *providers.Capabilities
	Request providers.Request
}

// CheckNotSent: Generate refuses each case with ErrInvalidRequest and the API receives nothing.
func (h Harness) CheckNotSent(t *testing.T, ok Reply, cases []RequestCase) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := h.Start(t, ok)
			p := h.Provider(t, f, &Sleeps{}, nil)
			_, err := p.Generate(context.Background(), tc.Caps, tc.Request)
			if !errors.Is(err, providers.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if n := len(f.Requests()); n != 0 {
				t.Fatalf("%d requests sent", n)
			}
		})
	}
}

// GenerateThroughRedirect builds the provider with its own HTTP client against a server that
// redirects every request to a second fake API answering ok, checks that the second API
// receives nothing (so the key header never reaches it), and returns Generate's error for the
// caller to check.
func (h Harness) GenerateThroughRedirect(t *testing.T, ok Reply) error {
	t.Helper()
	target := h.Start(t, ok)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.Server.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	p, err := h.Build(providers.Settings{Type: h.Type, APIKey: h.Key, BaseURL: redirector.URL, Retry: PALRetry(&Sleeps{})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Generate(context.Background(), h.Caps(), h.Request())
	if n := len(target.Requests()); n != 0 {
		t.Fatalf("redirect target got %d requests", n)
	}
	return err
}

// CheckConcurrentUse runs eight generations of req side by side on one provider (meaningful
// under -race); all must succeed and reach the API.
func (h Harness) CheckConcurrentUse(t *testing.T, ok Reply, req providers.Request) {
	f := h.Start(t, ok)
	var logs SyncBuffer
	p := h.Provider(t, f, &Sleeps{}, &logs)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := p.Generate(context.Background(), h.Caps(), req)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(f.Requests()); got != n {
		t.Fatalf("requests = %d, want %d", got, n)
	}
}

// ResponseCase is one successful answer Body and the Response it must become.
type ResponseCase struct {
	Name string
	Body string
	Want providers.Response
}

// CheckResponses sends a plain request against each case's 200 answer and compares the
// Response.
func (h Harness) CheckResponses(t *testing.T, cases []ResponseCase) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := h.Start(t, Reply{Status: 200, Body: tc.Body})
			p := h.Provider(t, f, &Sleeps{}, nil)
			got, err := p.Generate(context.Background(), h.Caps(), h.Request())
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.Want) {
				t.Fatalf("response = %+v\nwant %+v", *got, tc.Want)
			}
		})
	}
}

// CheckEmptyAnswerAskedAgainOnce: an answer without text (empty) is asked for once more; a
// second answer with text (ok, whose text is wantContent) is returned, a second empty one is
// ErrBlocked. Either way after two requests.
func (h Harness) CheckEmptyAnswerAskedAgainOnce(t *testing.T, empty, ok Reply, wantContent string) {
	t.Run("second answer has text", func(t *testing.T) {
		t.Parallel()
		f := h.Start(t, empty, ok)
		p := h.Provider(t, f, &Sleeps{}, nil)
		got, err := p.Generate(context.Background(), h.Caps(), h.Request())
		if err != nil {
			t.Fatalf("Generate: %v", err)
		}
		if got.Content != wantContent || len(f.Requests()) != 2 {
			t.Fatalf("content %q after %d requests", got.Content, len(f.Requests()))
		}
	})
	t.Run("two empty answers are ErrBlocked", func(t *testing.T) {
		t.Parallel()
		f := h.Start(t, empty)
		p := h.Provider(t, f, &Sleeps{}, nil)
		_, err := p.Generate(context.Background(), h.Caps(), h.Request())
		if !errors.Is(err, providers.ErrBlocked) || len(f.Requests()) != 2 {
			t.Fatalf("err = %v after %d requests; want ErrBlocked after 2", err, len(f.Requests()))
		}
	})
}

// BlockedCase is a 200 answer Body the provider must report as blocked, with phrases the
// error must mention.
type BlockedCase struct {
	Name   string
	Body   string
	WantIn []string
}

// CheckBlocked: each case's answer is an ErrBlocked error that mentions WantIn, after one
// request (a block is not retried).
func (h Harness) CheckBlocked(t *testing.T, cases []BlockedCase) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := h.Start(t, Reply{Status: 200, Body: tc.Body})
			p := h.Provider(t, f, &Sleeps{}, nil)
			_, err := p.Generate(context.Background(), h.Caps(), h.Request())
			if !errors.Is(err, providers.ErrBlocked) {
				t.Fatalf("err = %v, want ErrBlocked", err)
			}
			for _, w := range tc.WantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (a block is not retried)", n)
			}
		})
	}
}

// CheckInterpreted is the rule for reading a successful answer into text: either an answer
// (answered, with text and finish reason) or an error, never both or neither; the error wraps
// ErrBlocked and does not quote key; the text is not blank and the finish reason is lower case.
func CheckInterpreted(t *testing.T, answered bool, text, finish string, err error, key string) {
	t.Helper()
	switch {
	case err != nil && answered:
		t.Fatalf("both an answer and an error: %v", err)
	case err != nil:
		if !errors.Is(err, providers.ErrBlocked) {
			t.Fatalf("error %v is not ErrBlocked", err)
		}
		if strings.Contains(err.Error(), key) {
			t.Fatalf("error quotes the key: %v", err)
		}
	case !answered:
		t.Fatal("neither answer nor error")
	default:
		if strings.TrimSpace(text) == "" {
			t.Fatal("empty text reported as success")
		}
		if finish != strings.ToLower(finish) {
			t.Fatalf("finish reason %q is not lower case", finish)
		}
	}
}
