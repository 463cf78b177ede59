package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// DefaultClientLogLevel is the level a session receives log messages at until it sends
// logging/setLevel: warnings and errors, so that a problem reaches a client that hides pal's
// stderr (most do).
const DefaultClientLogLevel = mcp.LoggingLevelWarning

// maxEarlyLogs bounds the records kept from before the first client (start-up warnings).
const maxEarlyLogs = 32

// ClientLog sends pal's log records to MCP clients as notifications/message, each session at
// or above the level it set with logging/setLevel (DefaultClientLogLevel until then). Records
// at DefaultClientLogLevel or above that are logged before a session is initialized, the
// start-up warnings among them, are kept (the first maxEarlyLogs) and sent to each session when
// it sends notifications/initialized. Use Handler in the logger's chain, behind redaction, and
// give the ClientLog to New through Options.ClientLog. The zero value is not usable; use
// NewClientLog.
type ClientLog struct {
	mu       sync.Mutex
	srv      *mcpserver.MCPServer
	sessions map[string]mcpserver.ClientSession // initialized sessions, by id
	early    []mcp.LoggingMessageNotification
}

// NewClientLog returns a ClientLog that keeps records until a server is attached.
func NewClientLog() *ClientLog {
	return &ClientLog{sessions: map[string]mcpserver.ClientSession{}}
}

// attach starts sending to the sessions of srv: each one initialized from now on (the server
// calls initialized) gets the early records, then every record at its level.
func (c *ClientLog) attach(srv *mcpserver.MCPServer) {
	c.mu.Lock()
	c.srv = srv
	c.mu.Unlock()
}

// initialized serves notifications/initialized: the session gets the early records.
func (c *ClientLog) initialized(ctx context.Context) {
	sess := mcpserver.ClientSessionFromContext(ctx)
	if sess == nil {
		return
	}
	c.mu.Lock()
	srv := c.srv
	c.sessions[sess.SessionID()] = sess
	early := append([]mcp.LoggingMessageNotification(nil), c.early...)
	c.mu.Unlock()
	if srv == nil {
		return
	}
	for _, n := range early {
		_ = srv.SendLogMessageToSpecificClient(sess.SessionID(), n)
	}
}

// wants reports whether some session, or the early buffer, would take a record at level.
func (c *ClientLog) wants(level mcp.LoggingLevel) bool {
	if level.ShouldSendTo(DefaultClientLogLevel) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sessions {
		if sl, ok := s.(mcpserver.SessionWithLogging); ok && level.ShouldSendTo(sl.GetLogLevel()) {
			return true
		}
	}
	return false
}

// send hands one record to every initialized session that wants it, or keeps it while there
// is none.
func (c *ClientLog) send(n mcp.LoggingMessageNotification) {
	c.mu.Lock()
	srv := c.srv
	ids := make([]string, 0, len(c.sessions))
	for id := range c.sessions {
		ids = append(ids, id)
	}
	if len(ids) == 0 && n.Params.Level.ShouldSendTo(DefaultClientLogLevel) && len(c.early) < maxEarlyLogs {
		c.early = append(c.early, n)
	}
	c.mu.Unlock()
	if srv == nil {
		return
	}
	for _, id := range ids {
		if err := srv.SendLogMessageToSpecificClient(id, n); errors.Is(err, mcpserver.ErrSessionNotFound) {
			c.mu.Lock()
			delete(c.sessions, id)
			c.mu.Unlock()
		}
	}
}

// Handler is a slog.Handler that formats each record as one logfmt line without time and
// level (the notification carries the level) and sends it with logger "pal".
func (c *ClientLog) Handler() slog.Handler { return &clientLogHandler{log: c} }

type clientLogHandler struct {
	log *ClientLog
	ops []func(slog.Handler) slog.Handler // WithAttrs and WithGroup, in order
}

func (h *clientLogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.log.wants(mcpLevel(l))
}

func (h *clientLogHandler) Handle(ctx context.Context, r slog.Record) error {
	var buf bytes.Buffer
	var th slog.Handler = slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug - 4,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	for _, op := range h.ops {
		th = op(th)
	}
	if err := th.Handle(ctx, r); err != nil {
		return err
	}
	text := string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	h.log.send(mcp.NewLoggingMessageNotification(mcpLevel(r.Level), "pal", text))
	return nil
}

func (h *clientLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &clientLogHandler{log: h.log, ops: append(h.ops[:len(h.ops):len(h.ops)], func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) })}
}

func (h *clientLogHandler) WithGroup(name string) slog.Handler {
	return &clientLogHandler{log: h.log, ops: append(h.ops[:len(h.ops):len(h.ops)], func(x slog.Handler) slog.Handler { return x.WithGroup(name) })}
}

// mcpLevel maps a slog level onto MCP's (RFC 5424) levels.
func mcpLevel(l slog.Level) mcp.LoggingLevel {
	switch {
	case l >= slog.LevelError:
		return mcp.LoggingLevelError
	case l >= slog.LevelWarn:
		return mcp.LoggingLevelWarning
	case l >= slog.LevelInfo:
		return mcp.LoggingLevelInfo
	}
	return mcp.LoggingLevelDebug
}
