// Package server is pal's MCP surface: it publishes the tools that loaded modules describe,
// runs each tools/call in the module's sandbox with the host functions of package hostfns,
// and turns every failure into an isError result the client can read. It serves stdio with its
// own transport loop (stdio.go) so that progress notifications precede the result they belong to.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

// ModelDescriber tells the truth about configured models for the `model` field of tool schemas.
type ModelDescriber interface {
	// ModelFieldDescription is the description of a tool's `model` argument.
	ModelFieldDescription() string
	// AutoMode reports whether the server picks models itself, which makes `model` required.
	AutoMode() bool
}

// Module is a loaded tool module: a native one (*runtime.Module) or an Extism plugin
// (*extism.Plugin, package runtime/extism). Both run each call in a fresh instance under the
// same limits, with the same runtime.Host.
type Module interface {
	// Name is where the module came from, for messages.
	Name() string
	// Manifest is the module's validated manifest.
	Manifest() *abi.Manifest
	// Invoke runs one tool call; its errors wrap runtime's sentinels.
	Invoke(ctx context.Context, c runtime.Call) (*abi.Result, runtime.Outcome, error)
	// Warm prepares the module so the first call does not wait (compile, instance pool).
	Warm(ctx context.Context) error
}

// LoadedModule is a module to publish, and whether it is built in (built-in tools are granted
// what they declare unless pal.toml narrows it; other modules get only what pal.toml grants).
type LoadedModule struct {
	Module  Module
	Builtin bool
	// Lazy: the warm-up (app.App.Warm) leaves the module alone, and its first call compiles it
	// (and its tools' input schemas): the built-in Go module, whose compiled code and instances
	// an idle pal would otherwise hold (docs/RATIONALE.md §76).
	Lazy bool
}

// Options configure a Server.
type Options struct {
	Name         string // server name in the initialize reply; default "pal"
	Version      string
	Instructions string
	Modules      []LoadedModule
	Policy       *policy.Config
	Env          *hostfns.Env
	Models       ModelDescriber // nil leaves `model` descriptions as the module wrote them
	Logger       *slog.Logger
	// ClientLog, when set, sends the log records it receives (see ClientLog.Handler) to the
	// clients as notifications/message; logging/setLevel sets each session's level.
	ClientLog *ClientLog
	// Unavailable, when set, is why pal cannot serve tools (no provider key, a refused
	// pal.toml): the tools are still listed, and every call is an isError result saying it.
	Unavailable string
}

// Server is an MCP server whose tools run in wazero.
type Server struct {
	mcp    *mcpserver.MCPServer
	env    *hostfns.Env
	logger *slog.Logger
	audit  policy.Auditor
	tools  []*tool
	calls  atomic.Int64
	// run tags this process's call ids ("c7-3fa2c9", then "c8-3fa2c9"), so that the audit
	// records of two runs of pal, which both count from 1, never share a call_id.
	run string

	// maxMessageBytes caps one message read from stdin; 0 means MaxMessageBytes. Tests lower it.
	maxMessageBytes int
	// workers serve stdio requests (limits.concurrent_calls); maxWaiting may wait for them
	// (limits.waiting_requests).
	workers, maxWaiting int
	// callSlots holds one token per tool call running, on any transport
	// (limits.concurrent_calls). A call that finds none free waits for one while fewer than
	// maxWaiting calls wait (over stdio the workers already queue, so only HTTP calls wait
	// here), and is refused as busy past that.
	callSlots chan struct{}
	// slotWaiters counts the calls waiting for a call slot.
	slotWaiters atomic.Int64
	// unavailable is Options.Unavailable.
	unavailable string
	// roots keeps each session's client roots (paths.client_roots); nil when off.
	roots *clientRoots
	// listed is closed once a tools/list reply is made (Listed).
	listed     chan struct{}
	listedOnce sync.Once
}

// Listed is closed once the server has made its first tools/list reply (just before it is
// written): `pal serve` starts compiling the modules then, so that the compile does not
// compete with the handshake for the CPU (docs/RATIONALE.md).
func (s *Server) Listed() <-chan struct{} { return s.listed }

