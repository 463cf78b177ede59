package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/policy"
)

// RootsTimeout bounds one roots/list request to a client (10 s); a tool call waits at most
// this long for the answer to one in flight, then runs with the allowlist in force.
const RootsTimeout = 10 * time.Second

// clientRoots keeps, per MCP session, the allowlist the client's roots leave
// (paths.client_roots = "narrow"): the trusted roots narrowed to the client's, never wider.
// Sessions are independent: one HTTP client's roots never touch another's calls.
type clientRoots struct {
	base    *policy.Paths // the trusted allowlist
	mcp     *mcpserver.MCPServer
	logger  *slog.Logger
	audit   policy.Auditor
	timeout time.Duration

	mu       sync.Mutex
	sessions map[string]*sessionRoots // by session id
}

// sessionRoots is one session's state.
type sessionRoots struct {
	mu      sync.Mutex
	paths   *policy.Paths // nil: the trusted roots
	pending chan struct{} // closed when the roots/list in flight ends; nil when none
	// again: the roots changed while a roots/list was in flight, so its answer may be stale
	// and pal asks once more. One request per session is in flight at a time, however many
	// list_changed notifications a client sends.
	again bool
	told  bool // the session was told that its roots are not used
}

// newClientRoots returns nil when client roots are off or no paths are configured.
func newClientRoots(s *Server, p *policy.Config) *clientRoots {
	if p.Paths.ClientRoots == policy.ClientRootsOff || s.env.Paths == nil {
		return nil
	}
	return &clientRoots{base: s.env.Paths, mcp: s.mcp, logger: s.logger, audit: s.audit, timeout: RootsTimeout,
		sessions: map[string]*sessionRoots{}}
}

// changed asks the client of ctx's session for its roots, when it declared the capability:
// after notifications/initialized and on notifications/roots/list_changed. It returns at once;
// tool calls of the session wait for the answer.
func (c *clientRoots) changed(ctx context.Context) {
	if c == nil {
		return
	}
	sess := mcpserver.ClientSessionFromContext(ctx)
	if sess == nil || sess.SessionID() == "" {
		return
	}
	st := c.state(sess.SessionID())
	who := peerSpec(ctx) // zero over stdio
	withCaps, ok := sess.(mcpserver.SessionWithClientInfo)
	rs, canAsk := sess.(mcpserver.SessionWithRoots)
	if !ok || withCaps.GetClientCapabilities().Roots == nil || !canAsk {
		c.tellOnce(sess, st, mcp.LoggingLevelNotice, "the client did not declare the roots capability: "+
			"tools read within pal's roots ("+strings.Join(c.base.Roots(), ", ")+")")
		return
	}
	st.mu.Lock()
	if st.pending != nil {
		st.again = true
		st.mu.Unlock()
		return
	}
	done := make(chan struct{})
	st.pending = done
	st.mu.Unlock()
	go func() {
		defer close(done)
		for {
			actx, cancel := context.WithTimeout(context.Background(), c.timeout)
			res, err := rs.ListRoots(actx, mcp.ListRootsRequest{Request: mcp.Request{Method: string(mcp.MethodListRoots)}})
			cancel()
			if c.apply(sess, st, who, res, err) {
				return
			}
		}
	}()
}

