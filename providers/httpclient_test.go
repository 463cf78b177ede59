package providers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewHTTPClientTimeouts(t *testing.T) {
	tests := []struct {
		connect, read         time.Duration
		wantConnect, wantRead time.Duration
	}{
		{3 * time.Second, 9 * time.Second, 3 * time.Second, 9 * time.Second},
		{0, 0, DefaultConnectTimeout, DefaultReadTimeout},
		{-time.Second, -time.Second, DefaultConnectTimeout, DefaultReadTimeout},
	}
	for _, tc := range tests {
		c := NewHTTPClient(tc.connect, tc.read)
		if c.Timeout != tc.wantRead {
			t.Errorf("NewHTTPClient(%v, %v): timeout %v, want %v", tc.connect, tc.read, c.Timeout, tc.wantRead)
		}
		tr, ok := c.Transport.(*http.Transport)
		if !ok {
			t.Fatalf("transport is %T, documented as *http.Transport", c.Transport)
		}
		if tr.TLSHandshakeTimeout != tc.wantConnect || tr.DialContext == nil {
			t.Errorf("NewHTTPClient(%v, %v): TLS handshake timeout %v, dialer set %v", tc.connect, tc.read, tr.TLSHandshakeTimeout, tr.DialContext != nil)
		}
		if tr.Proxy == nil {
			t.Error("proxy from the environment not used")
		}
		if tr == http.DefaultTransport {
			t.Error("the shared default transport is changed")
		}
	}
}

// TestNewHTTPClientKeepsRedirects: a redirect comes back as the response and the target never
// sees a request, nor the key header.
func TestNewHTTPClientKeepsRedirects(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer target.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	req, err := http.NewRequest(http.MethodPost, redirector.URL+"/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", "sk-test-KEY-7f3a9c")
	resp, err := NewHTTPClient(0, 0).Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("status %d, want the redirect itself", resp.StatusCode)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("redirect target received %d requests", n)
	}
}
