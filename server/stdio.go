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

// Limits of the stdio loop besides those of [limits] (concurrent_calls is the number of
// workers, waiting_requests the length of the queue in front of them).
const (
	// MaxWaitingBytes caps the bytes of all requests waiting for a worker together (64 MiB);
	// past it, as past waiting_requests, a request is answered at once with CodeBusy.
	MaxWaitingBytes = 64 << 20
	// CodeBusy is the JSON-RPC error code of a request refused because the server is busy
	// (JSON-RPC's range for server errors).
	CodeBusy = -32000
)

// stdioTransport serves one MCP session over newline-delimited JSON-RPC. It replaces mcp-go's
// stdio server for one reason: the notifications a request causes (progress) are written
// before that request's response, always. mcp-go queues notifications on a channel that
// another goroutine drains, so the response usually overtook them.
type stdioTransport struct {
	mcp        *mcpserver.MCPServer
	logger     *slog.Logger
	maxMessage int // bytes

	wmu sync.Mutex
	w   *bufio.Writer

	session *stdioSession

	workers    int   // requests served at once
	maxWaiting int   // requests that may wait for a worker
	waitBytes  int64 // bytes of the waiting requests (atomic)

	mu       sync.Mutex
	inflight map[string]*inflightRequest // by JSON-encoded id
}

// job is one request waiting for a worker.
type job struct {
	id   json.RawMessage
	key  string
	msg  json.RawMessage
	req  *inflightRequest
	ctx  context.Context
	size int64
}

type inflightRequest struct {
	cancelled atomic.Bool
	gone      chan struct{}      // closed when the client cancels the request
	cancel    context.CancelFunc // ends the request's context
}

// cancelByClient marks the request cancelled by the client and ends its context, whether it
// runs already or still waits for a slot.
func (r *inflightRequest) cancelByClient() {
	if r.cancelled.CompareAndSwap(false, true) {
		close(r.gone)
		r.cancel()
	}
}

// readResult is one line read from stdin, or the error that ended reading.
type readResult struct {
	line []byte
	err  error
}

// readLines reads lines until an error other than errLineTooLong, handing each to out, and
// gives up when stop is closed.
func readLines(r *bufio.Reader, limit int, out chan<- readResult, stop <-chan struct{}) {
	for {
		line, err := readLine(r, limit)
		select {
		case out <- readResult{line, err}:
		case <-stop:
			return
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return
		}
	}
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

// ServeStdio runs the session until in reaches EOF (it returns nil) or ctx is done (it returns
// ctx's error). In-flight requests are then cancelled, and every request read is answered
// before it returns, except those the client cancelled. When ctx ends first, one goroutine
// stays blocked reading in until in returns.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	maxMessage := s.maxMessageBytes
	if maxMessage <= 0 {
		maxMessage = MaxMessageBytes
	}
	t := &stdioTransport{
		mcp:        s.mcp,
		logger:     s.logger,
		maxMessage: maxMessage,
		w:          bufio.NewWriter(out),
		inflight:   map[string]*inflightRequest{},
		workers:    s.workers,
		maxWaiting: s.maxWaiting,
	}
	t.session = newStdioSession(t.write)
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

	// A fixed set of workers serves requests from a bounded queue: a flood of requests costs
	// the queue's length, never a goroutine each.
	var wg sync.WaitGroup
	queue := make(chan *job, t.maxWaiting)
	for range t.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				t.run(j)
			}
		}()
	}
	// Lines are read on their own goroutine so that the end of ctx (a signal) ends the session
	// even while stdin stays open.
	lines := make(chan readResult)
	stop := make(chan struct{})
	defer close(stop)
	go readLines(bufio.NewReaderSize(in, 64<<10), t.maxMessage, lines, stop)
	var readErr error
read:
	for {
		var rr readResult
		select {
		case <-ctx.Done():
			readErr = ctx.Err()
			break read
		case rr = <-lines:
		}
		if errors.Is(rr.err, errLineTooLong) {
			t.write(errorResponse(nil, mcp.PARSE_ERROR, fmt.Sprintf("message longer than %d bytes", t.maxMessage)))
			continue
		}
		if len(bytes.TrimSpace(rr.line)) > 0 {
			t.dispatch(ctx, rr.line, queue)
		}
		if rr.err != nil {
			if !errors.Is(rr.err, io.EOF) {
				readErr = rr.err
			}
			break
		}
	}
	cancel()
	t.session.close()
	close(queue) // the workers answer what waits, with its context done, and stop
	wg.Wait()
	<-drained
	t.flushChannel()
	return readErr
}

