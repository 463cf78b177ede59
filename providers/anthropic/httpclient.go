package anthropic

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pal-mcp/pal/providers"
)

// Default timeouts when Settings leaves them zero (PAL's defaults): 30 s to connect, 600 s for
// a whole response.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultReadTimeout    = 600 * time.Second
)

// errRedirectRefused ends a request that answered with a redirect. The SDK reads a 3xx as a
// success, so the redirect is refused as an error rather than handed back as a response.
var errRedirectRefused = errors.New("redirect refused: the API answered with a redirect, which is not followed")

// newHTTPClient builds the client used when Settings.HTTPClient is nil. It never follows a
// redirect: the key header would travel with it to wherever the redirect points.
func newHTTPClient(connect, read time.Duration) *http.Client {
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	if read <= 0 {
		read = DefaultReadTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = connect
	return &http.Client{
		Transport: tr,
		Timeout:   read,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errRedirectRefused
		},
	}
}

// checkBaseURL accepts what providers.ValidateBaseURL accepts (http or https, a host, a port in
// 1..65535, no user info) and additionally refuses a query or fragment: a key placed there
// would end up in request logs. The error never repeats the URL.
func checkBaseURL(raw string) error {
	if err := providers.ValidateBaseURL(raw); err != nil {
		return err
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%w: not a URL", providers.ErrInvalidBaseURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("%w: a query or fragment is not accepted", providers.ErrInvalidBaseURL)
	}
	return nil
}
