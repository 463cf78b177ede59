//go:build !wasip1

// Package paltest is an in-process fake of the pal host, for testing tool modules under
// plain `go test` with the native backend of package pal. It implements every op of ABI 1
// (docs/abi.md) as strictly as the real host reads requests: unknown fields, missing
// fields, a body on an op without one and an op outside the call's grant are refused with
// the ABI's error codes. Files, models and threads live in memory; every request, model
// call, progress notification and log line is recorded for assertions.
//
// A Host serves one test at a time: Invoke installs it with pal.SetHost.
//
// The package builds only natively (not for GOOS=wasip1). Test files that import it need no
// build tag for go test; add //go:build !wasip1 to them only if the package is also vetted
// or tested with GOOS=wasip1 (GOOS=wasip1 go build never reads test files).
package paltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

// DefaultMaxFileBytes is the per-file cap of fs.read when Host.MaxFileBytes is 0.
const DefaultMaxFileBytes = 1_000_000

// File is one file of the fake file system.
type File struct {
	Content  []byte
	Modified time.Time // zero: 2026-01-02 03:04:05 UTC
}

// Model is one model the fake serves.
type Model struct {
	Name                string
	Provider            string // provider id, such as "google"
	Aliases             []string
	ContextWindow       int // tokens; 0 means 200,000
	MaxOutputTokens     int
	SupportsImages      bool
	SupportsTemperature bool
	SupportsThinking    bool
	AllowCodeGeneration bool
	Score               int
	Rank                int
	Description         string
}

// GenerateCall is one model.generate request as the fake received it.
type GenerateCall struct {
	Model        string // the name the guest sent ("" when it sent none)
	Resolved     string // the model it resolved to
	Category     string
	System       string
	Prompt       string // the body
	Temperature  *float64
	ThinkingMode string
	Images       []string
}

// ProgressEvent is one progress notification.
type ProgressEvent struct {
	Progress, Total float64
	Message         string
}

// LogLine is one line of the log import.
type LogLine struct {
	Level int
	Msg   string
}

// Host is the fake. Set the exported configuration fields before Invoke; read the records
// after it. The zero value serves an empty file system, no models and all capabilities.
type Host struct {
	// Files maps absolute, clean paths to files. Directories exist implicitly as the
	// parents of files; Dirs adds empty ones.
	Files map[string]File
	Dirs  []string
	// Roots, when set, are the only trees fs ops may reach; everything else is denied.
	Roots []string
	// Deny lists rules as pal.toml's [paths] deny has them (globs such as "*.pem", ".env*" or
	// "secrets" matched against the components of a path below its root, ignoring case; a
	// rule with "/" matches a run of components) and absolute paths (and the trees under
	// them), all refused with denied.
	Deny []string
	// MaxFileBytes is fs.read's per-file cap; 0 means DefaultMaxFileBytes.
	MaxFileBytes int64

	// Models are served in order; "auto" resolves to AutoModel, or to the first model.
	Models    []Model
	AutoModel string
	// ProviderNames gives display names to provider ids for model.list.
	ProviderNames map[string]string
	// Unconfigured lists provider ids that model.list reports as not configured.
	Unconfigured []string
	// Restricted lists provider ids that model.list reports as restricted by policy.
	Restricted []string
	// Mode and DefaultModel are model.list's mode and default_model ("auto" when empty).
	Mode, DefaultModel string
	// Reply answers model.generate; nil echoes a fixed text. An error that is a
	// *pal.HostError is sent with its code, any other as upstream.
	Reply func(GenerateCall) (pal.GenerateResponse, error)

	// Info is host.info's reply; empty fields take plausible defaults.
	Info pal.ServerInfo
	// MaxTurns is the thread turn cap; 0 means 50.
	MaxTurns int
	// CLIs are what cli.list reports; RunCLI answers cli.run (nil: every run is refused as
	// the host refuses a CLI that is not configured). An argument the CLI's AllowedArgs does
	// not list is refused before RunCLI, as the host refuses it. A returned error that is a
	// *pal.HostError is sent with its code.
	CLIs   []pal.CLIInfo
	RunCLI func(req abi.CLIRunRequest, stdin []byte) (pal.CLIResult, string, error)
	// CLIRuns records every cli.run request that reached RunCLI, with its standard input.
	CLIRuns []CLIRun

	// Grant, when not nil, limits the capabilities of every call further than the tool's
	// manifest does (pal.toml's role).
	Grant []string

	mu       sync.Mutex
	grant    map[string]bool // this call's grant; nil: everything
	tool     string          // the tool of this call, for refusals
	ctx      context.Context // InvokeContext's context; nil: none
	threads  map[string]*thread
	nthreads int

	// Records of what the guest asked for, in order.
	Requests  []string // "op" or "op path" for fs ops, with the decision: "fs.read /a ok"
	Generated []GenerateCall
	Progress  []ProgressEvent
	Logs      []LogLine
}

