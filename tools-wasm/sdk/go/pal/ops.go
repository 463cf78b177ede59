package pal

import (
	"encoding/json"
	"fmt"
	"time"
)

// roundTrip sends one op request and decodes the reply's result into out (when out is not
// nil). It returns the reply's body.
func roundTrip(header any, body []byte, out any) ([]byte, error) {
	req, err := encodeRequest(header, body)
	if err != nil {
		return nil, err
	}
	result, replyBody, err := decodeReply(sendToHost(req))
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(result, out); err != nil {
			return nil, fmt.Errorf("%w: result does not fit the op: %v", ErrBadReply, err)
		}
	}
	return replyBody, nil
}

// parseTime reads an RFC 3339 time; anything else is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// FileInfo describes a file ReadFile returned.
type FileInfo struct {
	Path      string    // the path as the host resolved it
	Size      int64     // the file's full size in bytes
	Modified  time.Time // last modification, zero when the host did not say
	Truncated bool      // the body holds fewer bytes than Size
}

// ReadFile reads a file through the host (capability fs.read). path must be absolute.
// maxBytes > 0 reads at most that many bytes; 0 reads the whole file up to the policy's
// per-file cap (1,000,000 bytes by default), and a larger file is refused with ErrTooLarge.
// A directory is refused with ErrInvalid (see IsDirectory).
func ReadFile(path string, maxBytes int64) (FileInfo, []byte, error) {
	req := struct {
		Op       string `json:"op"`
		Path     string `json:"path"`
		MaxBytes int64  `json:"max_bytes,omitempty"`
	}{"fs.read", path, maxBytes}
	var r struct {
		Path      string `json:"path"`
		Size      int64  `json:"size"`
		Modified  string `json:"modified"`
		Truncated bool   `json:"truncated"`
	}
	body, err := roundTrip(req, nil, &r)
	if err != nil {
		return FileInfo{}, nil, err
	}
	if body == nil {
		body = []byte{}
	}
	return FileInfo{Path: r.Path, Size: r.Size, Modified: parseTime(r.Modified), Truncated: r.Truncated}, body, nil
}

// DirEntry is one entry of a listing.
type DirEntry struct {
	Path string `json:"path"` // absolute
	Kind string `json:"kind"` // "file" or "dir"
	Size int64  `json:"size"` // bytes, for files
}

// Listing is what ListDir returns.
type Listing struct {
	Path      string     `json:"path"`
	Entries   []DirEntry `json:"entries"`   // sorted by path
	Truncated bool       `json:"truncated"` // the walk stopped at a depth or entry cap
}

// ListDir walks a directory through the host (capability fs.list). maxDepth and maxEntries
// of 0 take the policy's defaults (depth 8, 2,000 entries). Denied, hidden and build or
// vendor entries are left out by the host.
func ListDir(path string, maxDepth, maxEntries int) (Listing, error) {
	req := struct {
		Op         string `json:"op"`
		Path       string `json:"path"`
		MaxDepth   int    `json:"max_depth,omitempty"`
		MaxEntries int    `json:"max_entries,omitempty"`
	}{"fs.list", path, maxDepth, maxEntries}
	var l Listing
	_, err := roundTrip(req, nil, &l)
	return l, err
}

// ModelInfo is a resolved model.
type ModelInfo struct {
	Model               string `json:"model"`    // canonical name
	Provider            string `json:"provider"` // provider id, such as "google"
	ContextWindow       int    `json:"context_window"`
	MaxOutputTokens     int    `json:"max_output_tokens"`
	SupportsImages      bool   `json:"supports_images"`
	SupportsTemperature bool   `json:"supports_temperature"`
	SupportsThinking    bool   `json:"supports_thinking"`
	AllowCodeGeneration bool   `json:"allow_code_generation"`
	FriendlyName        string `json:"friendly_name"`
}

// ResolveModel asks which model a name (or "auto") means for category (capability
// model.generate). An unknown or disallowed name is ErrUnavailable, whose message lists
// what is available.
func ResolveModel(model, category string) (ModelInfo, error) {
	req := struct {
		Op       string `json:"op"`
		Model    string `json:"model"`
		Category string `json:"category,omitempty"`
	}{"model.resolve", model, category}
	var m ModelInfo
	_, err := roundTrip(req, nil, &m)
	return m, err
}

