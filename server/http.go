package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"golang.org/x/time/rate"

	"github.com/pal-mcp/pal/internal/sessions"
	"github.com/pal-mcp/pal/policy"
)

// HTTPPath is where the streamable HTTP transport answers.
const HTTPPath = "/mcp"

// ErrHTTPConfig: the HTTP transport's options cannot be served safely.
var ErrHTTPConfig = errors.New("http transport")

// HTTPOptions configure the streamable HTTP transport (ServeHTTP, HTTPHandler).
type HTTPOptions struct {
	// Addr is the listen address, host:port. A loopback host (127.0.0.0/8, ::1, localhost)
	// may serve without tokens; any other needs at least one.
	Addr string
	// Tokens are the bearer tokens accepted (policy.HTTPTokens). None: no authentication,
	// loopback only.
	Tokens []policy.HTTPToken
	// Config holds the allowlists, TLS files and limits ([http] of pal.toml).
	Config policy.HTTPConfig
	// Sessions keeps the MCP sessions; nil means an in-memory store (sessions.Memory).
	Sessions sessions.Store
}

// peer is who sent an HTTP request: what audit records and the thread principal name.
type peer struct {
	client  string // "token:NAME", "token:1a2b3c4d", "env:NAME", or "local" without tokens
	remote  string // the remote address, host:port
	session string // Mcp-Session-Id, when the request carried one
	// link is the request's view of its session in the store (nil over stdio and in tests
	// that make a peer by hand).
	link *sessionLink
}

// sessionLink carries a request's session from the store to what serves the request: the
// guard puts one in every request's peer; Validate fills got, so that restoring the session's
// state on this replica costs no second lookup.
type sessionLink struct {
	store sessions.Store
	got   *sessions.Session // the stored session the request carries, once validated
	// minted is a session the guard stored before mcp-go asks for a new id (an initialize,
	// a GET without a session): Generate hands it out, so that a store that refuses one
	// more session (sessions.ErrFull, ErrClientFull) is an HTTP error the client sees, not
	// an id that never validates. The guard deletes it if mcp-go never asked.
	minted *sessions.Session
}

type peerKey struct{}

func peerOf(ctx context.Context) (peer, bool) {
	p, ok := ctx.Value(peerKey{}).(peer)
	return p, ok
}

// isLoopbackHost reports whether host (no port) is a loopback name or address.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// splitHost returns the host of a host[:port], without brackets.
func splitHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// httpGuard admits requests to the MCP endpoint: Host and Origin allowlists, bearer token,
// per-client rate, the session of a GET, then for a POST concurrency, body size and JSON
// shape, in that order. Refusals are audited with the client's identity and never quote a
// token.
type httpGuard struct {
	next     http.Handler
	logger   *slog.Logger
	audit    policy.Auditor
	tokens   []policy.HTTPToken
	loopback bool
	hosts    map[string]bool // allowed Host values: "name" (any port) or "name:port"
	origins  map[string]bool
	maxBody  int64
	rate     rate.Limit
	burst    int
	conc     int

	// sessions checks the session of a GET (the stream of server messages), which mcp-go
	// admits without validating it, and of a DELETE; it is mcp-go's id manager for POSTs.
	sessions sessionResolver

	mu      sync.Mutex
	clients map[string]*clientState
}

type clientState struct {
	limiter *rate.Limiter
	active  int
}

func newGuard(s *Server, opts HTTPOptions, sr sessionResolver, next http.Handler) (*httpGuard, error) {
	host, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen address %q: %v", ErrHTTPConfig, opts.Addr, err)
	}
	c := opts.Config
	g := &httpGuard{next: next, logger: s.logger, audit: s.audit, tokens: opts.Tokens,
		loopback: host != "" && isLoopbackHost(host), hosts: map[string]bool{}, origins: map[string]bool{},
		maxBody: c.MaxBodyBytes, sessions: sr, conc: c.ConcurrentPerClient, clients: map[string]*clientState{}}
	if !g.loopback && len(g.tokens) == 0 {
		return nil, fmt.Errorf("%w: %s is not a loopback address, so clients must authenticate: "+
			"give bearer tokens with -http-token-file FILE or -http-token-env NAME (or [http] token_file / token_env in a trusted pal.toml)",
			ErrHTTPConfig, opts.Addr)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, fmt.Errorf("%w: set both http.tls_cert and http.tls_key, or neither", ErrHTTPConfig)
	}
	if g.maxBody <= 0 {
		g.maxBody = policy.DefaultHTTPMaxBodyBytes
	}
	if g.conc <= 0 {
		g.conc = policy.DefaultHTTPConcurrentPerClient
	}
	perMin := c.RatePerMinute
	if perMin <= 0 {
		perMin = policy.DefaultHTTPRatePerMinute
	}
	g.rate, g.burst = rate.Limit(float64(perMin)/60), max(10, perMin/6)
	if g.loopback {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			g.hosts[h] = true
		}
	}
	if host != "" && port != "0" {
		g.hosts[strings.ToLower(net.JoinHostPort(host, port))] = true
	}
	for _, h := range c.AllowedHosts {
		g.hosts[strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))] = true
		g.hosts[strings.ToLower(h)] = true
	}
	for _, o := range c.AllowedOrigins {
		g.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return g, nil
}