type thread struct {
	id, tool string
	created  time.Time
	updated  time.Time
	initial  map[string]any
	turns    []abi.Turn
}

// now is the fake's clock: fixed, so tests stay deterministic.
var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Log implements pal.Host.
func (h *Host) Log(level int, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Logs = append(h.Logs, LogLine{Level: level, Msg: msg})
}

// Call implements pal.Host: it performs one op and returns the reply message. Once the
// context of InvokeContext is done, every op is refused as cancelled, as the real host
// refuses the ops of a call that is over.
func (h *Host) Call(request []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx != nil && h.ctx.Err() != nil {
		return h.fail("?", "", refuse(abi.RefuseCancelled(errors.Is(h.ctx.Err(), context.DeadlineExceeded))))
	}
	header, body, err := abi.Split(request)
	if err != nil {
		return h.fail("?", "", refuse(abi.RefuseNotJSON()))
	}
	var op abi.Request
	if err := json.Unmarshal(header, &op); err != nil || op.Op == "" {
		return h.fail("?", "", refuse(abi.RefuseNoOp()))
	}
	handle, known := handlers[op.Op]
	capability, _ := abi.OpCapability(op.Op)
	if !known {
		return h.fail(op.Op, "", refuse(abi.RefuseUnknownOp(op.Op)))
	}
	if h.grant != nil && !h.grant[capability] {
		granted := make([]string, 0, len(h.grant))
		for c := range h.grant {
			granted = append(granted, c)
		}
		return h.fail(op.Op, "", refuse(abi.RefuseNotGranted(h.tool, capability, granted)))
	}
	if body != nil && !abi.OpTakesBody(op.Op) {
		return h.fail(op.Op, "", refuse(abi.RefuseBody(op.Op)))
	}
	out, err := handle(h, header, body)
	if err != nil {
		return h.fail(op.Op, out.target, err)
	}
	h.record(op.Op, out.target, "ok")
	return abi.OK(out.result, out.body)
}

// reply is what an op returns: the result, an optional body, and the path it concerned
// (for the request record).
type reply struct {
	result any
	body   []byte
	target string
}

type handler func(h *Host, header, body []byte) (reply, error)

// typed adapts an op method to a handler that first decodes the request strictly.
func typed[R any](op func(h *Host, req R, body []byte) (reply, error)) handler {
	return func(h *Host, header, body []byte) (reply, error) {
		var req R
		if err := decodeStrict(header, &req); err != nil {
			return reply{}, err
		}
		return op(h, req, body)
	}
}

// handlers serves every op of ABI 1; package abi says which capability grants each.
var handlers = map[string]handler{
	abi.OpFSRead:        typed((*Host).fsRead),
	abi.OpFSList:        typed((*Host).fsList),
	abi.OpModelResolve:  typed((*Host).modelResolve),
	abi.OpModelGenerate: typed((*Host).modelGenerate),
	abi.OpModelList:     typed((*Host).modelList),
	abi.OpThreadCreate:  typed((*Host).threadCreate),
	abi.OpThreadRead:    typed((*Host).threadRead),
	abi.OpThreadAppend:  typed((*Host).threadAppend),
	abi.OpProgress:      typed((*Host).progress),
	abi.OpHostInfo:      typed((*Host).hostInfo),
	abi.OpCLIList:       typed((*Host).cliList),
	abi.OpCLIRun:        typed((*Host).cliRun),
}

