// Package hostfns implements the ops a tool module may ask of the host (docs/abi.md): reading
// and listing files, resolving and calling models, conversation threads, progress and host
// information. Every request is checked against the grant of the tool in this call, refused
// with a clear error when it falls outside, and written to the audit log either way.
package hostfns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

// Env is what every call shares: the policy's paths, the models, the threads, the audit log.
type Env struct {
	Paths   *policy.Paths
	Models  Models
	Threads memory.Threads
	Audit   policy.Auditor
	Logger  *slog.Logger
	// Redact scrubs every configured secret from messages that leave the host.
	Redact *policy.Redactor
	// Secrets redacts file contents given to a tool and prompts, system prompts and image
	// text sent to a provider; nil passes them as they are (tests only: app always sets it).
	Secrets *secrets.Scanner
	// Info is the static part of host.info.
	Info Info
	// Budgets bound what each tool call may cost ([limits]); zero fields take the defaults
	// of policy.DefaultBudgets.
	Budgets policy.Budgets
	// Heartbeat is the interval of the progress notifications sent while a model call runs
	// (limits.heartbeat_interval), when the client asked for progress; 0 sends none.
	Heartbeat time.Duration
	// GitPath is the absolute path of the git binary for the git ops; "" means git as found
	// in the server's PATH when first needed.
	GitPath string
	// CLIs are the programs cli.run may run ([[cli]] in pal.toml); none means cli.run is off.
	CLIs []policy.CLIConfig
	// CLIKeyEnv names the variables no program may receive (policy.Config.CLIKeyEnvNames).
	CLIKeyEnv []string
	// LookupEnv reads the server's environment for the variables a [[cli]] entry names;
	// nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Info is host.info's reply. Env.Info holds its static part; each call fills in the ABI
// version, the configured providers, the count of available models and the client.
type Info = abi.HostInfoResult

// Limits are the numbers a tool needs to stay inside the host's limits.
type Limits = abi.Limits

// Client names the MCP client of the session.
type Client = abi.Client

// ProgressFunc forwards a progress notification to the client; nil drops them.
type ProgressFunc func(progress, total float64, message string)

// Call serves the ops of one tool call. It implements runtime.Host.
type Call struct {
	env      *Env
	tool     string
	callID   string
	grant    policy.CapSet
	category string
	client   Client
	progress ProgressFunc
	budget   *budget
	// principal owns the threads this call creates and is the only one that may use them.
	principal string
	peer      Peer
	// paths is the allowlist of this call: Env.Paths, or CallSpec.Paths (the client's roots).
	paths *policy.Paths
}

var (
	_ runtime.Host    = (*Call)(nil)
	_ runtime.Stopper = (*Call)(nil)
)

// CallSpec describes one tool call to NewCall.
type CallSpec struct {
	Tool     string
	CallID   string
	Grant    policy.CapSet
	Category string // the tool's model category: fast, balanced or extended
	Client   Client
	Progress ProgressFunc
	// Principal is who the call is for: conversation threads belong to the principal that
	// created them. "" means PrincipalLocal.
	Principal string
	// Peer names the HTTP client in every audit record of the call; zero over stdio.
	Peer Peer
	// Paths, when set, is the allowlist of this call in place of Env.Paths: Env.Paths
	// narrowed to the roots of the call's client (policy.Paths.Narrow).
	Paths *policy.Paths
}

// Peer is who made a call over HTTP, as audit records name it (policy.Record's Client,
// Remote and Session). It never holds a token.
type Peer struct {
	Client, Remote, Session string
}

// PrincipalLocal is the principal of a stdio server: the one local client.
const PrincipalLocal = "local"

// NewCall returns the Host for one tool call.
func (e *Env) NewCall(s CallSpec) *Call {
	principal := s.Principal
	if principal == "" {
		principal = PrincipalLocal
	}
	paths := s.Paths
	if paths == nil {
		paths = e.Paths
	}
	return &Call{env: e, tool: s.Tool, callID: s.CallID, grant: s.Grant, category: s.Category, client: s.Client, progress: s.Progress, principal: principal,
		peer: s.Peer, budget: newBudget(e.Budgets), paths: paths}
}

// Stop implements runtime.Stopper: the error, wrapping ErrOverBudget, that must end the call,
// or nil.
func (c *Call) Stop() error { return c.budget.stopped() }

// opError is a refusal or failure with its ABI code. Message is for the tool and its user.
type opError struct {
	code abi.Code
	msg  string
}

func (e *opError) Error() string { return e.msg }

func fail(code abi.Code, format string, args ...any) error {
	return &opError{code: code, msg: fmt.Sprintf(format, args...)}
}

// refusal is the opError of one of the ABI's shared refusals (abi.Refuse*), whose words the
// Go kit's fake host uses too.
func refusal(r abi.Refusal) error { return &opError{code: r.Code, msg: r.Message} }

// outcome is what an op handler returns: the reply, and what the audit record should say.
type outcome struct {
	result any
	body   []byte
	root   string
	path   string
	bytes  int64
	// redacted counts the secrets replaced in what the op passed on.
	redacted secrets.Report
}

type handler func(ctx context.Context, c *Call, header json.RawMessage, body []byte) (outcome, error)

// typed adapts an op function to a handler: it decodes the request header strictly into
// the op's request type first.
func typed[R any](f func(ctx context.Context, c *Call, req R, body []byte) (outcome, error)) handler {
	return func(ctx context.Context, c *Call, header json.RawMessage, body []byte) (outcome, error) {
		var req R
		if err := decode(header, &req); err != nil {
			return outcome{}, err
		}
		return f(ctx, c, req, body)
	}
}

// handlers serves the ops of ABI 1; the capability each needs and whether it takes a body
// come from package abi.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		abi.OpFSRead:        typed(fsRead),
		abi.OpFSList:        typed(fsList),
		abi.OpModelResolve:  typed(modelResolve),
		abi.OpModelGenerate: typed(modelGenerate),
		abi.OpModelList:     typed(modelList),
		abi.OpThreadCreate:  typed(threadCreate),
		abi.OpThreadRead:    typed(threadRead),
		abi.OpThreadAppend:  typed(threadAppend),
		abi.OpProgress:      typed(progressOp),
		abi.OpHostInfo:      typed(hostInfo),
		abi.OpGitStatus:     typed(gitStatus),
		abi.OpGitDiff:       typed(gitDiff),
		abi.OpGitLog:        typed(gitLog),
		abi.OpCLIList:       typed(cliList),
		abi.OpCLIRun:        typed(cliRun),
	}
}

