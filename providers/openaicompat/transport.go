package openaicompat

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/pal-mcp/pal/providers"
)

// Body limits. An error body is cut at MaxErrorBodyBytes (enough for any real error message);
// a success body longer than MaxResponseBodyBytes fails with errBodyTooLarge.
const (
	MaxErrorBodyBytes    = 64 << 10
	MaxResponseBodyBytes = 32 << 20
)

var (
	errBodyTooLarge = errors.New("response body exceeds the size limit")
	errRedirect     = errors.New("the server answered with a redirect; redirects are not followed so the key stays with the configured host")
)

// newHTTPClient is providers.NewHTTPClient without proxies: PAL ignores the proxy variables
// while building its OpenAI clients.
func newHTTPClient(connect, read time.Duration) *http.Client {
	c := providers.NewHTTPClient(connect, read)
	c.Transport.(*http.Transport).Proxy = nil
	return c
}

// doer is the go-openai HTTPDoer. It adds the configured extra headers, removes an
// Authorization header where the provider must not get one (DIAL), refuses redirects, bounds
// body sizes and logs each exchange without headers or query.
type doer struct {
	client             *http.Client
	extra              http.Header
	stripAuthorization bool
	log                *slog.Logger
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	for name, values := range d.extra {
		req.Header[name] = append([]string(nil), values...)
	}
	if d.stripAuthorization {
		req.Header.Del("Authorization")
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	d.log.Debug("openaicompat http exchange",
		"method", req.Method, "path", req.URL.Path, "status", resp.StatusCode,
		"elapsed_ms", time.Since(start).Milliseconds())
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxErrorBodyBytes))
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d: %w", resp.StatusCode, errRedirect)
	}
	if resp.StatusCode >= 400 {
		resp.Body = limitedBody{r: io.LimitReader(resp.Body, MaxErrorBodyBytes), c: resp.Body}
	} else {
		resp.Body = limitedBody{r: &capReader{r: resp.Body, left: MaxResponseBodyBytes}, c: resp.Body}
	}
	return resp, nil
}

type limitedBody struct {
	r io.Reader
	c io.Closer
}

func (b limitedBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b limitedBody) Close() error               { return b.c.Close() }

// capReader reads at most left bytes and fails with errBodyTooLarge when more follow.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
