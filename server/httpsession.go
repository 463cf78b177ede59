package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pal-mcp/pal/internal/sessions"
)

// sessionState is what pal keeps of an HTTP session in its store (sessions.Session.State),
// beyond its id and owner, so that a replica that did not see the session's initialize serves
// it as the one that did: mcp-go keeps these per replica, in memory, and gives a request whose
// session another replica opened a fresh session object with none of them.
type sessionState struct {
	// Client is the clientInfo of initialize (name and version: audit records, the model's
	// view of who asks).
	Client mcp.Implementation `json:"client"`
	// Capabilities are the client's capabilities (roots, sampling, elicitation), dropped when
	// they would make the state larger than sessions.MaxStateBytes.
	Capabilities *mcp.ClientCapabilities `json:"capabilities,omitempty"`
	// Level is the level logging/setLevel set; "" until the client sends it.
	Level mcp.LoggingLevel `json:"level,omitempty"`
}

// maxClientField bounds the client's name and version as kept.
const maxClientField = 256

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// encode returns st as JSON within sessions.MaxStateBytes: the capabilities go first when it
// is over.
func (st sessionState) encode() ([]byte, error) {
	st.Client = mcp.Implementation{Name: clip(st.Client.Name, maxClientField), Version: clip(st.Client.Version, maxClientField)}
	b, err := json.Marshal(st)
	if err == nil && len(b) > sessions.MaxStateBytes {
		st.Capabilities = nil
		b, err = json.Marshal(st)
	}
	return b, err
}

// httpLink returns the request's session link and the id of its MCP session, when ctx is a
// request over HTTP that has one.
func httpLink(ctx context.Context) (*sessionLink, string) {
	p, ok := peerOf(ctx)
	sess := mcpserver.ClientSessionFromContext(ctx)
	if !ok || p.link == nil || sess == nil || sess.SessionID() == "" {
		return nil, ""
	}
	return p.link, sess.SessionID()
}

// saveSessionState updates the state of the request's session in the store with change;
// failures are logged (the session works on this replica, and on another with less).
func (s *Server) saveSessionState(ctx context.Context, change func(*sessionState)) {
	link, id := httpLink(ctx)
	if link == nil {
		return
	}
	var st sessionState
	if link.got != nil && link.got.ID == id && len(link.got.State) > 0 {
		_ = json.Unmarshal(link.got.State, &st)
	}
	change(&st)
	b, err := st.encode()
	if err == nil {
		err = link.store.SetState(context.WithoutCancel(ctx), id, b)
	}
	if err != nil {
		s.logger.Warn("http session state not stored", "err", err)
		return
	}
	if link.got != nil && link.got.ID == id {
		link.got.State = b
	}
}

// sessionHooks keep in the session store what a client says at initialize and the log level
// it sets, for the other replicas.
func (s *Server) sessionHooks(h *mcpserver.Hooks) {
	h.AddAfterInitialize(func(ctx context.Context, _ any, req *mcp.InitializeRequest, _ *mcp.InitializeResult) {
		s.saveSessionState(ctx, func(st *sessionState) {
			caps := req.Params.Capabilities
			st.Client, st.Capabilities = req.Params.ClientInfo, &caps
		})
	})
	h.AddAfterSetLevel(func(ctx context.Context, _ any, req *mcp.SetLevelRequest, _ *mcp.EmptyResult) {
		s.saveSessionState(ctx, func(st *sessionState) { st.Level = req.Params.Level })
	})
}

// restoreSession is the streamable HTTP server's context function: when the request's session
// object lacks what the session's initialize said (the session was opened on another replica,
// or this one restarted), it gets it from the stored state; the stored log level always wins,
// since the client may have set it through another replica.
func restoreSession(ctx context.Context, _ *http.Request) context.Context {
	link, id := httpLink(ctx)
	sess := mcpserver.ClientSessionFromContext(ctx)
	if link == nil || link.got == nil || link.got.ID != id || len(link.got.State) == 0 {
		return ctx
	}
	var st sessionState
	if json.Unmarshal(link.got.State, &st) != nil {
		return ctx
	}
	if ci, ok := sess.(mcpserver.SessionWithClientInfo); ok && ci.GetClientInfo().Name == "" && st.Client.Name != "" {
		ci.SetClientInfo(st.Client)
		if st.Capabilities != nil {
			ci.SetClientCapabilities(*st.Capabilities)
		}
	}
	if sl, ok := sess.(mcpserver.SessionWithLogging); ok && st.Level != "" && sl.GetLogLevel() != st.Level {
		sl.SetLogLevel(st.Level)
	}
	return ctx
}
