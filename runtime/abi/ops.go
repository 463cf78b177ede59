package abi

import (
	"slices"
	"time"
)

// The ops of ABI 1 (docs/abi.md, "Ops in ABI 1"): the value of a request's "op" field.
const (
	OpFSRead        = "fs.read"
	OpFSList        = "fs.list"
	OpModelResolve  = "model.resolve"
	OpModelGenerate = "model.generate"
	OpModelList     = "model.list"
	OpThreadCreate  = "thread.create"
	OpThreadRead    = "thread.read"
	OpThreadAppend  = "thread.append"
	OpProgress      = "progress"
	OpHostInfo      = "host.info"
	OpGitStatus     = "git.status"
	OpGitDiff       = "git.diff"
	OpGitLog        = "git.log"
	OpCLIList       = "cli.list"
	OpCLIRun        = "cli.run"
)

// opCapabilities maps every op of ABI 1 to the capability that grants it.
var opCapabilities = map[string]string{
	OpFSRead:        CapFSRead,
	OpFSList:        CapFSList,
	OpModelResolve:  CapModelGenerate,
	OpModelGenerate: CapModelGenerate,
	OpModelList:     CapModelList,
	OpThreadCreate:  CapThreadWrite,
	OpThreadRead:    CapThreadRead,
	OpThreadAppend:  CapThreadWrite,
	OpProgress:      CapProgress,
	OpHostInfo:      CapHostInfo,
	OpGitStatus:     CapGitRead,
	OpGitDiff:       CapGitRead,
	OpGitLog:        CapGitRead,
	OpCLIList:       CapCLIRun,
	OpCLIRun:        CapCLIRun,
}

