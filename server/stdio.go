package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/mark3labs/mcp-go/mcp"
)

// MaxMessageBytes caps one JSON-RPC message read from stdin (32 MiB). A longer line is
// discarded and answered with a parse error; the session goes on.
const MaxMessageBytes = 32 << 20

// MaxConcurrentRequests bounds the requests served at once on one stdio session; more wait
// their turn without blocking the reader (so cancellations still get through).
const MaxConcurrentRequests = 16

// stdioTransport serves one MCP session over newline-delimited JSON-RPC. It replaces mcp-go's
// stdio server for one reason: the notifications a request causes (progress) are written
// before that request's response, always. mcp-go queues notifications on a channel that
// another goroutine drains, so the response usually overtook them.
type stdioTransport struct {
	mcp    *mcpserver.MCPServer
	logger *slog.Logger

	wmu sync.Mutex
	w   *bufio.Writer

	session *stdioSession

	mu       sync.Mutex
	inflight map[string]*inflightRequest // by JSON-encoded id
}

type inflightRequest struct {
	cancelled atomic.Bool
}

// notifierKey carries a function that writes a notification now, in order, to the client of
// the request being served.
type notifierKey struct{}

// Notify writes a notification to the client of the request that ctx belongs to. On stdio it is
// written before the request's response. It reports whether a transport took it.
func Notify(ctx context.Context, method string, params any) bool {
	if f, ok := ctx.Value(notifierKey{}).(func(string, any) error); ok {
		return f(method, params) == nil
	}
	if s := mcpserver.ServerFromContext(ctx); s != nil {
		m, ok := params.(map[string]any)
		if !ok {
			raw, err := json.Marshal(params)
			if err != nil || json.Unmarshal(raw, &m) != nil {
				return false
			}
		}
		return s.SendNotificationToClient(ctx, method, m) == nil
	}
	return false
}

// ServeStdio runs the session until in reaches EOF or ctx is done. In-flight requests are
// cancelled when it returns.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	t := &stdioTransport{
		mcp:      s.mcp,
		logger:   s.logger,
		w:        bufio.NewWriter(out),
		session:  newStdioSession(),
		inflight: map[string]*inflightRequest{},
	}
	return t.serve(ctx, in)
}

func (t *stdioTransport) serve(ctx context.Context, in io.Reader) error {
	if err := t.mcp.RegisterSession(ctx, t.session); err != nil {
		return fmt.Errorf("register stdio session: %w", err)
	}
	defer t.mcp.UnregisterSession(ctx, t.session.SessionID())
	ctx = t.mcp.WithContext(ctx, t.session)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Notifications mcp-go itself sends (log messages, list changes) arrive on the session
	// channel; a drainer writes them as they come.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-t.session.notifications:
				t.write(n)
			}
		}
	}()

	var wg sync.WaitGroup
	sem := make(chan struct{}, MaxConcurrentRequests)
	r := bufio.NewReaderSize(in, 64<<10)
	var readErr error
	for {
		line, err := readLine(r, MaxMessageBytes)
		if len(bytes.TrimSpace(line)) > 0 || errors.Is(err, errLineTooLong) {
			if errors.Is(err, errLineTooLong) {
				t.write(errorResponse(nil, mcp.PARSE_ERROR, fmt.Sprintf("message longer than %d bytes", MaxMessageBytes)))
			} else {
				t.dispatch(ctx, line, &wg, sem)
			}
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	cancel()
	wg.Wait()
	<-drained
	t.flushChannel()
	return readErr
}

// dispatch handles one message: responses and notifications inline, requests on their own
// goroutine (at most MaxConcurrentRequests at once).
func (t *stdioTransport) dispatch(ctx context.Context, line []byte, wg *sync.WaitGroup, sem chan struct{}) {
	var head struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		t.write(errorResponse(nil, mcp.PARSE_ERROR, "message is not JSON"))
		return
	}
	msg := json.RawMessage(bytes.Clone(line))
	isRequest := len(head.ID) > 0 && string(head.ID) != "null" && head.Method != ""
	if !isRequest {
		if head.Method == string(mcp.MethodNotificationCancelled) {
			t.markCancelled(head.Params)
		}
		if head.Method == "" {
			return // a response to a server request; none are sent yet
		}
		if resp := t.mcp.HandleMessage(ctx, msg); resp != nil {
			t.write(resp)
		}
		return
	}
	key := string(head.ID)
	req := &inflightRequest{}
	t.mu.Lock()
	t.inflight[key] = req
	t.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-sem }()
		defer func() {
			t.mu.Lock()
			delete(t.inflight, key)
			t.mu.Unlock()
		}()
		rctx := context.WithValue(ctx, notifierKey{}, func(method string, params any) error {
			return t.write(mcp.JSONRPCNotification{
				JSONRPC:      mcp.JSONRPC_VERSION,
				Notification: mcp.Notification{Method: method, Params: notificationParams(params)},
			})
		})
		resp := t.handle(rctx, head.ID, msg)
		// Whatever mcp-go queued while serving this request goes out before its response.
		t.flushChannel()
		if req.cancelled.Load() || resp == nil {
			return // the client cancelled: the spec says not to answer
		}
		t.write(resp)
	}()
}

