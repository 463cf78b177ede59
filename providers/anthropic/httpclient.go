package anthropic

import (
	"errors"
	"net/http"
	"time"

	"github.com/pal-mcp/pal/providers"
)

// errRedirectRefused ends a request that answered with a redirect. The SDK reads a 3xx as a
// success, so the redirect is refused as an error rather than handed back as a response.
var errRedirectRefused = errors.New("redirect refused: the API answered with a redirect, which is not followed")

// newHTTPClient is providers.NewHTTPClient with redirects refused as errRedirectRefused
// instead of handed back.
func newHTTPClient(connect, read time.Duration) *http.Client {
	c := providers.NewHTTPClient(connect, read)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirectRefused }
	return c
}
