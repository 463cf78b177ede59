package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeHTTPRefusesUnsafeSetups: off loopback without tokens, with a token file readable by
// others, or with a token variable that is unset, serve -http stops with a message that says
// what to set and never quotes a token.
func TestServeHTTPRefusesUnsafeSetups(t *testing.T) {
	work := isolate(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-serve-http-0123456789")
	open := filepath.Join(work, "..", "tokens-open")
	if err := os.WriteFile(open, []byte("leaky-token-0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PAL_EMPTY_TOKEN", "")
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "-http", "0.0.0.0:0"}, "-http-token-file"},
		{[]string{"serve", "-http", "127.0.0.1:0", "-http-token-file", open}, "chmod 600"},
		{[]string{"serve", "-http", "127.0.0.1:0", "-http-token-env", "PAL_EMPTY_TOKEN"}, "PAL_EMPTY_TOKEN is not set"},
		{[]string{"serve", "-http", "127.0.0.1:0", "-tls-cert", open}, "tls_key"},
		{[]string{"serve", "-http", "no-port"}, "no-port"},
	} {
		code, out, errOut := invoke(tc.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: exit %d, stdout %q, stderr lacks %q:\n%s", tc.args, code, out, tc.says, errOut)
		}
		if strings.Contains(errOut, "leaky-token") {
			t.Errorf("%v: the token is in the message: %s", tc.args, errOut)
		}
	}
}