// newRunTag returns 6 random hex digits naming one server process in its call ids.
func newRunTag() string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// New builds the server and publishes every enabled tool of every module. Two modules
// declaring the same tool name is an error.
func New(opts Options) (*Server, error) {
	if opts.Name == "" {
		opts.Name = "pal"
	}
	if opts.Policy == nil {
		opts.Policy = policy.Default()
	}
	if opts.Env == nil {
		opts.Env = &hostfns.Env{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{env: opts.Env, logger: logger, audit: opts.Env.Audit, unavailable: opts.Unavailable, run: newRunTag()}
	b, d := opts.Policy.Limits.Budgets, policy.DefaultBudgets()
	s.workers, s.maxWaiting = b.ConcurrentCalls, b.WaitingRequests
	if s.workers <= 0 {
		s.workers = d.ConcurrentCalls
	}
	if s.maxWaiting <= 0 {
		s.maxWaiting = d.WaitingRequests
	}
	s.callSlots = make(chan struct{}, s.workers)
	hooks := &mcpserver.Hooks{}
	hooks.AddOnUnregisterSession(func(_ context.Context, sess mcpserver.ClientSession) { s.roots.forget(sess.SessionID()) })
	s.sessionHooks(hooks)
	s.listed = make(chan struct{})
	hooks.AddAfterListTools(func(context.Context, any, *mcp.ListToolsRequest, *mcp.ListToolsResult) {
		s.listedOnce.Do(func() { close(s.listed) })
	})
	mopts := []mcpserver.ServerOption{
		mcpserver.WithHooks(hooks),
		mcpserver.WithToolCapabilities(false),
		mcpserver.WithPromptCapabilities(false),
		mcpserver.WithRecovery(),
		mcpserver.WithLogging(),
	}
	if opts.Instructions != "" {
		mopts = append(mopts, mcpserver.WithInstructions(opts.Instructions))
	}
	s.mcp = mcpserver.NewMCPServer(opts.Name, opts.Version, mopts...)
	if opts.ClientLog != nil {
		opts.ClientLog.attach(s.mcp)
	}
	s.roots = newClientRoots(s, opts.Policy)
	s.mcp.AddNotificationHandler(string(mcp.MethodNotificationInitialized), func(ctx context.Context, _ mcp.JSONRPCNotification) {
		if opts.ClientLog != nil {
			opts.ClientLog.initialized(ctx)
		}
		s.roots.changed(ctx)
	})
	s.mcp.AddNotificationHandler(string(mcp.MethodNotificationRootsListChanged), func(ctx context.Context, _ mcp.JSONRPCNotification) {
		s.roots.changed(ctx)
	})

	seen := map[string]string{}
	for _, lm := range opts.Modules {
		man := lm.Module.Manifest()
		for _, spec := range man.Tools {
			if prev, dup := seen[spec.Name]; dup {
				return nil, fmt.Errorf("tool %q is declared by both %s and %s", spec.Name, prev, lm.Module.Name())
			}
			seen[spec.Name] = lm.Module.Name()
			if !opts.Policy.ToolEnabled(spec.Name) {
				logger.Info("tool disabled by policy", "tool", spec.Name)
				continue
			}
			t, err := newTool(lm, spec, opts.Policy, opts.Models)
			if err != nil {
				return nil, err
			}
			if w := t.grantWarning(); w != "" {
				logger.Warn(w, "tool", spec.Name, "module", lm.Module.Name())
			}
			s.tools = append(s.tools, t)
			s.mcp.AddTool(t.mcpTool, s.handler(t))
		}
	}
	s.addPrompts()
	opts.Env.Info.ContinuationTools = s.continuationTools()
	return s, nil
}

// continuationTools names the published tools whose input schema has a continuation_id
// property (host.info continuation_tools).
func (s *Server) continuationTools() []string {
	out := []string{}
	for _, t := range s.tools {
		var sch struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal(t.spec.InputSchema, &sch) == nil && sch.Properties["continuation_id"] != nil {
			out = append(out, t.spec.Name)
		}
	}
	return out
}

// Tools names the published tools in order.
func (s *Server) Tools() []string {
	names := make([]string, len(s.tools))
	for i, t := range s.tools {
		names[i] = t.spec.Name
	}
	return names
}

// CompileSchemas compiles the input schemas of m's tools not compiled yet (a built-in
// module's, which otherwise compile on each tool's first call, 0.3-0.4 ms of it;
// docs/RATIONALE.md), and stops early once ctx is done. `pal serve` calls it in its
// background warm-up for each module it warms. An error is left for the tool's calls to
// report; a call that comes first compiles its own schema.
func (s *Server) CompileSchemas(ctx context.Context, m Module) {
	for _, t := range s.tools {
		if ctx.Err() != nil {
			return
		}
		if t.module == m {
			_, _ = t.validator()
		}
	}
}

// MCP exposes the mcp-go server, for transports other than stdio.
func (s *Server) MCP() *mcpserver.MCPServer { return s.mcp }

// errSlotCancelled: the call was cancelled while it waited for a call slot.
var errSlotCancelled = errors.New("cancelled while waiting for a call slot")

// takeSlot takes a call slot, waiting for one while fewer than maxWaiting calls wait; it
// fails at once past that, or when ctx ends first.
func (s *Server) takeSlot(ctx context.Context) error {
	select {
	case s.callSlots <- struct{}{}:
		return nil
	default:
	}
	busy := fmt.Errorf("server busy: %d tool calls are running (limits.concurrent_calls) and %d are waiting (limits.waiting_requests); retry later",
		cap(s.callSlots), s.maxWaiting)
	if s.slotWaiters.Add(1) > int64(s.maxWaiting) {
		s.slotWaiters.Add(-1)
		return busy
	}
	defer s.slotWaiters.Add(-1)
	select {
	case s.callSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (limits.concurrent_calls): %w", errSlotCancelled, ctx.Err())
	}
}

// handler runs one tools/call.
func (s *Server) handler(t *tool) mcpserver.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if s.unavailable != "" {
			return errorResult(t.spec.Name, abi.FailUnavailable, s.unavailable), nil
		}
		callID := fmt.Sprintf("c%d-%s", s.calls.Add(1), s.run)
		who := peerSpec(ctx)
		auditCall := func(decision, reason string) { s.auditCall(callID, t.spec.Name, who, decision, reason) }
		if err := s.takeSlot(ctx); err != nil {
			code, reason := abi.FailBusy, "server busy"
			if errors.Is(err, errSlotCancelled) {
				code, reason = abi.FailCancelled, "cancelled while waiting for a call slot"
			}
			auditCall("deny", reason)
			return errorResult(t.spec.Name, code, err.Error()), nil
		}
		defer func() { <-s.callSlots }()
		args, err := json.Marshal(req.Params.Arguments)
		if err != nil || string(args) == "null" {
			args = []byte("{}")
		}
		schema, err := t.validator()
		if err != nil {
			s.logger.Error("tool call refused", "tool", t.spec.Name, "err", err)
			auditCall("error", err.Error())
			return errorResult(t.spec.Name, abi.FailBadResult, err.Error()), nil
		}
		if err := t.validate(schema, args); err != nil {
			// The audit record names the refusal, not the arguments: validator messages may
			// quote argument values, and audit records hold no client content.
			auditCall("deny", "invalid arguments")
			return errorResult(t.spec.Name, abi.FailInvalidArguments, "invalid arguments: "+err.Error()), nil
		}
		progress, finishProgress := progressSender(ctx, req)
		host := s.env.NewCall(hostfns.CallSpec{
			Tool:      t.spec.Name,
			CallID:    callID,
			Grant:     t.grant,
			Category:  t.spec.Category,
			Client:    clientOf(ctx),
			Progress:  progress,
			Principal: principalOf(ctx),
			Peer:      who,
			Paths:     s.roots.paths(ctx),
		})
		res, out, err := t.module.Invoke(ctx, runtime.Call{Tool: t.spec.Name, CallID: callID, Arguments: args, Host: host})
		finishProgress() // the last progress goes out before the result
		attrs := []any{"tool", t.spec.Name, "call_id", callID, "duration", out.Duration, "memory_bytes", out.MemoryPeak}
		if out.LogDropped > 0 {
			attrs = append(attrs, "log_lines_dropped", out.LogDropped)
		}
		if err != nil {
			s.logger.Warn("tool call failed", append(attrs, "err", err, "stderr_tail", tail(out.Stderr, 2048))...)
			auditCall("error", err.Error())
			return errorResult(t.spec.Name, failureCode(err), err.Error()), nil
		}
		s.logger.Info("tool call", attrs...)
		auditCall("allow", "")
		// Whatever language the tool is written in, its failures reach the client in the one
		// error shape (abi.ShapeFailure; the Go kit's results already are).
		abi.ShapeFailure(t.spec.Name, res)
		return toMCPResult(res), nil
	}
}

