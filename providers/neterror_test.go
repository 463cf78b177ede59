package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestClassifyNetworkError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	timedOut := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	urlOf := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://api.example.com/v1?key=" + scrubKey, Err: err}
	}
	tests := []struct {
		name    string
		err     error
		message string // "" means nil: not a network failure
	}{
		{"context deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), "request timed out"},
		{"url error that timed out", urlOf(timedOut), "request timed out"},
		{"connection refused", urlOf(refused), "connection failed: dial tcp: connect: connection refused"},
		{"url error echoing the key", urlOf(errors.New("bad key " + scrubKey)), "connection failed: bad key [redacted]"},
		{"bare net error", refused, "connection failed: dial tcp: connect: connection refused"},
		{"bare net timeout", timedOut, "request timed out"},
		{"something else", errors.New("decode failed"), ""},
		{"cancelled", context.Canceled, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := ClassifyNetworkError(Anthropic, tc.err, scrubKey, 100)
			if tc.message == "" {
				if e != nil {
					t.Fatalf("got %v, want nil", e)
				}
				return
			}
			if e == nil {
				t.Fatal("got nil")
			}
			if e.Message != tc.message || e.Kind != KindTransient || !e.Retryable || e.Provider != Anthropic || e.StatusCode != 0 {
				t.Errorf("got %+v, want a retryable transient error %q", *e, tc.message)
			}
			if strings.Contains(e.Error(), "api.example.com") || strings.Contains(e.Error(), scrubKey) {
				t.Errorf("error repeats the URL or the key: %v", e)
			}
		})
	}
}