func (h *Host) record(op, target, decision string) {
	if target != "" {
		op += " " + target
	}
	h.Requests = append(h.Requests, op+" "+decision)
}

func (h *Host) fail(op, target string, err error) []byte {
	he, ok := err.(*pal.HostError)
	if !ok {
		he = &pal.HostError{Code: pal.CodeInternal, Message: err.Error()}
	}
	h.record(op, target, string(he.Code))
	return abi.Fail(he.Code, he.Message)
}

// refuse is the HostError of one of the ABI's shared refusals (abi.Refuse*): the real host
// words the same refusal the same way.
func refuse(r abi.Refusal) error { return &pal.HostError{Code: r.Code, Message: r.Message} }

func invalid(format string, args ...any) error {
	return &pal.HostError{Code: pal.CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// decodeStrict reads a request header into v, refusing unknown fields.
func decodeStrict(header []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return refuse(abi.RefuseBadRequest(err))
	}
	return nil
}

// Invoke runs tool with args (a Go value, or json.RawMessage as is) the way the host
// does: it installs h with pal.SetHost, grants the tool's declared capabilities (narrowed
// by Grant), calls pal.Invoke and checks the result as strictly as the runtime does. A
// result the runtime would refuse fails the test.
func (h *Host) Invoke(t testing.TB, tool string, args any) *pal.Result {
	t.Helper()
	return h.InvokeContext(context.Background(), t, tool, args)
}

// InvokeContext is Invoke under ctx, the way the host runs a call with a deadline that a
// client may cancel: the handler's context has ctx's deadline (sent as the request's
// timeout_ms) and ends when ctx does, and every op the handler asks for once ctx is done is
// refused as cancelled. Cancel ctx from another goroutine (or give it a deadline) to test a
// handler that must stop early.
func (h *Host) InvokeContext(ctx context.Context, t testing.TB, tool string, args any) *pal.Result {
	t.Helper()
	raw, ok := args.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatalf("paltest: arguments: %v", err)
		}
		raw = b
	}
	var man abi.Manifest
	if err := json.Unmarshal(pal.Describe(), &man); err != nil {
		t.Fatalf("paltest: manifest: %v", err)
	}
	var spec *abi.ToolSpec
	for i := range man.Tools {
		if man.Tools[i].Name == tool {
			spec = &man.Tools[i]
		}
	}
	if spec == nil {
		t.Fatalf("paltest: the module has no tool %q", tool)
	}
	h.SetCall(tool, spec.Capabilities)
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.ctx = nil
		h.mu.Unlock()
	}()
	pal.SetHost(h)
	var timeoutMS int64
	if dl, ok := ctx.Deadline(); ok {
		timeoutMS = max(time.Until(dl).Milliseconds(), 1)
	}
	req, _ := json.Marshal(abi.HandleRequest{ABI: abi.Version, Tool: tool, CallID: "test-" + tool, Arguments: raw, TimeoutMS: timeoutMS})
	out := pal.InvokeContext(ctx, req)
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var r abi.Result
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("paltest: the result is not a CallToolResult: %v\n%s", err, out)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("paltest: the runtime would refuse the result: %v\n%s", err, out)
	}
	return &r
}

// SetCall sets the tool and the capabilities of the calls that follow: SetGrant(declared),
// and tool named in refusals as the real host names it. Invoke calls it; a test that drives
// the host some other way, such as through the wasm runtime, calls it itself.
func (h *Host) SetCall(tool string, declared []string) {
	h.SetGrant(declared)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tool = tool
}

// SetGrant sets the capabilities of the calls that follow: those declared (a tool's
// manifest entry) that Grant also allows. SetCall also names the tool.
func (h *Host) SetGrant(declared []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.grant = map[string]bool{}
	for _, c := range declared {
		if h.Grant == nil || slices.Contains(h.Grant, c) {
			h.grant[c] = true
		}
	}
}

