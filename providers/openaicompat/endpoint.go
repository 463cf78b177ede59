package openaicompat

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pal-mcp/pal/providers"
)

// Default endpoints and API versions, used when Settings.BaseURL or Settings.APIVersion is "".
const (
	DefaultOpenAIBaseURL     = "https://api.openai.com/v1"
	DefaultXAIBaseURL        = "https://api.x.ai/v1"
	DefaultOpenRouterBaseURL = "https://openrouter.ai/api/v1"
	DefaultDIALHost          = "https://core.dialx.ai"

	DefaultAzureAPIVersion = "2024-02-15-preview"
	DefaultDIALAPIVersion  = "2024-12-01-preview"
)

// Timeouts beyond providers.DefaultConnectTimeout and providers.DefaultReadTimeout (hosted
// APIs). Connect bounds dialling plus the TLS handshake; read bounds a whole exchange
// (request sent, response fully read). PAL's values.
const (
	RemoteConnectTimeout = 45 * time.Second  // custom server on a remote host
	RemoteReadTimeout    = 900 * time.Second // custom server on a remote host
	LocalConnectTimeout  = 60 * time.Second  // any server on localhost or a private address
	LocalReadTimeout     = 1800 * time.Second
)

// endpoint is the resolved wire configuration of one provider instance.
type endpoint struct {
	baseURL    *url.URL // validated, no trailing slash in Path
	apiVersion string   // Azure and DIAL only
	deployment bool     // Azure and DIAL: /openai/deployments/<name>/... with an api-key header
	keyNeeded  bool
}

func resolveEndpoint(s providers.Settings) (endpoint, error) {
	var ep endpoint
	raw := strings.TrimSpace(s.BaseURL)
	switch s.Type {
	case providers.OpenAI:
		ep.keyNeeded = true
		raw = orDefault(raw, DefaultOpenAIBaseURL)
	case providers.XAI:
		ep.keyNeeded = true
		raw = orDefault(raw, DefaultXAIBaseURL)
	case providers.OpenRouter:
		ep.keyNeeded = true
		raw = orDefault(raw, DefaultOpenRouterBaseURL)
	case providers.Azure:
		ep.keyNeeded, ep.deployment = true, true
		ep.apiVersion = orDefault(strings.TrimSpace(s.APIVersion), DefaultAzureAPIVersion)
		if raw == "" {
			return ep, fmt.Errorf("%w: azure needs an endpoint (AZURE_OPENAI_ENDPOINT)", providers.ErrNotConfigured)
		}
	case providers.DIAL:
		ep.keyNeeded, ep.deployment = true, true
		ep.apiVersion = orDefault(strings.TrimSpace(s.APIVersion), DefaultDIALAPIVersion)
		raw = orDefault(raw, DefaultDIALHost)
	case providers.Custom:
		if raw == "" {
			return ep, fmt.Errorf("%w: custom provider needs a base URL (CUSTOM_API_URL)", providers.ErrNotConfigured)
		}
	default:
		return ep, fmt.Errorf("%w: openaicompat does not serve provider type %q", providers.ErrNotConfigured, s.Type)
	}
	if ep.keyNeeded && s.APIKey == "" {
		return ep, fmt.Errorf("%w: %s needs an API key", providers.ErrNotConfigured, s.Type)
	}
	if strings.ContainsAny(ep.apiVersion, "&#?/ \t\r\n") {
		return ep, fmt.Errorf("%w: %s api-version contains characters that are not allowed", providers.ErrNotConfigured, s.Type)
	}
	u, err := parseBaseURL(raw)
	if err != nil {
		return ep, fmt.Errorf("%w: %s base URL: %w", providers.ErrNotConfigured, s.Type, err)
	}
	if ep.deployment {
		// go-openai appends /openai/deployments/... itself; accept an endpoint given with the
		// /openai suffix too.
		u.Path = strings.TrimSuffix(u.Path, "/openai")
	}
	ep.baseURL = u
	return ep, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// parseBaseURL checks an OpenAI-compatible base URL with providers.ValidateBaseURL (http or
// https, a host name, a port in 1-65535, no user info, query or fragment, which go-openai's
// string concatenation of paths would mangle or leak) and returns it with the path's trailing
// slashes removed.
func parseBaseURL(raw string) (*url.URL, error) {
	if err := providers.ValidateBaseURL(raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", providers.ErrInvalidBaseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLocalHost reports whether host names this machine or a private network: localhost (and
// *.localhost), host.docker.internal, loopback, private (RFC 1918, fc00::/7), link-local and
// unspecified addresses.
func isLocalHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "host.docker.internal" {
		return true
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return false
	}
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
}

// timeouts picks connect and read timeouts: Settings wins when non-zero; otherwise a local or
// private server gets 60 s / 1800 s, a remote custom server 45 s / 900 s, and hosted APIs
// 30 s / 600 s.
func timeouts(s providers.Settings, base *url.URL) (connect, read time.Duration) {
	switch {
	case isLocalHost(base.Hostname()):
		connect, read = LocalConnectTimeout, LocalReadTimeout
	case s.Type == providers.Custom:
		connect, read = RemoteConnectTimeout, RemoteReadTimeout
	default:
		connect, read = providers.DefaultConnectTimeout, providers.DefaultReadTimeout
	}
	if s.ConnectTimeout > 0 {
		connect = s.ConnectTimeout
	}
	if s.ReadTimeout > 0 {
		read = s.ReadTimeout
	}
	return connect, read
}

// forbiddenHeaders may not be set through Settings.Headers: auth is the provider's job, and
// framing headers belong to net/http.
var forbiddenHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Api-Key":             true,
	"Cookie":              true,
	"Host":                true,
	"Content-Length":      true,
	"Content-Type":        true,
	"Transfer-Encoding":   true,
	"Connection":          true,
}

// extraHeaders validates Settings.Headers and returns them in canonical form.
func extraHeaders(in map[string]string) (http.Header, error) {
	out := make(http.Header, len(in))
	for name, value := range in {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%w: header name %q is not a valid token", providers.ErrNotConfigured, name)
		}
		canon := http.CanonicalHeaderKey(name)
		if forbiddenHeaders[canon] {
			return nil, fmt.Errorf("%w: header %s may not be set in settings", providers.ErrNotConfigured, canon)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("%w: header %s has a control character in its value", providers.ErrNotConfigured, canon)
		}
		if value == "" {
			continue
		}
		out.Set(canon, value)
	}
	return out, nil
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
