package policy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pal-mcp/pal/internal/boundedre"
)

// HTTPConfig is [http]: how `pal serve -http ADDR` admits clients. Every key is trusted-only:
// an untrusted project file may not set any of them (it must not open a port or loosen
// authentication). The address itself is given only on the command line.
type HTTPConfig struct {
	// TokenFile holds the bearer tokens clients must present, one per line: "NAME TOKEN"
	// (NAME identifies the client in audit records) or a bare TOKEN (identified by the first 8
	// hex digits of its sha256). Blank lines and lines starting with # are ignored. The file
	// must be mode 0600. Relative to the file that sets it. Default "" (command line
	// -http-token-file).
	TokenFile string `toml:"token_file"`
	// TokenEnv names an environment variable holding one bearer token, identified as
	// "env:NAME". Default "".
	TokenEnv string `toml:"token_env"`
	// AllowedHosts are the Host header values accepted besides the listen address and, on a
	// loopback address, localhost, 127.0.0.1 and [::1] (any port): the DNS-rebinding defence.
	// An entry is a host name or host:port. Default: none.
	AllowedHosts []string `toml:"allowed_hosts"`
	// AllowedOrigins are the Origin header values accepted ("https://app.example.com");
	// requests without an Origin header (non-browser clients) are accepted. On a loopback
	// address, loopback origins are accepted too. Default: none.
	AllowedOrigins []string `toml:"allowed_origins"`
	// TLSCert and TLSKey are PEM files; set both to serve HTTPS (one without the other is
	// refused when serving). Relative to the file that sets them. Default "" (plain HTTP).
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// MaxBodyBytes caps one request body; a larger one is refused with 413. Default 4 MiB
	// (4,194,304).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// RatePerMinute is how many requests one client (one token; without tokens, one remote
	// address) may make per minute, with bursts of a sixth of it (at least 10); past it, 429.
	// Default 600.
	RatePerMinute int `toml:"rate_per_minute"`
	// ConcurrentPerClient is how many requests one client may have in progress at once; past
	// it, 429. Default 4.
	ConcurrentPerClient int `toml:"concurrent_per_client"`
	// SessionTTL is how long an MCP session lives without a request; then its id is refused
	// (404) and the client must initialize again. Default "30m".
	SessionTTL Duration `toml:"session_ttl"`
	// SessionsPerClient is how many live MCP sessions one client may hold; an initialize
	// past it is refused with 429 until one ends or expires, so that one client cannot take
	// every session the server (or, with Redis, every replica) may hold. Default 100.
	SessionsPerClient int `toml:"sessions_per_client"`
}

// Defaults of HTTPConfig.
const (
	DefaultHTTPMaxBodyBytes        = 4 << 20
	DefaultHTTPRatePerMinute       = 600
	DefaultHTTPConcurrentPerClient = 4
	DefaultHTTPSessionTTL          = 30 * time.Minute
	DefaultHTTPSessionsPerClient   = 100
	// MinHTTPTokenLen is the shortest bearer token accepted, in bytes.
	MinHTTPTokenLen = 16
)

// DefaultHTTP returns the built-in [http] values.
func DefaultHTTP() HTTPConfig {
	return HTTPConfig{
		MaxBodyBytes:        DefaultHTTPMaxBodyBytes,
		RatePerMinute:       DefaultHTTPRatePerMinute,
		ConcurrentPerClient: DefaultHTTPConcurrentPerClient,
		SessionTTL:          Duration{DefaultHTTPSessionTTL},
		SessionsPerClient:   DefaultHTTPSessionsPerClient,
	}
}

func (h HTTPConfig) validate(file string) error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{File: file, Key: "http." + key, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidValue}
	}
	if h.TokenEnv != "" && !envNameRE.MatchString(h.TokenEnv) {
		// The value is not repeated: a token pasted here by mistake must not reach a log.
		return bad("token_env", "must be the NAME of an environment variable (A-Z, 0-9, _), not the token itself; "+
			"if you pasted a token here, remove it from the file")
	}
	if h.TokenFile != "" {
		if err := checkKeyFile(h.TokenFile); err != nil {
			return bad("token_file", "%v", err)
		}
	}
	for _, p := range []struct{ key, path string }{{"tls_cert", h.TLSCert}, {"tls_key", h.TLSKey}} {
		if p.path == "" {
			continue
		}
		if st, err := os.Stat(p.path); err != nil {
			return bad(p.key, "%q: %s", p.path, describeOSError(err))
		} else if !st.Mode().IsRegular() {
			return bad(p.key, "%q is not a regular file", p.path)
		}
	}
	if h.TLSKey != "" {
		if err := checkKeyFile(h.TLSKey); err != nil {
			return bad("tls_key", "%v", err)
		}
	}
	for _, list := range []struct {
		key     string
		entries []string
	}{{"allowed_hosts", h.AllowedHosts}, {"allowed_origins", h.AllowedOrigins}} {
		for _, e := range list.entries {
			if strings.TrimSpace(e) == "" || strings.ContainsAny(e, " \t/") && list.key == "allowed_hosts" {
				return bad(list.key, "%q is not a host or host:port", e)
			}
			if list.key == "allowed_origins" && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
				return bad(list.key, "%q must be an origin such as https://app.example.com", e)
			}
		}
	}
	if h.MaxBodyBytes < 1024 || h.MaxBodyBytes > 1<<30 {
		return bad("max_body_bytes", "must be 1,024 to 1,073,741,824 bytes, got %d", h.MaxBodyBytes)
	}
	if h.RatePerMinute < 1 || h.RatePerMinute > 1_000_000 {
		return bad("rate_per_minute", "must be 1 to 1,000,000, got %d", h.RatePerMinute)
	}
	if h.ConcurrentPerClient < 1 || h.ConcurrentPerClient > 1024 {
		return bad("concurrent_per_client", "must be 1 to 1,024, got %d", h.ConcurrentPerClient)
	}
	if h.SessionsPerClient < 1 || h.SessionsPerClient > 10_000 {
		return bad("sessions_per_client", "must be 1 to 10,000, got %d", h.SessionsPerClient)
	}
	if h.SessionTTL.Duration < time.Second || h.SessionTTL.Duration > 7*24*time.Hour {
		return bad("session_ttl", "must be 1s to 168h, got %s", h.SessionTTL.Duration)
	}
	return nil
}