// Text returns the text of a result's first content item, or "".
func Text(r *pal.Result) string {
	if r == nil || len(r.Content) == 0 {
		return ""
	}
	return r.Content[0].Text
}

// Thread returns a copy of a thread the fake holds, for assertions; ok is false when there
// is none with that id.
func (h *Host) Thread(id string) (pal.Thread, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	th, ok := h.threads[id]
	if !ok {
		return pal.Thread{}, false
	}
	return h.snapshot(th), true
}

// snapshot copies a thread as thread.read returns it.
func (h *Host) snapshot(th *thread) pal.Thread {
	return pal.Thread{ID: th.id, Tool: th.tool, Created: th.created, Updated: th.updated, MaxTurns: h.maxTurns(),
		InitialContext: th.initial, Turns: append([]abi.Turn{}, th.turns...)}
}

// AddThread stores a thread built by the test and returns its id: a conversation to
// continue.
func (h *Host) AddThread(tool string, initial map[string]any, turns ...pal.Turn) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	th := h.newThread(tool, initial)
	for _, t := range turns {
		t.Timestamp = now
		th.turns = append(th.turns, t)
	}
	return th.id
}

// CountRequests returns how many recorded requests start with prefix, such as
// "model.generate" or "fs.read /src/a.go".
func (h *Host) CountRequests(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.Requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// ---- file system ----

func (h *Host) maxFileBytes() int64 {
	if h.MaxFileBytes > 0 {
		return h.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

// checkPath applies the fake's path policy to the path of an fs op, with the real host's
// refusals: the path is cleaned first (so ".." leads outside the roots, or nowhere special),
// then held to Roots and Deny.
func (h *Host) checkPath(op, p string) error {
	if p == "" {
		return refuse(abi.RefuseNoPath(op))
	}
	if !strings.HasPrefix(p, "/") {
		return refuse(abi.RefusePath(pal.CodeDenied, p, abi.ReasonRelative))
	}
	clean := path.Clean(p)
	if len(h.Roots) > 0 && !slices.ContainsFunc(h.Roots, func(r string) bool { return under(clean, r) }) {
		return refuse(abi.RefusePath(pal.CodeDenied, p, abi.ReasonOutsideRoots))
	}
	if rule, ok := h.denyRule(clean); ok {
		return refuse(abi.RefusePath(pal.CodeDenied, p, abi.ReasonDenyRule(rule)))
	}
	return nil
}

func (h *Host) denied(p string) bool {
	_, ok := h.denyRule(p)
	return ok
}

// denyRule returns the entry of Deny that refuses p (clean and absolute). An entry starting
// with "/" refuses that path and its tree; any other is a rule as pal's policy has them: its
// "/"-separated globs match a run of p's components below its root, ignoring case.
func (h *Host) denyRule(p string) (string, bool) {
	rel := strings.TrimPrefix(p, "/")
	for _, r := range h.Roots {
		if r = strings.TrimSuffix(r, "/"); r != "" && under(p, r) {
			rel = strings.TrimPrefix(strings.TrimPrefix(p, r), "/")
			break
		}
	}
	var comps []string
	if rel != "" {
		comps = strings.Split(strings.ToLower(rel), "/")
	}
	for _, d := range h.Deny {
		if strings.HasPrefix(d, "/") {
			if under(p, d) {
				return d, true
			}
			continue
		}
		segs := strings.Split(strings.ToLower(strings.TrimSuffix(d, "/")), "/")
		for end := len(segs); end <= len(comps); end++ {
			if matchRun(segs, comps[end-len(segs):end]) {
				return d, true
			}
		}
	}
	return "", false
}

// matchRun reports whether each glob of segs matches the component at its place in comps.
func matchRun(segs, comps []string) bool {
	for i, g := range segs {
		if ok, _ := path.Match(g, comps[i]); !ok {
			return false
		}
	}
	return true
}

func under(p, root string) bool {
	root = strings.TrimSuffix(root, "/")
	return p == root || strings.HasPrefix(p, root+"/") || root == ""
}

func (h *Host) isDir(p string) bool {
	if slices.Contains(h.Dirs, p) {
		return true
	}
	for f := range h.Files {
		if strings.HasPrefix(f, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

func (h *Host) fsRead(req abi.FSReadRequest, _ []byte) (reply, error) {
	out := reply{target: req.Path}
	if err := h.checkPath(abi.OpFSRead, req.Path); err != nil {
		return out, err
	}
	limit := h.maxFileBytes()
	if req.MaxBytes < 0 || req.MaxBytes > limit {
		return out, invalid("max_bytes must be between 1 and %d, or 0 for the cap", limit)
	}
	p := path.Clean(req.Path)
	f, ok := h.Files[p]
	if !ok {
		if h.isDir(p) {
			return out, refuse(abi.RefusePath(pal.CodeInvalid, req.Path, abi.ReasonIsDir))
		}
		return out, refuse(abi.RefusePath(pal.CodeNotFound, req.Path, abi.ReasonNotFound))
	}
	size := int64(len(f.Content))
	if size > limit && req.MaxBytes == 0 {
		return out, refuse(abi.RefusePath(pal.CodeTooLarge, req.Path, abi.ReasonTooLarge(size, limit)))
	}
	n := min(size, limit)
	if req.MaxBytes > 0 {
		n = min(n, req.MaxBytes)
	}
	mod := f.Modified
	if mod.IsZero() {
		mod = now
	}
	out.result = abi.FSReadResult{Path: p, Size: size, Modified: mod.UTC().Truncate(time.Second), Truncated: n < size}
	out.body = append([]byte{}, f.Content[:n]...)
	return out, nil
}

// skippedDirs are directory names fs.list leaves out, like the real host's walk.
var skippedDirs = map[string]bool{"node_modules": true, "vendor": true, "build": true, "dist": true, "target": true, "__pycache__": true}

func (h *Host) fsList(req abi.FSListRequest, _ []byte) (reply, error) {
	out := reply{target: req.Path}
	if err := h.checkPath(abi.OpFSList, req.Path); err != nil {
		return out, err
	}
	depth, entries := 8, 2000
	if req.MaxDepth < 0 || req.MaxDepth > depth {
		return out, invalid("max_depth must be between 1 and 8, or 0 for the default")
	}
	if req.MaxEntries < 0 || req.MaxEntries > entries {
		return out, invalid("max_entries must be between 1 and 2000, or 0 for the default")
	}
	if req.MaxDepth > 0 {
		depth = req.MaxDepth
	}
	if req.MaxEntries > 0 {
		entries = req.MaxEntries
	}
	dir := path.Clean(req.Path)
	if _, isFile := h.Files[dir]; isFile {
		return out, refuse(abi.RefusePath(pal.CodeInvalid, req.Path, abi.ReasonNotDir))
	}
	if !h.isDir(dir) {
		return out, refuse(abi.RefusePath(pal.CodeNotFound, req.Path, abi.ReasonNotFound))
	}
	seen := map[string]abi.DirEntry{}
	for f, file := range h.Files {
		rel, ok := strings.CutPrefix(f, strings.TrimSuffix(dir, "/")+"/")
		if !ok {
			continue
		}
		parts := strings.Split(rel, "/")
		if len(parts) > depth || h.denied(f) {
			continue
		}
		skip := false
		for i, part := range parts {
			if strings.HasPrefix(part, ".") || (i < len(parts)-1 && skippedDirs[part]) {
				skip = true
				break
			}
		}
		if skip {
			continue
		}
		for i := 1; i < len(parts); i++ {
			d := strings.TrimSuffix(dir, "/") + "/" + strings.Join(parts[:i], "/")
			seen[d] = abi.DirEntry{Path: d, Kind: "dir"}
		}
		seen[f] = abi.DirEntry{Path: f, Kind: "file", Size: int64(len(file.Content))}
	}
	list := make([]abi.DirEntry, 0, len(seen))
	for _, e := range seen {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	truncated := len(list) > entries
	if truncated {
		list = list[:entries]
	}
	out.result = abi.FSListResult{Path: dir, Entries: list, Truncated: truncated}
	return out, nil
}

// ---- models ----

func (h *Host) resolve(name string) (Model, error) {
	if len(h.Models) == 0 {
		return Model{}, &pal.HostError{Code: pal.CodeUnavailable, Message: "no models are configured"}
	}
	if name == "" || strings.EqualFold(name, "auto") {
		name = h.AutoModel
		if name == "" {
			return h.Models[0], nil
		}
	}
	for _, m := range h.Models {
		if strings.EqualFold(m.Name, name) || slices.ContainsFunc(m.Aliases, func(a string) bool { return strings.EqualFold(a, name) }) {
			return m, nil
		}
	}
	var names []string
	for _, m := range h.Models {
		names = append(names, m.Name)
	}
	return Model{}, &pal.HostError{Code: pal.CodeUnavailable, Message: fmt.Sprintf("model %q is not available; available models: %s", name, strings.Join(names, ", "))}
}

func (m Model) info() abi.ModelResolveResult {
	cw := m.ContextWindow
	if cw == 0 {
		cw = 200_000
	}
	return abi.ModelResolveResult{Model: m.Name, Provider: m.Provider, ContextWindow: cw, MaxOutputTokens: m.MaxOutputTokens,
		SupportsImages: m.SupportsImages, SupportsTemperature: m.SupportsTemperature, SupportsThinking: m.SupportsThinking,
		AllowCodeGeneration: m.AllowCodeGeneration, FriendlyName: m.Name}
}

func checkCategory(c string) error {
	switch c {
	case "", "fast", "balanced", "extended":
		return nil
	}
	return invalid("unknown category %q", c)
}

func (h *Host) modelResolve(req abi.ModelResolveRequest, _ []byte) (reply, error) {
	if req.Model == "" {
		return reply{}, invalid("missing field model")
	}
	if err := checkCategory(req.Category); err != nil {
		return reply{}, err
	}
	m, err := h.resolve(req.Model)
	if err != nil {
		return reply{}, err
	}
	return reply{result: m.info()}, nil
}

var thinkingModes = map[string]bool{"": true, "minimal": true, "low": true, "medium": true, "high": true, "max": true}

func (h *Host) modelGenerate(req abi.ModelGenerateRequest, body []byte) (reply, error) {
	if body == nil {
		return reply{}, invalid("model.generate needs the prompt as the message body")
	}
	if err := checkCategory(req.Category); err != nil {
		return reply{}, err
	}
	if !thinkingModes[req.ThinkingMode] {
		return reply{}, invalid("unknown thinking_mode %q", req.ThinkingMode)
	}
	m, err := h.resolve(req.Model)
	if err != nil {
		return reply{}, err
	}
	for _, img := range req.Images {
		if strings.HasPrefix(img, "data:") {
			continue
		}
		if err := h.checkPath(abi.OpModelGenerate, img); err != nil {
			return reply{}, err
		}
		if _, ok := h.Files[path.Clean(img)]; !ok {
			return reply{}, &pal.HostError{Code: pal.CodeNotFound, Message: "no such image: " + img}
		}
	}
	call := GenerateCall{Model: req.Model, Resolved: m.Name, Category: req.Category, System: req.System, Prompt: string(body),
		Temperature: req.Temperature, ThinkingMode: req.ThinkingMode, Images: req.Images}
	h.Generated = append(h.Generated, call)
	var resp pal.GenerateResponse
	if h.Reply != nil {
		// The reply function may not call back into the host: release the lock meanwhile.
		h.mu.Unlock()
		resp, err = h.Reply(call)
		h.mu.Lock()
		if err != nil {
			if he, ok := err.(*pal.HostError); ok {
				return reply{}, he
			}
			return reply{}, &pal.HostError{Code: pal.CodeUpstream, Message: err.Error()}
		}
	} else {
		resp = pal.GenerateResponse{Content: "fake reply", FinishReason: "stop"}
	}
	if resp.Model == "" {
		resp.Model = m.Name
	}
	if resp.Provider == "" {
		resp.Provider = m.Provider
	}
	return reply{result: resp}, nil
}

func (h *Host) modelList(abi.ModelListRequest, []byte) (reply, error) {
	c := abi.ModelListResult{Mode: h.Mode, DefaultModel: h.DefaultModel, Providers: []abi.ProviderModels{}}
	if c.Mode == "" {
		c.Mode = "auto"
	}
	if c.DefaultModel == "" {
		c.DefaultModel = "auto"
	}
	index := map[string]int{}
	for _, m := range h.Models {
		i, ok := index[m.Provider]
		if !ok {
			i = len(c.Providers)
			index[m.Provider] = i
			c.Providers = append(c.Providers, abi.ProviderModels{ID: m.Provider, Name: h.providerName(m.Provider), Configured: true,
				Restricted: slices.Contains(h.Restricted, m.Provider), Models: []abi.ListedModel{}})
		}
		cw := m.info().ContextWindow
		c.Providers[i].Models = append(c.Providers[i].Models, abi.ListedModel{Name: m.Name, Aliases: m.Aliases, ContextWindow: cw,
			Score: m.Score, Rank: m.Rank, Description: m.Description, SupportsThinking: m.SupportsThinking,
			SupportsImages: m.SupportsImages, AllowCodeGeneration: m.AllowCodeGeneration})
	}
	for _, id := range h.Unconfigured {
		c.Providers = append(c.Providers, abi.ProviderModels{ID: id, Name: h.providerName(id), Models: []abi.ListedModel{}})
	}
	return reply{result: c}, nil
}

func (h *Host) providerName(id string) string {
	if n, ok := h.ProviderNames[id]; ok {
		return n
	}
	return id
}

// ---- threads ----

func (h *Host) maxTurns() int {
	if h.MaxTurns > 0 {
		return h.MaxTurns
	}
	return 50
}

func (h *Host) newThread(tool string, initial map[string]any) *thread {
	if h.threads == nil {
		h.threads = map[string]*thread{}
	}
	h.nthreads++
	th := &thread{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", h.nthreads), tool: tool, created: now, updated: now, initial: initial}
	h.threads[th.id] = th
	return th
}

func (h *Host) threadCreate(req abi.ThreadCreateRequest, _ []byte) (reply, error) {
	if req.Tool == "" {
		return reply{}, invalid("missing field tool")
	}
	return reply{result: abi.ThreadCreateResult{ID: h.newThread(req.Tool, req.InitialContext).id}}, nil
}

func (h *Host) findThread(id string) (*thread, error) {
	th, ok := h.threads[id]
	if !ok {
		return nil, &pal.HostError{Code: pal.CodeNotFound, Message: fmt.Sprintf("conversation thread %q was not found or has expired", id)}
	}
	return th, nil
}

func (h *Host) threadRead(req abi.ThreadReadRequest, _ []byte) (reply, error) {
	th, err := h.findThread(req.ID)
	if err != nil {
		return reply{}, err
	}
	return reply{result: h.snapshot(th)}, nil
}

// threadAppend stamps every turn with the fake's clock, as the real host does: turns
// cannot be back-dated.
func (h *Host) threadAppend(req abi.ThreadAppendRequest, _ []byte) (reply, error) {
	th, err := h.findThread(req.ID)
	if err != nil {
		return reply{}, err
	}
	if len(req.Turns) == 0 {
		return reply{}, invalid("thread.append needs at least one turn")
	}
	for _, t := range req.Turns {
		if t.Role != "user" && t.Role != "assistant" {
			return reply{}, invalid("turn role must be user or assistant, not %q", t.Role)
		}
	}
	if len(th.turns)+len(req.Turns) > h.maxTurns() {
		return reply{}, &pal.HostError{Code: pal.CodeTooLarge, Message: fmt.Sprintf("the thread would pass its cap of %d turns", h.maxTurns())}
	}
	for _, t := range req.Turns {
		t.Timestamp = now
		th.turns = append(th.turns, t)
	}
	th.updated = now
	return reply{result: abi.ThreadAppendResult{Turns: len(th.turns), Remaining: h.maxTurns() - len(th.turns)}}, nil
}

// ---- progress and host.info ----

func (h *Host) progress(req abi.ProgressRequest, _ []byte) (reply, error) {
	h.Progress = append(h.Progress, ProgressEvent{Progress: req.Progress, Total: req.Total, Message: req.Message})
	return reply{result: struct{}{}}, nil
}

func (h *Host) hostInfo(abi.HostInfoRequest, []byte) (reply, error) {
	info := h.Info
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&info.Name, "pal")
	def(&info.Version, "0.1.0")
	def(&info.ModelSelection, "auto")
	def(&info.DefaultModel, "auto")
	def(&info.Platform, "linux/amd64")
	def(&info.GoVersion, "go1.26.8")
	if info.ABI == 0 {
		info.ABI = abi.Version
	}
	if info.Providers == nil {
		info.Providers = []string{}
		for _, m := range h.Models {
			if !slices.Contains(info.Providers, m.Provider) {
				info.Providers = append(info.Providers, m.Provider)
			}
		}
	}
	if info.ModelsAvailable == 0 {
		info.ModelsAvailable = len(h.Models)
	}
	if info.ContinuationTools == nil {
		info.ContinuationTools = continuationTools()
	}
	if info.Limits.PromptChars == 0 {
		info.Limits.PromptChars = 60_000
	}
	if info.Limits.MaxTurns == 0 {
		info.Limits.MaxTurns = h.maxTurns()
	}
	if info.Limits.MaxFileBytes == 0 {
		info.Limits.MaxFileBytes = h.maxFileBytes()
	}
	return reply{result: info}, nil
}

// continuationTools names the registered tools whose schema has continuation_id, as the
// server computes host.info continuation_tools from the tools it publishes.
func continuationTools() []string {
	var m abi.Manifest
	out := []string{}
	if json.Unmarshal(pal.Describe(), &m) != nil {
		return out
	}
	for _, t := range m.Tools {
		var sch struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal(t.InputSchema, &sch) == nil && sch.Properties["continuation_id"] != nil {
			out = append(out, t.Name)
		}
	}
	return out
}

// CLIRun is one cli.run request and the standard input it carried.
type CLIRun struct {
	Request abi.CLIRunRequest
	Stdin   string
}

func (h *Host) cliList(abi.CLIListRequest, []byte) (reply, error) {
	list := h.CLIs
	if list == nil {
		list = []pal.CLIInfo{}
	}
	return reply{result: abi.CLIListResult{CLIs: list}}, nil
}

func (h *Host) cliRun(req abi.CLIRunRequest, body []byte) (reply, error) {
	i := slices.IndexFunc(h.CLIs, func(c pal.CLIInfo) bool { return c.Name == req.Name })
	if i < 0 || h.RunCLI == nil {
		return reply{target: req.Name}, &pal.HostError{Code: pal.CodeNotFound, Message: fmt.Sprintf("no CLI %q in pal.toml", req.Name)}
	}
	// The host's rule: each extra argument is one the CLI's allowed_args lists, matched whole.
	for _, a := range req.Args {
		if !slices.Contains(h.CLIs[i].AllowedArgs, a) {
			return reply{target: req.Name}, &pal.HostError{Code: pal.CodeDenied,
				Message: fmt.Sprintf("argument %q is not in the allowed_args of CLI %q", a, req.Name)}
		}
	}
	h.CLIRuns = append(h.CLIRuns, CLIRun{Request: req, Stdin: string(body)})
	res, out, err := h.RunCLI(req, body)
	if err != nil {
		return reply{target: req.Name}, err
	}
	res.Name = req.Name
	return reply{result: res, body: []byte(out), target: req.Name}, nil
}
