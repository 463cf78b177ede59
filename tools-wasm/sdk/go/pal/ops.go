package pal

import (
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// roundTrip sends one op request and decodes the reply's result into out (when out is not
// nil). It returns the reply's body.
func roundTrip(header any, body []byte, out any) ([]byte, error) {
	req, err := encodeRequest(header, body)
	if err != nil {
		return nil, err
	}
	return exchange(req, out)
}

// exchange sends an encoded request and decodes the reply's result into out (when out is
// not nil). It returns the reply's body.
func exchange(req []byte, out any) ([]byte, error) {
	result, replyBody, err := decodeReply(sendToHost(req))
	if errors.Is(err, ErrCancelled) {
		hostCancelled() // the call is over: the handler's ctx ends
	}
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

// FileInfo describes a file ReadFile returned: its path as the host resolved it, its full
// size in bytes, its modification time (UTC, whole seconds) and whether the body holds
// fewer bytes than the size.
type FileInfo = abi.FSReadResult

// ReadFile reads a file through the host (capability fs.read). path must be absolute.
// maxBytes > 0 reads at most that many bytes; 0 reads the whole file up to the policy's
// per-file cap (1,000,000 bytes by default), and a larger file is refused with ErrTooLarge.
// A directory is refused with ErrInvalid (see IsDirectory).
func ReadFile(path string, maxBytes int64) (FileInfo, []byte, error) {
	var info FileInfo
	body, err := roundTrip(abi.FSReadRequest{Op: abi.OpFSRead, Path: path, MaxBytes: maxBytes}, nil, &info)
	if err != nil {
		return FileInfo{}, nil, err
	}
	if body == nil {
		body = []byte{}
	}
	return info, body, nil
}

// DirEntry is one entry of a listing: an absolute path, "file" or "dir", and a file's size
// in bytes.
type DirEntry = abi.DirEntry

// Listing is what ListDir returns: entries sorted by path, and whether the walk stopped at
// a depth or entry cap.
type Listing = abi.FSListResult

// ListDir walks a directory through the host (capability fs.list). maxDepth and maxEntries
// of 0 take the policy's defaults (depth 8, 2,000 entries). Denied, hidden and build or
// vendor entries are left out by the host.
func ListDir(path string, maxDepth, maxEntries int) (Listing, error) {
	var l Listing
	_, err := roundTrip(abi.FSListRequest{Op: abi.OpFSList, Path: path, MaxDepth: maxDepth, MaxEntries: maxEntries}, nil, &l)
	return l, err
}

// ModelInfo is a resolved model: canonical name, provider id and capabilities.
type ModelInfo = abi.ModelResolveResult

// ResolveModel asks which model a name (or "auto") means for category (capability
// model.generate). An unknown or disallowed name is ErrUnavailable, whose message lists
// what is available.
func ResolveModel(model, category string) (ModelInfo, error) {
	var m ModelInfo
	_, err := roundTrip(abi.ModelResolveRequest{Op: abi.OpModelResolve, Model: model, Category: category}, nil, &m)
	return m, err
}

// GenerateRequest is one model call.
type GenerateRequest struct {
	Model        string        // a name, alias or "auto"; "" lets the host choose
	Category     string        // for auto selection: "fast", "balanced" or "extended"
	System       string        // the system prompt
	Prompt       string        // the user prompt, sent as the message body
	PromptBuffer *PromptBuffer // when not nil, the user prompt instead of Prompt, sent without a copy
	Temperature  *float64      // nil leaves it to the host; the host corrects it to the model's range
	ThinkingMode string        // minimal, low, medium, high or max; "" for none
	Images       []string      // absolute image paths or data URLs
}

// PromptBuffer holds a prompt with room before it for the model.generate request's header,
// so that Generate sends the prompt where it was written instead of copying it into a
// request message: a workflow's prompt can hold megabytes of files, and in a wasm guest
// each copy is an allocation that grows the instance's memory. The zero value is not
// usable; see NewPromptBuffer.
type PromptBuffer struct {
	b    []byte // room, then the prompt
	room int
}

// PromptRoom is the room NewPromptBuffer leaves for the request header, in bytes. A header
// that does not fit (a long system prompt, inline images) is sent with a copy of the prompt.
const PromptRoom = 16 << 10

// NewPromptBuffer returns an empty PromptBuffer for a prompt of n bytes; it grows past n
// with a copy.
func NewPromptBuffer(n int) *PromptBuffer {
	return &PromptBuffer{b: make([]byte, PromptRoom, PromptRoom+max(n, 0)), room: PromptRoom}
}

// WriteString appends s to the prompt.
func (p *PromptBuffer) WriteString(s string) { p.b = append(p.b, s...) }

// AppendWith appends to the prompt what f appends to the slice it is given (for example
// embed.File's AppendTo).
func (p *PromptBuffer) AppendWith(f func([]byte) []byte) { p.b = f(p.b) }

// Len is the prompt's length in bytes.
func (p *PromptBuffer) Len() int { return len(p.b) - p.room }

// String returns the prompt. It shares the buffer's bytes: it is valid while nothing more
// is written (Generate writes only in the room before the prompt).
func (p *PromptBuffer) String() string {
	if p.Len() == 0 {
		return ""
	}
	return unsafe.String(&p.b[p.room], p.Len())
}

// message returns the model.generate request with header h and the prompt as its body: in
// place when h and its separator fit the room, else a copy.
func (p *PromptBuffer) message(h []byte) []byte {
	if len(h)+1 > p.room {
		return abi.Join(h, p.b[p.room:])
	}
	start := p.room - len(h) - 1
	copy(p.b[start:], h)
	p.b[p.room-1] = 0
	return p.b[start:]
}

// Usage counts tokens of one model call.
type Usage = abi.Usage

// GenerateResponse is a model's reply: its text, the canonical model and provider that
// answered, the finish reason and the token usage.
type GenerateResponse = abi.ModelGenerateResult

// Generate calls a model through the host (capability model.generate). The host holds the
// key, checks image paths against its path policy, and retries transient failures; a
// failure after retries is ErrUpstream.
func Generate(g GenerateRequest) (GenerateResponse, error) {
	req := abi.ModelGenerateRequest{Op: abi.OpModelGenerate, Model: g.Model, Category: g.Category, System: g.System,
		Temperature: g.Temperature, ThinkingMode: g.ThinkingMode, Images: g.Images}
	var r GenerateResponse
	if g.PromptBuffer != nil {
		h, err := json.Marshal(req)
		if err != nil {
			return r, &HostError{Code: CodeInvalid, Message: "cannot encode request: " + err.Error()}
		}
		msg := g.PromptBuffer.message(h)
		if len(msg) > abi.MaxRequestBytes {
			return r, tooLarge(len(msg))
		}
		_, err = exchange(msg, &r)
		return r, err
	}
	// The prompt is copied once, into the request message (abi.Join), not first into a []byte
	// of its own: prompt only lends the string's bytes to that copy, and an empty prompt is
	// still a body (the host then refuses it as missing).
	prompt := []byte{}
	if g.Prompt != "" {
		prompt = unsafe.Slice(unsafe.StringData(g.Prompt), len(g.Prompt))
	}
	_, err := roundTrip(req, prompt, &r)
	return r, err
}

// CatalogueModel is one model of ListModels.
type CatalogueModel = abi.ListedModel

// ProviderModels is one provider of ListModels.
type ProviderModels = abi.ProviderModels

// Catalogue is what ListModels returns: what is configured and allowed.
type Catalogue = abi.ModelListResult

// ListModels returns the models the host serves (capability model.list).
func ListModels() (Catalogue, error) {
	var c Catalogue
	_, err := roundTrip(abi.ModelListRequest{Op: abi.OpModelList}, nil, &c)
	return c, err
}

// Turn is one message of a conversation thread. Leave Timestamp zero on append: the host
// stamps it.
type Turn = abi.Turn

// Thread is a conversation thread as ThreadRead returns it.
type Thread = abi.ThreadReadResult

// ThreadCreate starts a conversation thread for tool (capability thread.write) and returns
// its id. initialContext is kept with the thread for later calls to read.
func ThreadCreate(tool string, initialContext map[string]any) (string, error) {
	var r abi.ThreadCreateResult
	if _, err := roundTrip(abi.ThreadCreateRequest{Op: abi.OpThreadCreate, Tool: tool, InitialContext: initialContext}, nil, &r); err != nil {
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
	var t Thread
	_, err := roundTrip(abi.ThreadReadRequest{Op: abi.OpThreadRead, ID: id}, nil, &t)
	return t, err
}

// AppendResult is what ThreadAppend returns: the turns in the thread now and how many may
// still be added.
type AppendResult = abi.ThreadAppendResult

// ThreadAppend adds turns to a thread (capability thread.write): all of them or, on error,
// none. Passing the turn cap is ErrTooLarge.
func ThreadAppend(id string, turns ...Turn) (AppendResult, error) {
	if turns == nil {
		turns = []Turn{} // "turns": [], never null
	}
	var r AppendResult
	_, err := roundTrip(abi.ThreadAppendRequest{Op: abi.OpThreadAppend, ID: id, Turns: turns}, nil, &r)
	return r, err
}

// Progress reports how far the call has got (capability progress). total 0 means unknown;
// the host forwards it to clients that asked for progress.
func Progress(progress, total float64, message string) error {
	_, err := roundTrip(abi.ProgressRequest{Op: abi.OpProgress, Progress: progress, Total: total, Message: message}, nil, nil)
	return err
}

// ClientInfo names the MCP client.
type ClientInfo = abi.Client

// Limits are the host's limits that tools apply themselves.
type Limits = abi.Limits

// ServerInfo describes the pal server, as HostInfo returns it.
type ServerInfo = abi.HostInfoResult

// HostInfo describes the server and its limits (capability host.info).
func HostInfo() (ServerInfo, error) {
	var s ServerInfo
	_, err := roundTrip(abi.HostInfoRequest{Op: abi.OpHostInfo}, nil, &s)
	return s, err
}