// Ops returns every op of ABI 1, sorted.
func Ops() []string {
	ops := make([]string, 0, len(opCapabilities))
	for op := range opCapabilities {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// OpCapability returns the capability that grants op; ok is false when ABI 1 has no such op.
func OpCapability(op string) (capability string, ok bool) {
	capability, ok = opCapabilities[op]
	return capability, ok
}

// OpTakesBody reports whether op's request carries a body: model.generate (the user prompt)
// and cli.run (the program's standard input) do; a body on any other op is invalid.
func OpTakesBody(op string) bool { return op == OpModelGenerate || op == OpCLIRun }

// FSReadRequest asks for a file's bytes (op fs.read, capability fs.read).
type FSReadRequest struct {
	Op   string `json:"op"`   // OpFSRead
	Path string `json:"path"` // absolute
	// MaxBytes caps the bytes returned; 0 (omitted) means the policy's per-file cap
	// (1,000,000 bytes by default), and a larger file is then refused with too_large.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// FSReadResult describes the file whose bytes follow the reply as its body.
type FSReadResult struct {
	Path      string    `json:"path"`      // the path as the host resolved it
	Size      int64     `json:"size"`      // the file's full size in bytes
	Modified  time.Time `json:"modified"`  // last modification, UTC, whole seconds
	Truncated bool      `json:"truncated"` // the body holds fewer bytes than Size
	// Redacted counts the secrets the host replaced in the body by "[REDACTED:<kind>]"
	// markers; when it is not 0 the body's length differs from the bytes read.
	Redacted int `json:"redacted,omitempty"`
}

// FSListRequest asks for a directory walk (op fs.list, capability fs.list).
type FSListRequest struct {
	Op   string `json:"op"`   // OpFSList
	Path string `json:"path"` // absolute
	// MaxDepth is how many directory levels to walk (1: the directory's own entries);
	// 0 means the policy's default, 8.
	MaxDepth int `json:"max_depth,omitempty"`
	// MaxEntries caps the entries returned; 0 means the policy's default, 2,000.
	MaxEntries int `json:"max_entries,omitempty"`
}

// FSListResult is a directory walk: denied, hidden and build or vendor entries left out.
type FSListResult struct {
	Path      string     `json:"path"`      // the directory as asked
	Entries   []DirEntry `json:"entries"`   // sorted by path; never null
	Truncated bool       `json:"truncated"` // the walk stopped at the depth or entry cap
}

// DirEntry is one entry of an FSListResult.
type DirEntry struct {
	Path string `json:"path"` // absolute, beneath the listed directory
	Kind string `json:"kind"` // "file" or "dir"
	Size int64  `json:"size"` // bytes, for files; 0 for directories
}

// ModelResolveRequest asks which model a name means (op model.resolve, capability
// model.generate).
type ModelResolveRequest struct {
	Op    string `json:"op"`    // OpModelResolve
	Model string `json:"model"` // a name, alias, "name:option", or "auto"
	// Category picks the model for "auto": "fast", "balanced" or "extended"; "" means the
	// calling tool's category from its manifest.
	Category string `json:"category,omitempty"`
}

// ModelResolveResult is a resolved, configured and allowed model.
type ModelResolveResult struct {
	Model               string  `json:"model"`    // canonical name
	Provider            string  `json:"provider"` // provider id, such as "google"
	FriendlyName        string  `json:"friendly_name"`
	ContextWindow       int     `json:"context_window"`    // tokens
	MaxOutputTokens     int     `json:"max_output_tokens"` // tokens
	SupportsImages      bool    `json:"supports_images"`
	MaxImageSizeMB      float64 `json:"max_image_size_mb"` // total image payload the model takes, MB
	SupportsTemperature bool    `json:"supports_temperature"`
	SupportsThinking    bool    `json:"supports_thinking"`
	AllowCodeGeneration bool    `json:"allow_code_generation"`
}

// ModelGenerateRequest is one model call (op model.generate, capability model.generate);
// the user prompt is the request's body.
type ModelGenerateRequest struct {
	Op       string `json:"op"`              // OpModelGenerate
	Model    string `json:"model,omitempty"` // as in ModelResolveRequest; "" lets the host choose
	Category string `json:"category,omitempty"`
	System   string `json:"system,omitempty"` // the system prompt
	// Temperature is nil to leave it to the host; the host corrects it to the model's range.
	Temperature  *float64 `json:"temperature,omitempty"`
	ThinkingMode string   `json:"thinking_mode,omitempty"` // minimal, low, medium, high or max; "" for none
	Images       []string `json:"images,omitempty"`        // absolute image paths or data URLs; at most 5
}

// ModelGenerateResult is a model's reply.
type ModelGenerateResult struct {
	Content      string `json:"content"`
	Model        string `json:"model"`    // the canonical model that answered
	Provider     string `json:"provider"` // its provider id
	FinishReason string `json:"finish_reason"`
	Usage        Usage  `json:"usage"`
}

// Usage counts the tokens of one model call.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// ModelListRequest asks what models the host serves (op model.list, capability model.list).
type ModelListRequest struct {
	Op string `json:"op"` // OpModelList
}

// ModelListResult is what is configured and allowed; it never holds a key.
type ModelListResult struct {
	Mode         string           `json:"mode"`          // "auto" or "fixed"
	DefaultModel string           `json:"default_model"` // "auto" in auto mode
	Providers    []ProviderModels `json:"providers"`     // never null
}

// ProviderModels is one provider of a ModelListResult.
type ProviderModels struct {
	ID            string        `json:"id"`   // provider id, such as "google"
	Name          string        `json:"name"` // display name
	Configured    bool          `json:"configured"`
	Note          string        `json:"note,omitempty"`           // why it is not configured, when known
	Restricted    bool          `json:"restricted"`               // a policy hides some of its models
	AllowedModels []string      `json:"allowed_models,omitempty"` // the policy's allowlist, when restricted
	Models        []ListedModel `json:"models"`                   // never null
}

// ListedModel is one model of a ProviderModels.
type ListedModel struct {
	Name                string   `json:"name"`
	FriendlyName        string   `json:"friendly_name,omitempty"`
	Aliases             []string `json:"aliases"`
	ContextWindow       int      `json:"context_window"`    // tokens
	MaxOutputTokens     int      `json:"max_output_tokens"` // tokens
	Score               int      `json:"score"`             // capability score, higher is stronger
	Rank                int      `json:"rank"`
	Description         string   `json:"description,omitempty"`
	SupportsThinking    bool     `json:"supports_thinking"`
	SupportsImages      bool     `json:"supports_images"`
	AllowCodeGeneration bool     `json:"allow_code_generation"`
}

// ThreadCreateRequest starts a conversation thread (op thread.create, capability
// thread.write).
type ThreadCreateRequest struct {
	Op   string `json:"op"`   // OpThreadCreate
	Tool string `json:"tool"` // the tool that starts it
	// InitialContext is kept with the thread for later calls to read.
	InitialContext map[string]any `json:"initial_context,omitempty"`
}

// ThreadCreateResult names the new thread.
type ThreadCreateResult struct {
	ID string `json:"id"` // a UUID
}

// ThreadReadRequest asks for a thread (op thread.read, capability thread.read). A malformed,
// unknown or expired id is not_found.
type ThreadReadRequest struct {
	Op string `json:"op"` // OpThreadRead
	ID string `json:"id"`
}

// ThreadReadResult is a conversation thread.
type ThreadReadResult struct {
	ID             string         `json:"id"`
	Tool           string         `json:"tool"` // the tool that created it
	Created        time.Time      `json:"created"`
	Updated        time.Time      `json:"updated"`   // the last append; the time-to-live runs from here
	MaxTurns       int            `json:"max_turns"` // the turn cap; user and assistant turns count one each
	InitialContext map[string]any `json:"initial_context,omitempty"`
	Turns          []Turn         `json:"turns"` // oldest first
}

// Turn is one message of a conversation thread.
type Turn struct {
	Role    string `json:"role"` // "user" or "assistant"
	Content string `json:"content"`
	// Timestamp is when the host recorded the turn; omitted on append, where the host stamps
	// it with its own clock.
	Timestamp time.Time `json:"timestamp,omitzero"`
	Files     []string  `json:"files,omitempty"`    // files the turn referred to
	Images    []string  `json:"images,omitempty"`   // images the turn referred to
	Tool      string    `json:"tool,omitempty"`     // the tool that recorded it
	Model     string    `json:"model,omitempty"`    // the model that wrote an assistant turn
	Provider  string    `json:"provider,omitempty"` // that model's provider
}

// ThreadAppendRequest adds turns to a thread, all or none (op thread.append, capability
// thread.write). Passing the turn cap is too_large.
type ThreadAppendRequest struct {
	Op    string `json:"op"` // OpThreadAppend
	ID    string `json:"id"`
	Turns []Turn `json:"turns"`
}

// ThreadAppendResult counts a thread's turns after an append.
type ThreadAppendResult struct {
	Turns     int `json:"turns"`     // turns in the thread now
	Remaining int `json:"remaining"` // turns that may still be added
}

// ProgressRequest reports how far a call has got (op progress, capability progress). The
// host forwards it to clients that asked for progress; its result is empty.
type ProgressRequest struct {
	Op       string  `json:"op"` // OpProgress
	Progress float64 `json:"progress"`
	Total    float64 `json:"total,omitempty"`   // 0 means unknown
	Message  string  `json:"message,omitempty"` // cut at 1 KiB by the host
}

// HostInfoRequest asks about the server (op host.info, capability host.info).
type HostInfoRequest struct {
	Op string `json:"op"` // OpHostInfo
}

// HostInfoResult describes the pal server, its client and its limits.
type HostInfoResult struct {
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	ABI             int      `json:"abi"`             // Version
	ModelSelection  string   `json:"model_selection"` // "auto" or "fixed"
	DefaultModel    string   `json:"default_model"`
	Platform        string   `json:"platform"` // GOOS/GOARCH of the host
	GoVersion       string   `json:"go_version"`
	Limits          Limits   `json:"limits"`
	Providers       []string `json:"providers"` // configured provider ids; never null
	ModelsAvailable int      `json:"models_available"`
	Client          Client   `json:"client"`
	// ContinuationTools are the tools this server publishes whose input takes a
	// continuation_id, in tools/list order; never null. A tool names them when it offers to
	// continue a conversation, so that the offer holds only what is true.
	ContinuationTools []string `json:"continuation_tools"`
}

// Limits are the host's limits that tools apply themselves.
type Limits struct {
	// PromptChars is the most characters a client may put in a prompt field (PAL's
	// MCP_PROMPT_SIZE_LIMIT, default 60,000).
	PromptChars  int    `json:"prompt_chars"`
	MaxTurns     int    `json:"max_turns"`      // turn cap of a conversation thread (default 50)
	MaxFileBytes int64  `json:"max_file_bytes"` // per-file cap of fs.read (default 1,000,000)
	Locale       string `json:"locale"`         // PAL's LOCALE; "" when unset
}

// Client names the MCP client of the session, as it introduced itself.
type Client struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}
