package pal

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// Capabilities a tool may declare: the ops it will ask for (docs/abi.md, "Ops in ABI 1").
const (
	CapFSRead        = abi.CapFSRead        // ReadFile
	CapFSList        = abi.CapFSList        // ListDir
	CapModelGenerate = abi.CapModelGenerate // ResolveModel, Generate
	CapModelList     = abi.CapModelList     // ListModels
	CapThreadRead    = abi.CapThreadRead    // ThreadRead
	CapThreadWrite   = abi.CapThreadWrite   // ThreadCreate, ThreadAppend
	CapProgress      = abi.CapProgress      // Progress
	CapHostInfo      = abi.CapHostInfo      // HostInfo
)

// Handler runs one tool call. args is the client's arguments, always a JSON object. A
// returned error becomes an isError result in the error shape, its message as the content and
// FailureCode(err) as the code; return FailureResult(code, text) to choose both.
//
// ctx ends when the call does: past its deadline (ctx.Err() is context.DeadlineExceeded; the
// deadline is ctx.Deadline()), when the client cancels it or the host refuses an op as
// cancelled (context.Canceled), and when the handler returns. A wasm guest cannot be
// interrupted, so ctx checks the clock whenever Err or Done is called: a long loop should
// check ctx.Err() (or make a host call) now and then, and return what it has once it is not
// nil; the host stops the instance shortly after the deadline (runtime.Config.CancelGrace).
// Contexts derived from ctx (context.WithTimeout) learn of its end only when the Go scheduler
// runs, so check ctx itself in a loop that never blocks.
type Handler func(ctx context.Context, call *Call, args json.RawMessage) (*Result, error)

// NoContext adapts a handler written before handlers took a context (kit v1.0).
func NoContext(h func(call *Call, args json.RawMessage) (*Result, error)) Handler {
	return func(_ context.Context, call *Call, args json.RawMessage) (*Result, error) { return h(call, args) }
}

// Call describes the tool call being handled.
type Call struct {
	Tool   string // the tool's name
	CallID string // the host's id for this call, for logs
}

// Annotations are the MCP hints of a tool. All four are always published as given.
type Annotations struct {
	ReadOnly    bool // the tool does not change its environment
	Destructive bool // changes it makes may destroy data
	Idempotent  bool // repeating a call with the same arguments has no further effect
	OpenWorld   bool // the tool reaches outside the host (a model provider, the network)
}

// Tool is one tool of the module, as Register takes it.
type Tool struct {
	Name          string          // 1 to 64 of [a-z0-9_], starting with a letter
	Title         string          // short human-readable name
	Description   string          // what the tool does, for the client's model
	InputSchema   json.RawMessage // a JSON Schema with "type": "object"
	OutputSchema  json.RawMessage // optional
	Annotations   Annotations     //
	Capabilities  []string        // exactly the ops the tool needs (Cap* constants)
	Category      string          // "fast", "balanced" or "extended": picks the model in auto mode
	RequiresModel bool            // the tool calls a model; the host publishes the model list in its schema
	Handler       Handler         //
}

var registry = struct {
	sync.Mutex
	name, version string
	tools         []Tool
	byName        map[string]int // index into tools
}{byName: map[string]int{}}

// SetModule names the module and its version in the manifest.
func SetModule(name, version string) {
	registry.Lock()
	defer registry.Unlock()
	registry.name, registry.version = name, version
}

// Register adds a tool to the module. It panics on a tool the host would refuse (bad name,
// schema, capability or category), on a duplicate name and on a nil Handler: these are
// programming errors, best found at init time.
func Register(t Tool) {
	if t.Handler == nil {
		panic(fmt.Sprintf("pal.Register: tool %q has no Handler", t.Name))
	}
	check := abi.Manifest{ABI: abi.Version, Name: "check", Tools: []abi.ToolSpec{t.spec()}}
	if err := check.Validate(); err != nil {
		panic("pal.Register: " + err.Error())
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[t.Name]; dup {
		panic(fmt.Sprintf("pal.Register: tool %q registered twice", t.Name))
	}
	t.Capabilities = append([]string(nil), t.Capabilities...)
	registry.byName[t.Name] = len(registry.tools)
	registry.tools = append(registry.tools, t)
}

func (t Tool) spec() abi.ToolSpec {
	b := func(v bool) *bool { return &v }
	return abi.ToolSpec{
		Name:         t.Name,
		Title:        t.Title,
		Description:  t.Description,
		InputSchema:  t.InputSchema,
		OutputSchema: t.OutputSchema,
		Annotations: abi.Annotations{
			ReadOnlyHint:    b(t.Annotations.ReadOnly),
			DestructiveHint: b(t.Annotations.Destructive),
			IdempotentHint:  b(t.Annotations.Idempotent),
			OpenWorldHint:   b(t.Annotations.OpenWorld),
		},
		Capabilities:  t.Capabilities,
		Category:      t.Category,
		RequiresModel: t.RequiresModel,
	}
}

// describe returns the manifest JSON of the registered tools.
func describe() []byte {
	registry.Lock()
	m := abi.Manifest{ABI: abi.Version, Name: registry.name, Version: registry.version, Tools: []abi.ToolSpec{}}
	for _, t := range registry.tools {
		m.Tools = append(m.Tools, t.spec())
	}
	registry.Unlock()
	out, err := json.Marshal(m)
	if err != nil {
		// Only a tool's raw schema can fail to encode, and Register checked each one.
		panic("pal: cannot encode manifest: " + err.Error())
	}
	return out
}

func lookup(name string) (Tool, bool) {
	registry.Lock()
	defer registry.Unlock()
	i, ok := registry.byName[name]
	if !ok {
		return Tool{}, false
	}
	return registry.tools[i], true
}
