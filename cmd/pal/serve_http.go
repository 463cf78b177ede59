package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/server"
)

// httpFlags are serve's flags for the streamable HTTP transport. The command line is a
// trusted layer: these override [http] of pal.toml.
type httpFlags struct {
	addr, tokenFile, tokenEnv, tlsCert, tlsKey string
}

func (h *httpFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&h.addr, "http", "", "serve streamable HTTP on ADDR (host:port) instead of stdio")
	fs.StringVar(&h.tokenFile, "http-token-file", "", "bearer tokens, one per line")
	fs.StringVar(&h.tokenEnv, "http-token-env", "", "variable holding a bearer token")
	fs.StringVar(&h.tlsCert, "tls-cert", "", "TLS certificate (PEM)")
	fs.StringVar(&h.tlsKey, "tls-key", "", "TLS key (PEM)")
}

// serveHTTP serves a's server over streamable HTTP until ctx ends.
func serveHTTP(ctx context.Context, a *app.App, hf httpFlags, stderr io.Writer) int {
	c := a.Config.HTTP
	if hf.tokenFile != "" || hf.tokenEnv != "" {
		c.TokenFile, c.TokenEnv = hf.tokenFile, hf.tokenEnv
	}
	if hf.tlsCert != "" || hf.tlsKey != "" {
		c.TLSCert, c.TLSKey = hf.tlsCert, hf.tlsKey
	}
	tokens, err := policy.HTTPTokens(c.TokenFile, c.TokenEnv, a.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	attrs := []any{"version", app.Version, "url", scheme + "://" + hf.addr + server.HTTPPath, "tokens", len(tokens)}
	if a.Unavailable == "" { // a degraded App (app.Degraded) has no roots
		attrs = append(attrs, "tools", a.Server.Tools(), "roots", a.Paths.Roots())
	}
	a.Logger.Info("serving MCP on streamable HTTP", attrs...)
	err = a.Server.ServeHTTP(ctx, server.HTTPOptions{Addr: hf.addr, Tokens: tokens, Config: c, Sessions: a.Sessions})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	if a.Unavailable != "" {
		return 1 // served, but could not serve tools (as over stdio)
	}
	return 0
}