func (g *httpGuard) hostAllowed(h string) bool {
	h = strings.ToLower(h)
	return h != "" && (g.hosts[h] || g.hosts[splitHost(h)])
}

func (g *httpGuard) originAllowed(o string) bool {
	if o == "" {
		return true // not a browser: no cross-site request to defend against
	}
	o = strings.ToLower(strings.TrimSuffix(o, "/"))
	if g.origins[o] {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && g.loopback && (u.Scheme == "http" || u.Scheme == "https") && isLoopbackHost(u.Hostname())
}

// authenticate returns the identity of the request's bearer token. Every token is compared,
// in constant time, whichever matches.
func (g *httpGuard) authenticate(r *http.Request) (string, string) {
	if len(g.tokens) == 0 {
		return "local", ""
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", "no bearer token"
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	found := -1
	for i := range g.tokens {
		if subtle.ConstantTimeCompare(h[:], g.tokens[i].Hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", "wrong bearer token"
	}
	return g.tokens[found].Name, ""
}

func (g *httpGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := peer{remote: r.RemoteAddr, session: r.Header.Get(mcpserver.HeaderKeySessionID)}
	if len(p.session) > 128 {
		p.session = p.session[:128]
	}
	refuse := func(status int, reason string) {
		g.auditRequest(p, r, "deny", reason)
		g.logger.Warn("http request refused", "status", status, "reason", reason, "client", p.client, "remote", p.remote)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pal"`)
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, http.StatusText(status)+": "+reason, status)
	}
	if !g.hostAllowed(r.Host) {
		refuse(http.StatusForbidden, "Host not allowed")
		return
	}
	if !g.originAllowed(r.Header.Get("Origin")) {
		refuse(http.StatusForbidden, "Origin not allowed")
		return
	}
	client, why := g.authenticate(r)
	if client == "" {
		refuse(http.StatusUnauthorized, why)
		return
	}
	p.client = client
	p.link = &sessionLink{store: g.sessions.store}
	st := g.client(client, r)
	if !st.limiter.Allow() {
		refuse(http.StatusTooManyRequests, "over http.rate_per_minute")
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodDelete) && p.session != "" {
		// mcp-go opens a GET stream under any session id it is given, unchecked, and answers
		// a DELETE of an unknown id and of another client's id differently: here both are as
		// unknown as an id that never existed, so that a stolen or guessed id neither
		// receives another client's notifications nor tells whether it is live.
		if _, err := g.sessions.manager(p).Validate(p.session); err != nil {
			refuse(http.StatusNotFound, "unknown session")
			return
		}
	}
	var body []byte
	if r.Method == http.MethodPost {
		if !g.acquire(st) {
			refuse(http.StatusTooManyRequests, fmt.Sprintf("%d requests of this client are in progress (http.concurrent_per_client)", g.conc))
			return
		}
		defer g.release(st)
		if r.ContentLength > g.maxBody {
			refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes (http.max_body_bytes)", g.maxBody))
			return
		}
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, g.maxBody+1))
		if err != nil {
			refuse(http.StatusBadRequest, "cannot read the body")
			return
		}
		if int64(len(body)) > g.maxBody {
			refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes (http.max_body_bytes)", g.maxBody))
			return
		}
		if err := CheckJSON(body); err != nil {
			g.auditRequest(p, r, "deny", "malformed JSON-RPC")
			code := mcp.INVALID_REQUEST
			if errors.Is(err, ErrNotJSON) {
				code = mcp.PARSE_ERROR
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(errorResponse(idOf(body), code, err.Error()))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	if mintsSession(r, p.session, body) {
		ms := sessions.Session{ID: sessions.NewID(), Client: p.client, Created: time.Now()}
		err := g.sessions.store.Create(r.Context(), ms, g.sessions.ttl)
		switch {
		case errors.Is(err, sessions.ErrClientFull):
			refuse(http.StatusTooManyRequests, "this client holds as many sessions as it may (http.sessions_per_client); end one (DELETE) or let one expire")
			return
		case errors.Is(err, sessions.ErrFull):
			w.Header().Set("Retry-After", "60")
			refuse(http.StatusServiceUnavailable, "the server holds as many sessions as it may; try again later")
			return
		case err != nil:
			g.logger.Error("http session not stored", "client", p.client, "err", err)
			refuse(http.StatusServiceUnavailable, "the session store is unavailable")
			return
		}
		p.link.minted = &ms
		defer func() {
			if p.link.minted != nil { // mcp-go refused the request before it asked for an id
				_ = g.sessions.store.Delete(context.WithoutCancel(r.Context()), ms.ID)
			}
		}()
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), peerKey{}, p)))
}