func (s *Server) auditCall(callID, tool string, who hostfns.Peer, decision, reason string) {
	if s.audit == nil {
		return
	}
	rec := policy.Record{CallID: callID, Tool: tool, Op: "tools/call", Decision: decision, Reason: reason,
		Client: who.Client, Remote: who.Remote, Session: who.Session}
	if err := s.audit.Audit(rec); err != nil {
		s.logger.Error("audit record lost", "err", err)
	}
}

// clientOf names the MCP client of the session, when it said.
func clientOf(ctx context.Context) hostfns.Client {
	if cs, ok := mcpserver.ClientSessionFromContext(ctx).(mcpserver.SessionWithClientInfo); ok {
		ci := cs.GetClientInfo()
		return hostfns.Client{Name: ci.Name, Version: ci.Version}
	}
	return hostfns.Client{}
}

// errorResult is the isError result of a call the host could not complete, in the one error
// shape every failure a client sees has (abi.Failure, docs/abi.md): code is one of the abi.Fail*
// codes, message the text for a human.
func errorResult(tool, code, message string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent(abi.Failure(tool, code, message))}, IsError: true}
}

// failureCode is the error shape's code of an error from Module.Invoke.
func failureCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{runtime.ErrDeadline, abi.FailTimeLimit},
		{runtime.ErrCancelled, abi.FailCancelled},
		{runtime.ErrMemoryCap, abi.FailMemoryCap},
		{runtime.ErrOutputCap, abi.FailOutputCap},
		{runtime.ErrStopped, abi.FailOverBudget},
		{runtime.ErrTrap, abi.FailTrap},
		{runtime.ErrReentrant, abi.FailTrap},
		{runtime.ErrBadResult, abi.FailBadResult},
		{runtime.ErrBadModule, abi.FailBadResult},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return abi.FailInternal
}