// GenerateRequest is one model call.
type GenerateRequest struct {
	Model        string   // a name, alias or "auto"; "" lets the host choose
	Category     string   // for auto selection: "fast", "balanced" or "extended"
	System       string   // the system prompt
	Prompt       string   // the user prompt, sent as the message body
	Temperature  *float64 // nil leaves it to the host; the host corrects it to the model's range
	ThinkingMode string   // minimal, low, medium, high or max; "" for none
	Images       []string // absolute image paths or data URLs
}

// Usage counts tokens of one model call.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// GenerateResponse is a model's reply.
type GenerateResponse struct {
	Content      string `json:"content"`
	Model        string `json:"model"`    // the canonical model that answered
	Provider     string `json:"provider"` // its provider id
	FinishReason string `json:"finish_reason"`
	Usage        Usage  `json:"usage"`
}

// Generate calls a model through the host (capability model.generate). The host holds the
// key, checks image paths against its path policy, and retries transient failures; a
// failure after retries is ErrUpstream.
func Generate(g GenerateRequest) (GenerateResponse, error) {
	req := struct {
		Op           string   `json:"op"`
		Model        string   `json:"model,omitempty"`
		Category     string   `json:"category,omitempty"`
		System       string   `json:"system,omitempty"`
		Temperature  *float64 `json:"temperature,omitempty"`
		ThinkingMode string   `json:"thinking_mode,omitempty"`
		Images       []string `json:"images,omitempty"`
	}{"model.generate", g.Model, g.Category, g.System, g.Temperature, g.ThinkingMode, g.Images}
	var r GenerateResponse
	_, err := roundTrip(req, append([]byte{}, g.Prompt...), &r)
	return r, err
}

// CatalogueModel is one model of ListModels.
type CatalogueModel struct {
	Name                string   `json:"name"`
	Aliases             []string `json:"aliases"`
	ContextWindow       int      `json:"context_window"`
	Score               int      `json:"score"` // capability score, higher is stronger
	Rank                int      `json:"rank"`
	Description         string   `json:"description"`
	SupportsThinking    bool     `json:"supports_thinking"`
	SupportsImages      bool     `json:"supports_images"`
	AllowCodeGeneration bool     `json:"allow_code_generation"`
}

// ProviderModels is one provider of ListModels.
type ProviderModels struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Configured bool             `json:"configured"`
	Restricted bool             `json:"restricted"` // a policy hides some of its models
	Models     []CatalogueModel `json:"models"`
}

// Catalogue is what ListModels returns: what is configured and allowed.
type Catalogue struct {
	Mode         string           `json:"mode"` // "auto" or a fixed default
	DefaultModel string           `json:"default_model"`
	Providers    []ProviderModels `json:"providers"`
}

// ListModels returns the models the host serves (capability model.list).
func ListModels() (Catalogue, error) {
	var c Catalogue
	_, err := roundTrip(struct {
		Op string `json:"op"`
	}{"model.list"}, nil, &c)
	return c, err
}

// Turn is one message of a conversation thread.
type Turn struct {
	Role      string    // "user" or "assistant"
	Content   string    //
	Timestamp time.Time // zero on append: the host stamps it
	Files     []string  // files the turn referred to
	Images    []string  // images the turn referred to
	Tool      string    // the tool that recorded it
	Model     string    // the model that wrote an assistant turn
	Provider  string    // that model's provider
}

// wireTurn is Turn as it crosses the ABI.
type wireTurn struct {
	Role      string   `json:"role"`
	Content   string   `json:"content"`
	Timestamp string   `json:"timestamp,omitempty"`
	Files     []string `json:"files,omitempty"`
	Images    []string `json:"images,omitempty"`
	Tool      string   `json:"tool,omitempty"`
	Model     string   `json:"model,omitempty"`
	Provider  string   `json:"provider,omitempty"`
}

// Thread is a conversation thread as ThreadRead returns it.
type Thread struct {
	ID             string
	Tool           string // the tool that created it
	Created        time.Time
	Updated        time.Time
	MaxTurns       int // the turn cap; user and assistant turns count one each
	InitialContext map[string]any
	Turns          []Turn
}

// ThreadCreate starts a conversation thread for tool (capability thread.write) and returns
// its id. initialContext is kept with the thread for later calls to read.
func ThreadCreate(tool string, initialContext map[string]any) (string, error) {
	req := struct {
		Op             string         `json:"op"`
		Tool           string         `json:"tool"`
		InitialContext map[string]any `json:"initial_context,omitempty"`
	}{"thread.create", tool, initialContext}
	var r struct {
		ID string `json:"id"`
	}
	if _, err := roundTrip(req, nil, &r); err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", fmt.Errorf("%w: thread.create returned no id", ErrBadReply)
	}
	return r.ID, nil
}

