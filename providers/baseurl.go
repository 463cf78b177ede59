package providers

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ValidateBaseURL checks an endpoint given by the user: scheme http or https, a host name, a
// port (when given) in 1..65535, no user:password part (credentials belong in the key
// variable, where they are kept out of logs) and no query or fragment (a key placed there
// would end up in request logs, and SDKs append paths to the base URL as a string). The error
// quotes neither the URL nor its query.
func ValidateBaseURL(raw string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return fmt.Errorf("%w: empty URL", ErrInvalidBaseURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrInvalidBaseURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme must be http or https", ErrInvalidBaseURL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL are not accepted; use the API key setting", ErrInvalidBaseURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("%w: a query or fragment is not accepted", ErrInvalidBaseURL)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: no host name", ErrInvalidBaseURL)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port must be between 1 and 65535", ErrInvalidBaseURL)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%w: empty port", ErrInvalidBaseURL)
	}
	return nil
}

// ErrInvalidBaseURL: a configured endpoint is not a usable http(s) URL.
var ErrInvalidBaseURL = errors.New("invalid base URL")