// toMCPResult converts a validated module result.
func toMCPResult(r *abi.Result) *mcp.CallToolResult {
	out := &mcp.CallToolResult{IsError: r.IsError, Content: make([]mcp.Content, 0, len(r.Content))}
	if r.StructuredContent != nil {
		out.StructuredContent = r.StructuredContent
	}
	for _, c := range r.Content {
		switch c.Type {
		case "text":
			out.Content = append(out.Content, mcp.NewTextContent(c.Text))
		case "image":
			out.Content = append(out.Content, mcp.NewImageContent(c.Data, c.MIMEType))
		case "audio":
			out.Content = append(out.Content, mcp.NewAudioContent(c.Data, c.MIMEType))
		case "resource":
			var rc mcp.ResourceContents
			if c.Resource.Blob != "" {
				rc = mcp.BlobResourceContents{URI: c.Resource.URI, MIMEType: c.Resource.MIMEType, Blob: c.Resource.Blob}
			} else {
				rc = mcp.TextResourceContents{URI: c.Resource.URI, MIMEType: c.Resource.MIMEType, Text: c.Resource.Text}
			}
			out.Content = append(out.Content, mcp.NewEmbeddedResource(rc))
		}
	}
	return out
}

// principalOf names who a call is for; conversation threads belong to it. Over HTTP it is the
// client's identity and its MCP session ("http:token:ci/session:ab12…"; a request of a
// sessionless protocol version has the identity only); over stdio, the one local client.
func principalOf(ctx context.Context) string {
	p, ok := peerOf(ctx)
	if !ok {
		return hostfns.PrincipalLocal
	}
	principal := "http:" + p.client
	if sess := mcpserver.ClientSessionFromContext(ctx); sess != nil && sess.SessionID() != "" {
		principal += "/session:" + sess.SessionID()
	}
	return principal
}

// peerSpec is the HTTP client of ctx for audit records; zero over stdio.
func peerSpec(ctx context.Context) hostfns.Peer {
	p, ok := peerOf(ctx)
	if !ok {
		return hostfns.Peer{}
	}
	if sess := mcpserver.ClientSessionFromContext(ctx); sess != nil && sess.SessionID() != "" {
		p.session = sess.SessionID()
	}
	return hostfns.Peer{Client: p.client, Remote: p.remote, Session: p.session}
}

// grantFor computes a tool's grant: what it declares, within what the policy allows.
func grantFor(p *policy.Config, spec abi.ToolSpec, builtin bool) policy.CapSet {
	declared := make([]policy.Capability, 0, len(spec.Capabilities))
	for _, c := range spec.Capabilities {
		declared = append(declared, policy.Capability(c))
	}
	return p.Grant(spec.Name, declared, builtin)
}

// tail returns the last n bytes of s, marked when cut.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