// ThreadRead returns a thread (capability thread.read). A malformed, unknown or expired id
// is ErrNotFound.
func ThreadRead(id string) (Thread, error) {
	req := struct {
		Op string `json:"op"`
		ID string `json:"id"`
	}{"thread.read", id}
	var r struct {
		ID             string         `json:"id"`
		Tool           string         `json:"tool"`
		Created        string         `json:"created"`
		Updated        string         `json:"updated"`
		MaxTurns       int            `json:"max_turns"`
		InitialContext map[string]any `json:"initial_context"`
		Turns          []wireTurn     `json:"turns"`
	}
	if _, err := roundTrip(req, nil, &r); err != nil {
		return Thread{}, err
	}
	t := Thread{ID: r.ID, Tool: r.Tool, Created: parseTime(r.Created), Updated: parseTime(r.Updated),
		MaxTurns: r.MaxTurns, InitialContext: r.InitialContext}
	for _, w := range r.Turns {
		t.Turns = append(t.Turns, Turn{Role: w.Role, Content: w.Content, Timestamp: parseTime(w.Timestamp),
			Files: w.Files, Images: w.Images, Tool: w.Tool, Model: w.Model, Provider: w.Provider})
	}
	return t, nil
}

// AppendResult is what ThreadAppend returns.
type AppendResult struct {
	Turns     int `json:"turns"`     // turns in the thread now
	Remaining int `json:"remaining"` // turns that may still be added
}

// ThreadAppend adds turns to a thread (capability thread.write): all of them or, on error,
// none. Passing the turn cap is ErrTooLarge.
func ThreadAppend(id string, turns ...Turn) (AppendResult, error) {
	wire := make([]wireTurn, 0, len(turns))
	for _, t := range turns {
		w := wireTurn{Role: t.Role, Content: t.Content, Files: t.Files, Images: t.Images, Tool: t.Tool, Model: t.Model, Provider: t.Provider}
		if !t.Timestamp.IsZero() {
			w.Timestamp = t.Timestamp.UTC().Format(time.RFC3339Nano)
		}
		wire = append(wire, w)
	}
	req := struct {
		Op    string     `json:"op"`
		ID    string     `json:"id"`
		Turns []wireTurn `json:"turns"`
	}{"thread.append", id, wire}
	var r AppendResult
	_, err := roundTrip(req, nil, &r)
	return r, err
}

// Progress reports how far the call has got (capability progress). total 0 means unknown;
// the host forwards it to clients that asked for progress.
func Progress(progress, total float64, message string) error {
	req := struct {
		Op       string  `json:"op"`
		Progress float64 `json:"progress"`
		Total    float64 `json:"total,omitempty"`
		Message  string  `json:"message,omitempty"`
	}{"progress", progress, total, message}
	_, err := roundTrip(req, nil, nil)
	return err
}

// ClientInfo names the MCP client.
type ClientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Limits are the host's limits that tools apply themselves.
type Limits struct {
	PromptChars  int    `json:"prompt_chars"`   // most characters a client may put in a prompt field (PAL's MCP_PROMPT_SIZE_LIMIT)
	MaxTurns     int    `json:"max_turns"`      // turn cap of a conversation thread
	MaxFileBytes int64  `json:"max_file_bytes"` // per-file cap of fs.read
	Locale       string `json:"locale"`         // PAL's LOCALE; "" when unset
}

// ServerInfo describes the pal server, as HostInfo returns it.
type ServerInfo struct {
	Name            string     `json:"name"`
	Version         string     `json:"version"`
	ABI             int        `json:"abi"`
	ModelSelection  string     `json:"model_selection"` // "auto" or the fixed default's name
	DefaultModel    string     `json:"default_model"`
	Providers       []string   `json:"providers"` // configured provider ids
	ModelsAvailable int        `json:"models_available"`
	Client          ClientInfo `json:"client"`
	Platform        string     `json:"platform"` // GOOS/GOARCH of the host
	GoVersion       string     `json:"go_version"`
	Limits          Limits     `json:"limits"`
}

// HostInfo describes the server and its limits (capability host.info).
func HostInfo() (ServerInfo, error) {
	var s ServerInfo
	_, err := roundTrip(struct {
		Op string `json:"op"`
	}{"host.info"}, nil, &s)
	return s, err
}
