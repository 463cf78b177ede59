package providers

import (
	"net"
	"net/http"
	"time"
)

// Default timeouts of NewHTTPClient, PAL's values for hosted APIs: 30 s to connect, 600 s for
// a whole exchange.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultReadTimeout    = 600 * time.Second
)

// NewHTTPClient returns the HTTP client a provider builds when Settings.HTTPClient is nil.
// connect bounds dialling plus the TLS handshake; read bounds a whole exchange (request sent,
// response fully read). Zero or negative means DefaultConnectTimeout or DefaultReadTimeout.
//
// It never follows a redirect: the key header would travel with it to wherever the redirect
// points (net/http forwards custom headers such as api-key and x-goog-api-key to any host).
// The redirect answer itself comes back as the response (NoRedirects), for the provider to
// refuse. Its Transport is an *http.Transport, a clone of http.DefaultTransport, so proxies
// come from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) unless the caller clears
// Transport.Proxy.
func NewHTTPClient(connect, read time.Duration) *http.Client {
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	if read <= 0 {
		read = DefaultReadTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = connect
	return &http.Client{Transport: tr, Timeout: read, CheckRedirect: NoRedirects}
}

// NoRedirects is an http.Client CheckRedirect that keeps a redirect answer as the final
// response, so no request (and no key header) is sent to the redirect target.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