// handle runs HandleMessage, turning a panic into an internal-error response.
func (t *stdioTransport) handle(ctx context.Context, id json.RawMessage, msg json.RawMessage) (resp mcp.JSONRPCMessage) {
	defer func() {
		if r := recover(); r != nil {
			t.logger.Error("panic serving request", "panic", fmt.Sprint(r))
			resp = errorResponse(id, mcp.INTERNAL_ERROR, "internal error")
		}
	}()
	return t.mcp.HandleMessage(ctx, msg)
}

func (t *stdioTransport) markCancelled(params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil || len(p.RequestID) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.inflight[string(p.RequestID)]; ok {
		r.cancelled.Store(true)
	}
}

// flushChannel writes every notification already queued on the session channel.
func (t *stdioTransport) flushChannel() {
	for {
		select {
		case n := <-t.session.notifications:
			t.write(n)
		default:
			return
		}
	}
}

// write sends one message as a line. Writes are serialised and flushed at once.
func (t *stdioTransport) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		t.logger.Error("cannot encode outgoing message", "err", err)
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if _, err := t.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return t.w.Flush()
}

func notificationParams(params any) mcp.NotificationParams {
	var np mcp.NotificationParams
	raw, err := json.Marshal(params)
	if err != nil {
		return np
	}
	var fields map[string]any
	if json.Unmarshal(raw, &fields) != nil {
		return np
	}
	np.AdditionalFields = fields
	return np
}

type rpcError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func errorResponse(id json.RawMessage, code int, message string) rpcError {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	e := rpcError{JSONRPC: mcp.JSONRPC_VERSION, ID: id}
	e.Error.Code, e.Error.Message = code, message
	return e
}

var errLineTooLong = errors.New("line too long")

// readLine reads up to and without the next '\n'. A line longer than limit is consumed and
// reported as errLineTooLong.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > limit {
			// Discard the rest of the line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLineTooLong
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(buf, []byte("\n")), err
	}
}

// stdioSession is the one client session of a stdio server.
type stdioSession struct {
	notifications chan mcp.JSONRPCNotification
	initialized   atomic.Bool
	level         atomic.Value // mcp.LoggingLevel

	mu         sync.RWMutex
	clientInfo mcp.Implementation
	clientCaps mcp.ClientCapabilities
}

func newStdioSession() *stdioSession {
	return &stdioSession{notifications: make(chan mcp.JSONRPCNotification, 256)}
}

func (s *stdioSession) SessionID() string { return "stdio" }
func (s *stdioSession) NotificationChannel() chan<- mcp.JSONRPCNotification {
	return s.notifications
}
func (s *stdioSession) Initialize()       { s.initialized.Store(true) }
func (s *stdioSession) Initialized() bool { return s.initialized.Load() }
func (s *stdioSession) SetLogLevel(l mcp.LoggingLevel) {
	s.level.Store(l)
}
func (s *stdioSession) GetLogLevel() mcp.LoggingLevel {
	if l, ok := s.level.Load().(mcp.LoggingLevel); ok {
		return l
	}
	return mcp.LoggingLevelError
}
func (s *stdioSession) GetClientInfo() mcp.Implementation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.clientInfo
}
func (s *stdioSession) SetClientInfo(ci mcp.Implementation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientInfo = ci
}
func (s *stdioSession) GetClientCapabilities() mcp.ClientCapabilities {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.clientCaps
}
func (s *stdioSession) SetClientCapabilities(c mcp.ClientCapabilities) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientCaps = c
}