// httpRules are the [http] keys' rules: all trusted-only.
func httpRules() []keyRule {
	i64 := func(f func(h *HTTPConfig) int64) func(c *Config) any {
		return func(c *Config) any { return f(&c.HTTP) }
	}
	return []keyRule{
		{"http.token_file", kindEqual, func(c *Config) any { return c.HTTP.TokenFile }, false},
		{"http.token_env", kindEqual, func(c *Config) any { return c.HTTP.TokenEnv }, false},
		{"http.allowed_hosts", kindAllowList, func(c *Config) any { return c.HTTP.AllowedHosts }, false},
		{"http.allowed_origins", kindAllowList, func(c *Config) any { return c.HTTP.AllowedOrigins }, false},
		{"http.tls_cert", kindEqual, func(c *Config) any { return c.HTTP.TLSCert }, false},
		{"http.tls_key", kindEqual, func(c *Config) any { return c.HTTP.TLSKey }, false},
		{"http.max_body_bytes", kindLower, i64(func(h *HTTPConfig) int64 { return h.MaxBodyBytes }), false},
		{"http.rate_per_minute", kindLower, i64(func(h *HTTPConfig) int64 { return int64(h.RatePerMinute) }), false},
		{"http.concurrent_per_client", kindLower, i64(func(h *HTTPConfig) int64 { return int64(h.ConcurrentPerClient) }), false},
		{"http.sessions_per_client", kindLower, i64(func(h *HTTPConfig) int64 { return int64(h.SessionsPerClient) }), false},
		{"http.session_ttl", kindLower, func(c *Config) any { return c.HTTP.SessionTTL.Duration }, false},
	}
}

// HTTPToken is one bearer token pal accepts, kept as its sha256 only.
type HTTPToken struct {
	// Name identifies the client in audit records and logs: "token:NAME" from the token
	// file, "token:<8 hex digits of the sha256>" for a bare token, "env:NAME" from TokenEnv.
	Name string
	// Hash is the token's sha256.
	Hash [sha256.Size]byte
}

// tokenNameRE is a client's name in a token file.
var tokenNameRE = boundedre.MustCompile(`^[A-Za-z0-9_.-]+$`, 64)

// ErrBadToken: a token file or variable holds something pal will not accept as a token.
var ErrBadToken = errors.New("unusable bearer token")

// HTTPTokens reads the bearer tokens from tokenFile and the variable tokenEnv (either may be
// ""), keeping only their hashes. Errors name the file, line or variable, never a token.
func HTTPTokens(tokenFile, tokenEnv string, getenv func(string) string) ([]HTTPToken, error) {
	var out []HTTPToken
	seen := map[[sha256.Size]byte]bool{}
	add := func(name, token, where string) error {
		if len(token) < MinHTTPTokenLen {
			return fmt.Errorf("%w: %s: a token must be at least %d bytes", ErrBadToken, where, MinHTTPTokenLen)
		}
		h := sha256.Sum256([]byte(token))
		if seen[h] {
			return fmt.Errorf("%w: %s: the same token is listed twice", ErrBadToken, where)
		}
		seen[h] = true
		if name == "" {
			name = "token:" + hex.EncodeToString(h[:4])
		}
		out = append(out, HTTPToken{Name: name, Hash: h})
		return nil
	}
	if tokenFile != "" {
		if err := checkKeyFile(tokenFile); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
		}
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %s", ErrBadToken, tokenFile, describeOSError(err))
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			where := fmt.Sprintf("%s line %d", tokenFile, n)
			fields := strings.Fields(line)
			switch len(fields) {
			case 1:
				err = add("", fields[0], where)
			case 2:
				if !tokenNameRE.MatchString(fields[0]) {
					return nil, fmt.Errorf("%w: %s: a name is letters, digits, _ and -", ErrBadToken, where)
				}
				err = add("token:"+fields[0], fields[1], where)
			default:
				err = fmt.Errorf("%w: %s: want \"NAME TOKEN\" or \"TOKEN\"", ErrBadToken, where)
			}
			if err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBadToken, tokenFile, err)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: %q holds no token", ErrBadToken, tokenFile)
		}
	}
	if tokenEnv != "" {
		v := strings.TrimSpace(getenv(tokenEnv))
		if v == "" {
			return nil, fmt.Errorf("%w: the variable %s is not set", ErrBadToken, tokenEnv)
		}
		if err := add("env:"+tokenEnv, v, "the variable "+tokenEnv); err != nil {
			return nil, err
		}
	}
	return out, nil
}