// mintsSession reports whether mcp-go will ask for a new session id to serve r: an initialize
// of a protocol version with sessions (before 2026-07-28), or a GET that names no session.
func mintsSession(r *http.Request, session string, body []byte) bool {
	switch r.Method {
	case http.MethodGet:
		return session == ""
	case http.MethodPost:
		var head struct {
			Method string `json:"method"`
			Params struct {
				Meta *mcp.Meta `json:"_meta"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &head) != nil || head.Method != string(mcp.MethodInitialize) {
			return false
		}
		return !mcp.IsModernProtocol(r.Header.Get(mcp.HeaderProtocolVersion)) && !mcp.IsModernProtocol(head.Params.Meta.ProtocolVersion())
	}
	return false
}

// idOf returns the id of a JSON-RPC request that is JSON but refused, for its error reply:
// a string or a number that is itself acceptable, else nil (the reply says null).
func idOf(body []byte) json.RawMessage {
	var head struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &head) != nil || len(head.ID) == 0 || len(head.ID) > 64 {
		return nil
	}
	var v any
	if CheckJSON([]byte(`{"id":`+string(head.ID)+`}`)) != nil || json.Unmarshal(head.ID, &v) != nil {
		return nil
	}
	switch v.(type) {
	case string, float64:
		return head.ID
	}
	return nil
}

func (g *httpGuard) client(id string, r *http.Request) *clientState {
	key := id
	if len(g.tokens) == 0 {
		key = "remote:" + splitHost(r.RemoteAddr) // no tokens: one client per address
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.clients[key]
	if st == nil {
		st = &clientState{limiter: rate.NewLimiter(g.rate, g.burst)}
		g.clients[key] = st
	}
	return st
}

func (g *httpGuard) acquire(st *clientState) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st.active >= g.conc {
		return false
	}
	st.active++
	return true
}

func (g *httpGuard) release(st *clientState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st.active--
}

// auditRequest records an HTTP-level decision (op "http.request").
func (g *httpGuard) auditRequest(p peer, r *http.Request, decision, reason string) {
	if g.audit == nil {
		return
	}
	rec := policy.Record{Op: "http.request", Decision: decision, Reason: reason, Path: r.Method + " " + r.URL.Path,
		Client: p.client, Remote: p.remote, Session: p.session}
	if err := g.audit.Audit(rec); err != nil {
		g.logger.Error("audit record lost", "err", err)
	}
}

// sessionManager binds mcp-go's session ids to a sessions.Store: ids are minted there with
// the identity of the client that initialized, and only that client may use or end them.
// With a shared store (Redis) every replica validates every session the same way.
type sessionManager struct {
	store  sessions.Store
	ttl    time.Duration
	client string // "" for the sweeper and shutdown (no request): may only end dead sessions
	link   *sessionLink
	logger *slog.Logger
}

func (m sessionManager) Generate() string {
	if m.link != nil && m.link.minted != nil {
		s := m.link.minted
		m.link.minted, m.link.got = nil, s
		return s.ID
	}
	s := sessions.Session{ID: sessions.NewID(), Client: m.client, Created: time.Now()}
	if err := m.store.Create(context.Background(), s, m.ttl); err != nil {
		// The id is still returned (mcp-go cannot refuse here); it will not validate, so the
		// client's next request gets 404 and the log says why.
		m.logger.Warn("http session not stored", "client", m.client, "err", err)
	} else if m.link != nil {
		m.link.got = &s
	}
	return s.ID
}

func (m sessionManager) Validate(id string) (bool, error) {
	s, err := m.store.Get(context.Background(), id)
	if err != nil {
		return false, err
	}
	if m.client == "" || s.Client != m.client {
		// Another client's session is as unknown as one that never existed.
		return false, sessions.ErrNotFound
	}
	if err := m.store.Touch(context.Background(), id, m.ttl); err != nil {
		return false, err
	}
	if m.link != nil {
		m.link.got = &s
	}
	return false, nil
}

// Terminate ends a session on a client's DELETE (the guard has checked it is the client's).
// Without a client (mcp-go's idle sweeper, and shutdown) it ends only a session the store no
// longer holds live: the sweeper knows only this replica's requests, and with a shared store
// the session may be in use on another replica, where it must go on.
func (m sessionManager) Terminate(id string) (bool, error) {
	s, err := m.store.Get(context.Background(), id)
	if m.client == "" {
		if err == nil {
			return false, nil // live in the store: it expires there, not here
		}
		return false, m.store.Delete(context.Background(), id)
	}
	if err != nil {
		return false, err
	}
	if s.Client != m.client {
		return true, nil // not allowed
	}
	return false, m.store.Delete(context.Background(), id)
}

type sessionResolver struct {
	store  sessions.Store
	ttl    time.Duration
	logger *slog.Logger
}

// manager is the session manager of a request from p.
func (r sessionResolver) manager(p peer) sessionManager {
	return sessionManager{store: r.store, ttl: r.ttl, logger: r.logger, client: p.client, link: p.link}
}

func (r sessionResolver) ResolveSessionIdManager(req *http.Request) mcpserver.SessionIdManager {
	if req != nil {
		if p, ok := peerOf(req.Context()); ok {
			return r.manager(p)
		}
	}
	return sessionManager{store: r.store, ttl: r.ttl, logger: r.logger}
}

// HTTPHandler returns the MCP endpoint behind its guard, mounted at HTTPPath, and a function
// that ends its sessions. opts.Addr is what Host is checked against.
func (s *Server) HTTPHandler(opts HTTPOptions) (http.Handler, func(context.Context) error, error) {
	store := opts.Sessions
	if store == nil {
		m := sessions.NewMemory(0)
		m.PerClient = opts.Config.SessionsPerClient
		store = m
	}
	ttl := opts.Config.SessionTTL.Duration
	if ttl <= 0 {
		ttl = policy.DefaultHTTPSessionTTL
	}
	sr := sessionResolver{store: store, ttl: ttl, logger: s.logger}
	stream := mcpserver.NewStreamableHTTPServer(s.mcp,
		mcpserver.WithEndpointPath(HTTPPath),
		mcpserver.WithSessionIdManagerResolver(sr),
		mcpserver.WithHTTPContextFunc(restoreSession),
		mcpserver.WithSessionIdleTTL(ttl),
		mcpserver.WithStreamableHTTPLogger(s.logger),
		// The guard checks Host and Origin against pal's allowlist, which may name hosts
		// mcp-go's own loopback check would refuse.
		mcpserver.WithDisableLocalhostProtection(true),
	)
	mux := http.NewServeMux()
	mux.Handle(HTTPPath, stream)
	g, err := newGuard(s, opts, sr, mux)
	if err != nil {
		return nil, nil, err
	}
	return g, stream.Shutdown, nil
}

// ServeHTTP serves MCP over streamable HTTP on opts.Addr until ctx ends, then ends the
// sessions and waits up to ten seconds for requests in progress. With http.tls_cert and
// http.tls_key it serves HTTPS.
func (s *Server) ServeHTTP(ctx context.Context, opts HTTPOptions) error {
	h, shutdown, err := s.HTTPHandler(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHTTPConfig, err)
	}
	return s.serveHTTPOn(ctx, ln, h, shutdown, opts.Config)
}

func (s *Server) serveHTTPOn(ctx context.Context, ln net.Listener, h http.Handler, shutdown func(context.Context) error, c policy.HTTPConfig) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return ctx.Err()
}

// HTTPAddrIsLoopback reports whether addr's host is a loopback name or address.
func HTTPAddrIsLoopback(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	return err == nil && h != "" && isLoopbackHost(h)
}