// apply installs one roots/list answer and reports true, or reports false when the roots
// changed meanwhile and pal must ask again.
func (c *clientRoots) apply(sess mcpserver.ClientSession, st *sessionRoots, who hostfns.Peer, res *mcp.ListRootsResult, err error) bool {
	id := sess.SessionID()
	if err != nil {
		st.mu.Lock()
		if st.again {
			st.again = false
			st.mu.Unlock()
			return false
		}
		st.pending = nil
		narrowed := st.paths != nil
		st.mu.Unlock()
		keep := "pal's roots (" + strings.Join(c.base.Roots(), ", ") + ")"
		if narrowed {
			keep = "the client roots it answered before"
		}
		c.logger.Warn("roots/list failed; keeping the allowlist in force", "session", id, "err", err)
		c.tellOnce(sess, st, mcp.LoggingLevelWarning, fmt.Sprintf("roots/list failed (%v): tools read within %s", err, keep))
		return true
	}
	uris := make([]string, 0, min(len(res.Roots), policy.MaxClientRoots))
	for _, r := range res.Roots[:min(len(res.Roots), policy.MaxClientRoots)] {
		uris = append(uris, r.URI)
	}
	var next *policy.Paths
	var report []policy.ClientRoot
	if len(uris) > 0 {
		next, report = c.base.Narrow(uris)
	}
	st.mu.Lock()
	if st.again {
		st.again = false
		st.mu.Unlock()
		return false
	}
	st.paths, st.pending = next, nil
	st.mu.Unlock()

	if over := len(res.Roots) - len(uris); over > 0 {
		c.logger.Warn("client roots over the cap ignored", "session", id, "ignored", over, "cap", policy.MaxClientRoots)
		c.auditRoots(who, "deny", fmt.Sprintf("%d roots over the cap of %d ignored", over, policy.MaxClientRoots), "")
	}
	for _, cr := range report {
		if cr.Ignored != "" {
			c.logger.Warn("client root ignored", "session", id, "uri", cr.URI, "why", cr.Ignored)
			c.auditRoots(who, "deny", "client root ignored: "+cr.Ignored, cr.URI)
		}
	}
	if next == nil {
		c.logger.Info("the client named no roots; pal's roots in force", "session", id, "roots", c.base.Roots())
		c.auditRoots(who, "allow", "the client named no roots: pal's roots in force", "")
		return true
	}
	c.logger.Info("client roots in force", "session", id, "roots", next.Roots())
	c.auditRoots(who, "allow", "client roots in force: "+strings.Join(next.Roots(), ", "), "")
	return true
}

// paths returns the allowlist for a tool call of ctx's session: nil means the trusted one.
// It waits for a roots/list in flight, at most the roots timeout.
func (c *clientRoots) paths(ctx context.Context) *policy.Paths {
	if c == nil {
		return nil
	}
	sess := mcpserver.ClientSessionFromContext(ctx)
	if sess == nil {
		return nil
	}
	c.mu.Lock()
	st := c.sessions[sess.SessionID()]
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	for {
		st.mu.Lock()
		p, pending := st.paths, st.pending
		st.mu.Unlock()
		if pending == nil {
			return p
		}
		select {
		case <-pending:
		case <-timer.C:
			return p
		case <-ctx.Done():
			return p
		}
	}
}

func (c *clientRoots) state(id string) *sessionRoots {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.sessions[id]
	if st == nil {
		st = &sessionRoots{}
		c.sessions[id] = st
	}
	return st
}

// forget drops a session's state when the session ends.
func (c *clientRoots) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.sessions, id)
	c.mu.Unlock()
}

// tellOnce sends the session one log notification about its roots, the first time only.
func (c *clientRoots) tellOnce(sess mcpserver.ClientSession, st *sessionRoots, level mcp.LoggingLevel, text string) {
	st.mu.Lock()
	told := st.told
	st.told = true
	st.mu.Unlock()
	if told {
		return
	}
	_ = c.mcp.SendLogMessageToSpecificClient(sess.SessionID(), mcp.NewLoggingMessageNotification(level, "pal", text))
}

// auditRoots writes what became of the client's roots: op "client.roots", with the path of an
// ignored root (its URI as sent, cut to 200 bytes).
func (c *clientRoots) auditRoots(who hostfns.Peer, decision, reason, path string) {
	if c.audit == nil {
		return
	}
	rec := policy.Record{Op: "client.roots", Decision: decision, Reason: reason, Path: path,
		Client: who.Client, Remote: who.Remote, Session: who.Session}
	if err := c.audit.Audit(rec); err != nil {
		c.logger.Error("audit record lost", "err", err)
	}
}