// Call implements runtime.Host: decode, check the grant, run the op, audit, reply.
func (c *Call) Call(ctx context.Context, request []byte) []byte {
	if err := c.budget.hostCall(); err != nil {
		return c.refuse("", abi.CodeOverBudget, err.Error())
	}
	header, body, err := abi.Split(request)
	if err != nil {
		return c.refused("", abi.RefuseNotJSON())
	}
	var head abi.Request
	if err := json.Unmarshal(header, &head); err != nil || head.Op == "" {
		return c.refused("", abi.RefuseNoOp())
	}
	h, ok := handlers[head.Op]
	capability, _ := abi.OpCapability(head.Op)
	if !ok {
		return c.refused(head.Op, abi.RefuseUnknownOp(head.Op))
	}
	if !c.grant.Has(policy.Capability(capability)) {
		return c.refused(head.Op, abi.RefuseNotGranted(c.tool, capability, c.grant.Names()))
	}
	if body != nil && !abi.OpTakesBody(head.Op) {
		return c.refused(head.Op, abi.RefuseBody(head.Op))
	}
	out, err := h(ctx, c, header, body)
	if err != nil {
		var oe *opError
		if !errors.As(err, &oe) {
			c.env.logger().Error("host op failed", "op", head.Op, "tool", c.tool, "call_id", c.callID, "err", err)
			oe = &opError{code: abi.CodeInternal, msg: "internal error in the host; see the server log"}
		}
		c.audit(policy.Record{Op: head.Op, Decision: decision(oe.code), Reason: oe.msg, Root: out.root, Path: out.path,
			Redacted: out.redacted.Count, RedactedKinds: out.redacted.KindNames()})
		return abi.Fail(oe.code, oe.msg)
	}
	c.audit(policy.Record{Op: head.Op, Decision: "allow", Root: out.root, Path: out.path, Bytes: out.bytes,
		Redacted: out.redacted.Count, RedactedKinds: out.redacted.KindNames()})
	return abi.OK(out.result, out.body)
}

// decision is the audit word for an error code: refusals by policy are "deny", failures are
// "error".
func decision(code abi.Code) string {
	if code == abi.CodeDenied || code == abi.CodeNotGranted || code == abi.CodeOverBudget {
		return "deny"
	}
	return "error"
}

// refused is refuse with one of the ABI's shared refusals.
func (c *Call) refused(op string, r abi.Refusal) []byte { return c.refuse(op, r.Code, r.Message) }

func (c *Call) refuse(op string, code abi.Code, reason string) []byte {
	c.audit(policy.Record{Op: op, Decision: decision(code), Reason: reason})
	return abi.Fail(code, reason)
}

// Refused implements runtime.Host for requests the runtime refused before decoding. They
// count against the host-call budget like any other.
func (c *Call) Refused(_ context.Context, code abi.Code, reason string) {
	if err := c.budget.hostCall(); err != nil {
		c.audit(policy.Record{Op: "call", Decision: decision(abi.CodeOverBudget), Reason: err.Error()})
		return
	}
	c.audit(policy.Record{Op: "call", Decision: decision(code), Reason: reason})
}

// Log implements runtime.Host: guest lines go to the server log, tagged with tool and call.
func (c *Call) Log(_ context.Context, level int, msg string) {
	lv := slog.LevelInfo
	switch level {
	case abi.LogDebug:
		lv = slog.LevelDebug
	case abi.LogWarn:
		lv = slog.LevelWarn
	case abi.LogError:
		lv = slog.LevelError
	}
	c.env.logger().Log(context.Background(), lv, "tool log", "tool", c.tool, "call_id", c.callID, "msg", msg)
}

func (c *Call) audit(r policy.Record) {
	if c.env.Audit == nil {
		return
	}
	r.CallID, r.Tool = c.callID, c.tool
	r.Client, r.Remote, r.Session = c.peer.Client, c.peer.Remote, c.peer.Session
	if err := c.env.Audit.Audit(r); err != nil {
		c.env.logger().Error("audit record lost", "err", err)
	}
	if c.budget.audited(recordSize(r)) {
		// The last record of this call says why it ends; it is not counted.
		last := policy.Record{CallID: c.callID, Tool: c.tool, Op: "budget", Decision: "deny", Reason: c.budget.stopped().Error(),
			Client: c.peer.Client, Remote: c.peer.Remote, Session: c.peer.Session}
		if err := c.env.Audit.Audit(last); err != nil {
			c.env.logger().Error("audit record lost", "err", err)
		}
	}
}

func (e *Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// decode reads an op's request strictly: unknown fields are an error naming the field.
func decode(header json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return refusal(abi.RefuseBadRequest(err))
	}
	return nil
}