// dispatch handles one message: responses and notifications inline, requests through the
// queue to the workers. A request that finds the queue full (waiting_requests, or
// MaxWaitingBytes) is answered at once with CodeBusy.
func (t *stdioTransport) dispatch(ctx context.Context, line []byte, queue chan<- *job) {
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
			// A response to a request pal sent (roots/list); an unknown id is dropped.
			if !t.session.deliver(head.ID, msg) {
				t.logger.Debug("response to no request of ours dropped", "id", tail(string(head.ID), 64))
			}
			return
		}
		// JSON-RPC forbids answering a notification, even one mcp-go could not parse.
		if resp := t.mcp.HandleMessage(ctx, msg); resp != nil {
			t.logger.Debug("notification not answered", "method", head.Method)
		}
		return
	}
	size := int64(len(msg))
	if atomic.AddInt64(&t.waitBytes, size) > MaxWaitingBytes {
		atomic.AddInt64(&t.waitBytes, -size)
		t.busy(head.ID, "the requests waiting hold too many bytes")
		return
	}
	key := string(head.ID)
	rctx, rcancel := context.WithCancel(ctx)
	j := &job{id: head.ID, key: key, msg: msg, ctx: rctx, size: size,
		req: &inflightRequest{gone: make(chan struct{}), cancel: rcancel}}
	t.mu.Lock()
	t.inflight[key] = j.req
	t.mu.Unlock()
	select {
	case queue <- j:
	default:
		atomic.AddInt64(&t.waitBytes, -size)
		t.done(j)
		t.busy(head.ID, fmt.Sprintf("%d requests are already waiting (limits.waiting_requests)", t.maxWaiting))
	}
}

// busy answers a request the server has no room for.
func (t *stdioTransport) busy(id json.RawMessage, why string) {
	t.logger.Warn("request refused: server busy", "id", string(id), "why", why)
	t.write(errorResponse(id, CodeBusy, "server busy: "+why+"; retry later"))
}

// done forgets a request: it no longer waits, and its context ends.
func (t *stdioTransport) done(j *job) {
	j.req.cancel()
	t.mu.Lock()
	if t.inflight[j.key] == j.req {
		delete(t.inflight, j.key)
	}
	t.mu.Unlock()
}

// run serves one request on a worker. A request the client cancelled while it waited never
// runs. At the end of the session a waiting request still runs, with its context done, so
// that every request read is answered.
func (t *stdioTransport) run(j *job) {
	atomic.AddInt64(&t.waitBytes, -j.size)
	defer t.done(j)
	if j.req.cancelled.Load() {
		return
	}
	rctx := context.WithValue(j.ctx, notifierKey{}, func(method string, params any) error {
		return t.write(mcp.JSONRPCNotification{
			JSONRPC:      mcp.JSONRPC_VERSION,
			Notification: mcp.Notification{Method: method, Params: notificationParams(params)},
		})
	})
	resp := t.handle(rctx, j.id, j.msg)
	// Whatever mcp-go queued while serving this request goes out before its response.
	t.flushChannel()
	if j.req.cancelled.Load() || resp == nil {
		return // the client cancelled: the spec says not to answer
	}
	t.write(resp)
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
		r.cancelByClient()
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

// readLine reads up to and without the next '\n'. A line longer than limit bytes (the '\n' not
// counted) is consumed and reported as errLineTooLong.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(bytes.TrimSuffix(chunk, []byte("\n"))) > limit {
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

	// Requests pal sends the client (roots/list): send writes one, pending waits for the
	// answer by JSON-encoded id, closed ends every wait when the session ends.
	send      func(any) error
	nextID    atomic.Int64
	pending   map[string]chan json.RawMessage
	closed    chan struct{}
	closeOnce sync.Once
}

func newStdioSession(send func(any) error) *stdioSession {
	return &stdioSession{notifications: make(chan mcp.JSONRPCNotification, 256), send: send,
		pending: map[string]chan json.RawMessage{}, closed: make(chan struct{})}
}

// maxRootsReplyBytes caps a roots/list answer on stdio (4 MiB, far above MaxClientRoots URIs
// of MaxRootURIBytes each); a larger one is refused as a failed request.
const maxRootsReplyBytes = 4 << 20

// errSessionClosed: the session ended before the client answered.
var errSessionClosed = errors.New("the session ended")

// ListRoots asks the client for its roots (mcp-go's SessionWithRoots) and waits for the
// answer, the end of ctx or of the session.
func (s *stdioSession) ListRoots(ctx context.Context, _ mcp.ListRootsRequest) (*mcp.ListRootsResult, error) {
	id := s.nextID.Add(1)
	key := fmt.Sprint(id)
	ch := make(chan json.RawMessage, 1)
	s.mu.Lock()
	s.pending[key] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, key)
		s.mu.Unlock()
	}()
	req := map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "id": id, "method": string(mcp.MethodListRoots)}
	if err := s.send(req); err != nil {
		return nil, fmt.Errorf("send roots/list: %w", err)
	}
	var raw json.RawMessage
	select {
	case raw = <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closed:
		return nil, errSessionClosed
	}
	if len(raw) > maxRootsReplyBytes {
		return nil, fmt.Errorf("the roots/list answer is %d bytes, over the %d-byte cap", len(raw), maxRootsReplyBytes)
	}
	var resp struct {
		Result *mcp.ListRootsResult `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, errors.New("the roots/list answer is not a JSON-RPC response")
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("the client answered roots/list with error %d: %s", resp.Error.Code, tail(resp.Error.Message, 200))
	}
	if resp.Result == nil {
		return nil, errors.New("the roots/list answer has no result")
	}
	return resp.Result, nil
}

// deliver hands a response to the request of ours it answers; false when none waits.
func (s *stdioSession) deliver(id json.RawMessage, msg json.RawMessage) bool {
	s.mu.Lock()
	ch, ok := s.pending[string(id)]
	delete(s.pending, string(id))
	s.mu.Unlock()
	if ok {
		ch <- msg
	}
	return ok
}

// close ends the waits of every request pal sent.
func (s *stdioSession) close() { s.closeOnce.Do(func() { close(s.closed) }) }

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
	return DefaultClientLogLevel
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
