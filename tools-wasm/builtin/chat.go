package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/history"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/promptlimit"
)

const chatSchema = `{
  "type": "object",
  "properties": {
    "prompt": {
      "type": "string",
      "description": "Your question and its context: goal, what you tried, what you want back."
    },
    "absolute_file_paths": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Absolute file or directory paths to share; a prompt.txt replaces the prompt."
    },
    "images": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Up to 5 image paths or data URLs."
    },
    "model": {
      "type": "string",
      "description": "The model to consult. Leave it out, or pass 'auto', to let the server choose."
    },
    "temperature": {
      "type": "number",
      "minimum": 0,
      "maximum": 1,
      "description": "0 deterministic, 1 creative (default)."
    },
    "thinking_mode": {
      "type": "string",
      "enum": ["minimal", "low", "medium", "high", "max"],
      "description": "Reasoning depth; default medium."
    },
    "continuation_id": {
      "type": "string",
      "description": "Any tool's continuation_id, to continue."
    },
    "working_directory_absolute_path": {
      "type": "string",
      "description": "Unsupported; a value is refused."
    }
  },
  "required": ["prompt"],
  "additionalProperties": false
}`

// Defaults that apply when host.info is not available, and PAL's fixed limits.
const (
	defaultPromptChars  = 60_000
	defaultMaxTurns     = 50
	defaultMaxFileBytes = 1_000_000
	defaultTemperature  = 1.0
	defaultThinkingMode = "medium"
	defaultContextSize  = 200_000  // tokens, when the host does not know a model's window
	maxImages           = 5        // per request
	maxImageBytes       = 20 << 20 // all images of a request together
	chatCategory        = "fast"
)

var thinkingModes = map[string]bool{"minimal": true, "low": true, "medium": true, "high": true, "max": true}

// imageExtensions are the image formats chat accepts, by extension.
var imageExtensions = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true}

var dataURL = regexp.MustCompile(`^data:image/(png|jpeg|jpg|gif|webp);base64,`)

// chatArgs are chat's arguments. Pointers tell a missing field from an empty one.
type chatArgs struct {
	Prompt           *string   `json:"prompt"`
	Files            *[]string `json:"absolute_file_paths"`
	Images           []string  `json:"images"`
	Model            string    `json:"model"`
	Temperature      *float64  `json:"temperature"`
	ThinkingMode     string    `json:"thinking_mode"`
	ContinuationID   string    `json:"continuation_id"`
	WorkingDirectory string    `json:"working_directory_absolute_path"` // refused when set
}

// workingDirRefusal explains why chat takes no working directory (docs/RATIONALE.md).
const workingDirRefusal = "working_directory_absolute_path is not supported: pal never writes files, so chat produces no code artifact. " +
	"Send the request again without it; ask the model to put any code in its reply."

// isAbsolute reports whether p is an absolute path: POSIX ("/…"), a Windows drive
// ("C:\…", "C:/…") or a UNC share ("\\server\…"). The guest cannot expand "~".
func isAbsolute(p string) bool {
	switch {
	case strings.HasPrefix(p, "/"), strings.HasPrefix(p, `\\`):
		return true
	case len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'):
		c := p[0] | 0x20
		return c >= 'a' && c <= 'z'
	}
	return false
}

// relativePathError is PAL's message for a path that is not absolute.
func relativePathError(p string) string {
	return "Relative paths are not supported. Please provide an absolute path.\nReceived: " + p
}

// checkImage validates one image reference: a data URL of an accepted type with base64
// data, or an absolute path with an accepted extension. It returns the decoded size of a
// data URL (0 for a path).
func checkImage(img string) (int, error) {
	if strings.HasPrefix(img, "data:") {
		m := dataURL.FindStringIndex(img)
		if m == nil {
			return 0, errors.New("image data URLs must be data:image/<png|jpeg|gif|webp>;base64,<data>")
		}
		data, err := base64.StdEncoding.DecodeString(img[m[1]:])
		if err != nil || len(data) == 0 {
			return 0, errors.New("an image data URL does not hold valid base64 data")
		}
		return len(data), nil
	}
	if !isAbsolute(img) {
		return 0, errors.New(relativePathError(img))
	}
	if !imageExtensions[strings.ToLower(path.Ext(strings.ReplaceAll(img, `\`, "/")))] {
		return 0, fmt.Errorf("%s is not a supported image (use .png, .jpg, .jpeg, .gif or .webp)", img)
	}
	return 0, nil
}

// baseName is the last element of a POSIX or Windows path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// validate checks the arguments that need no host.
func (a *chatArgs) validate() error {
	if a.Prompt == nil {
		return errors.New("prompt is required")
	}
	if strings.TrimSpace(a.WorkingDirectory) != "" {
		return errors.New(workingDirRefusal)
	}
	if t := a.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 1) {
		return fmt.Errorf("temperature must be between 0 and 1, not %g", *t)
	}
	if a.ThinkingMode != "" && !thinkingModes[a.ThinkingMode] {
		return fmt.Errorf("thinking_mode must be one of minimal, low, medium, high, max, not %q", a.ThinkingMode)
	}
	if a.Files != nil {
		for _, p := range *a.Files {
			if !isAbsolute(p) {
				return errors.New(relativePathError(p))
			}
		}
	}
	if len(a.Images) > maxImages {
		return fmt.Errorf("too many images: %d given, at most %d are accepted per request", len(a.Images), maxImages)
	}
	for _, img := range a.Images {
		if _, err := checkImage(img); err != nil {
			return err
		}
	}
	return nil
}

func chatError(code, msg string) *pal.Result { return errorResult("chat", code, msg, nil) }

// handleChat runs one chat call. Every refusal is an isError reply sent before any model
// call.
func handleChat(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	var args chatArgs
	if err := decodeArgs(raw, &args); err != nil {
		return chatError(pal.FailInvalidArguments, err.Error()), nil
	}
	if err := args.validate(); err != nil {
		return chatError(pal.FailInvalidArguments, err.Error()), nil
	}
	c := &chatCall{args: args, info: loadHostInfo(), cache: map[string]*fileData{}}
	if r := chatPromptRule.Check(*args.Prompt, c.info.Limits.PromptChars); r != nil {
		return r, nil
	}
	return c.run(), nil
}

// loadHostInfo asks the host for its limits; without host.info the defaults apply.
func loadHostInfo() pal.ServerInfo {
	info, err := pal.HostInfo()
	if err != nil {
		pal.Logf(pal.LevelWarn, "host.info unavailable, using default limits: %v", err)
	}
	if info.Limits.PromptChars <= 0 {
		info.Limits.PromptChars = defaultPromptChars
	}
	if info.Limits.MaxTurns <= 0 {
		info.Limits.MaxTurns = defaultMaxTurns
	}
	if info.Limits.MaxFileBytes <= 0 {
		info.Limits.MaxFileBytes = defaultMaxFileBytes
	}
	return info
}

// chatPromptRule: prompt is held to the limit; a prompt.txt in absolute_file_paths replaces it.
var chatPromptRule = promptlimit.Rule{Field: "prompt", PromptFiles: "absolute_file_paths"}

// fileData is a file read during the call.
type fileData struct {
	path     string // as requested or listed
	text     string // normalised
	size     int64  // bytes on disk
	info     pal.FileInfo
	explicit bool // named by this call's own arguments (or found in a directory they named)
}

// chatCall carries one chat call's state.
type chatCall struct {
	args      chatArgs
	info      pal.ServerInfo
	thread    *pal.Thread
	model     pal.ModelInfo
	modelArg  string               // the name resolved, sent again to model.generate
	cache     map[string]*fileData // every file read in this call, by path
	read      int64                // bytes of text in cache
	requested []string             // the paths to share, prompt.txt left out
	files     []*fileData          // requested files, in order, read
	skipped   []string             // requested files not read: over the read ceiling
	tooLarge  []string             // files in requested directories over the per-file cap
	listCut   []string             // directories whose listing the host truncated
}

func (c *chatCall) run() *pal.Result {
	if r := c.loadThread(); r != nil {
		return r
	}
	explicit, carried := c.requestedFiles()
	var promptFiles []string
	explicit, promptFiles = promptlimit.Split(explicit)
	carried, _ = promptlimit.Split(carried)
	c.requested = append(append([]string{}, explicit...), carried...)

	if r := c.resolveModel(); r != nil {
		return r
	}
	if r := c.checkImagesOnHost(); r != nil {
		return r
	}
	prompt, err := promptlimit.Read(*c.args.Prompt, promptFiles)
	if fe := (*promptlimit.FileError)(nil); errors.As(err, &fe) {
		return refused(fe.Path, fe.Err)
	}
	if strings.TrimSpace(prompt) == "" {
		return chatError(pal.FailInvalidArguments, "prompt is empty: say what you want to discuss, or pass a prompt.txt file in absolute_file_paths")
	}

	alloc := history.Allocate(c.contextWindow())
	ceiling := int64(max(alloc.Content, 1000)) * 4 // bytes: more could never be embedded
	if r := c.readFiles(explicit, true, ceiling); r != nil {
		return r
	}
	if r := c.readFiles(carried, false, ceiling); r != nil {
		return r
	}
	progress(1, fmt.Sprintf("read %d file(s)", len(c.files)))

	full, userFiles := c.buildPrompt(prompt, alloc)
	progress(2, "asking "+c.model.Model)
	reply, r := c.generate(full)
	if r != nil {
		return r
	}
	out := c.record(prompt, userFiles, reply)
	progress(3, "done")
	return out
}

// progress reports a stage of three; a host that does not take progress is not an error.
func progress(stage float64, msg string) {
	if err := pal.Progress(stage, 3, msg); err != nil {
		pal.Logf(pal.LevelDebug, "chat: progress not sent: %v", err)
	}
}

// loadThread reads the thread of continuation_id, if any, and checks that it has room
// for one more exchange.
func (c *chatCall) loadThread() *pal.Result {
	th, r := loadThread("chat", c.args.ContinuationID, c.info.Limits.MaxTurns)
	c.thread = th
	return r
}

// loadThread reads thread id for tool (nil, nil when id is empty) and checks that it has
// room for one more exchange (two turns); maxTurns applies when the thread carries no cap.
// A failure is tool's isError reply.
func loadThread(tool, id string, maxTurns int) (*pal.Thread, *pal.Result) {
	if id == "" {
		return nil, nil
	}
	th, err := pal.ThreadRead(id)
	switch {
	case errors.Is(err, pal.ErrNotFound):
		return nil, errorResult(tool, pal.FailNotFound, fmt.Sprintf("Conversation thread '%s' was not found or has expired. "+
			"Start a new conversation: send the full request again without continuation_id.", id), nil)
	case err != nil:
		return nil, errorResult(tool, pal.FailureCode(err), fmt.Sprintf("Cannot read conversation thread '%s': %s", id, hostMessage(err)), nil)
	}
	if th.MaxTurns <= 0 {
		th.MaxTurns = maxTurns
	}
	if len(th.Turns)+2 > th.MaxTurns {
		return nil, errorResult(tool, pal.FailTooLarge, fmt.Sprintf("Conversation thread '%s' has used %d of its %d turns and cannot take another exchange. "+
			"Start a new conversation without continuation_id, summarising what matters from this one.", id, len(th.Turns), th.MaxTurns), nil)
	}
	return &th, nil
}

// requestedFiles returns this call's paths and, when the call names none and continues a
// conversation, the paths the conversation started with.
func (c *chatCall) requestedFiles() (explicit, carried []string) {
	if c.args.Files != nil {
		return *c.args.Files, nil
	}
	if c.thread == nil {
		return nil, nil
	}
	list, _ := c.thread.InitialContext["absolute_file_paths"].([]any)
	for _, v := range list {
		if p, ok := v.(string); ok && isAbsolute(p) {
			carried = append(carried, p)
		}
	}
	return nil, carried
}

// resolveModel picks the model: the one asked for; else, on a continuation, the model
// that answered last; else the server's default. An implicit choice that is no longer
// available falls back to the default.
func (c *chatCall) resolveModel() *pal.Result {
	fallback := c.info.DefaultModel
	if fallback == "" {
		fallback = "auto"
	}
	name, implicit := c.args.Model, c.args.Model == ""
	if implicit && c.thread != nil {
		for i := len(c.thread.Turns) - 1; i >= 0 && name == ""; i-- {
			if c.thread.Turns[i].Role == "assistant" {
				name = c.thread.Turns[i].Model
			}
		}
	}
	if name == "" {
		name = fallback
	}
	m, err := pal.ResolveModel(name, chatCategory)
	if err != nil && implicit && name != fallback {
		pal.Logf(pal.LevelInfo, "chat: model %s of the conversation is not available, using %s", name, fallback)
		name = fallback
		m, err = pal.ResolveModel(name, chatCategory)
	}
	if err != nil {
		msg := fmt.Sprintf("Model '%s' cannot be used: %s", name, hostMessage(err))
		return errorResult("chat", pal.FailUnavailable, msg, map[string]any{"requested_model": name})
	}
	c.model, c.modelArg = m, name
	return nil
}

func (c *chatCall) contextWindow() int {
	if c.model.ContextWindow > 0 {
		return c.model.ContextWindow
	}
	return defaultContextSize
}

// checkImagesOnHost checks that the model takes images and that every image path is
// readable under the host's policy, and bounds the images' total size.
func (c *chatCall) checkImagesOnHost() *pal.Result {
	if len(c.args.Images) == 0 {
		return nil
	}
	if !c.model.SupportsImages {
		return chatError(pal.FailInvalidArguments, fmt.Sprintf("Model '%s' does not accept images. Choose a model that does (see listmodels), or send the request without images.", c.model.Model))
	}
	var total int64
	for _, img := range c.args.Images {
		n, _ := checkImage(img)
		total += int64(n)
		if strings.HasPrefix(img, "data:") {
			continue
		}
		info, _, err := pal.ReadFile(img, 1)
		if err != nil {
			return refused(img, err)
		}
		total += info.Size
	}
	if total > maxImageBytes {
		return chatError(pal.FailTooLarge, fmt.Sprintf("The images add up to %.1f MB; at most %d MB are accepted per request.", float64(total)/(1<<20), maxImageBytes>>20))
	}
	return nil
}

// refused is the reply when the host refuses a path: the whole call fails, naming the
// path, before any model call.
func refused(p string, err error) *pal.Result {
	return chatError(pal.FailureCode(err), fmt.Sprintf("Cannot use %s: %s. Nothing was sent to the model; remove or fix this path and try again.", p, refusalReason(err)))
}

// refusalReason says why the host refused a path.
func refusalReason(err error) string {
	var he *pal.HostError
	why := err.Error()
	if errors.As(err, &he) {
		switch he.Code {
		case pal.CodeDenied:
			why = "access denied by the server's file policy"
		case pal.CodeNotGranted:
			why = "this tool is not granted file access in pal.toml"
		case pal.CodeNotFound:
			why = "no such file or directory"
		case pal.CodeTooLarge:
			why = "the file is larger than the server's per-file limit"
		default:
			why = string(he.Code)
		}
		if he.Message != "" {
			why += " (" + he.Message + ")"
		}
	}
	return why
}

// hostMessage is the user-facing text of a host error.
func hostMessage(err error) string {
	var he *pal.HostError
	if errors.As(err, &he) && he.Message != "" {
		return he.Message
	}
	return err.Error()
}

// readFiles reads paths in order, expanding directories to their source files. A path
// the host refuses fails the call. Once ceiling bytes have been read, further files are
// only checked (a one-byte read) and listed as skipped.
func (c *chatCall) readFiles(paths []string, explicit bool, ceiling int64) *pal.Result {
	for _, p := range paths {
		if _, seen := c.cache[p]; seen {
			continue
		}
		if c.read >= ceiling {
			if _, _, err := pal.ReadFile(p, 1); err != nil && !pal.IsDirectory(err) {
				return refused(p, err)
			}
			c.skipped = append(c.skipped, p)
			continue
		}
		info, body, err := pal.ReadFile(p, 0)
		switch {
		case err == nil:
			c.add(p, info, body, explicit)
		case pal.IsDirectory(err):
			if r := c.readDir(p, explicit, ceiling); r != nil {
				return r
			}
		default:
			return refused(p, err)
		}
	}
	return nil
}

// readDir reads the source files the host lists under dir.
func (c *chatCall) readDir(dir string, explicit bool, ceiling int64) *pal.Result {
	list, err := pal.ListDir(dir, 0, 0)
	if err != nil {
		return refused(dir, err)
	}
	if list.Truncated {
		c.listCut = append(c.listCut, dir)
	}
	for _, e := range list.Entries {
		if e.Kind != "file" || !embed.IsCodeFile(e.Path) {
			continue
		}
		if _, seen := c.cache[e.Path]; seen {
			continue
		}
		if e.Size > c.info.Limits.MaxFileBytes {
			c.tooLarge = append(c.tooLarge, e.Path)
			continue
		}
		if c.read+e.Size > ceiling {
			c.skipped = append(c.skipped, e.Path)
			continue
		}
		info, body, err := pal.ReadFile(e.Path, 0)
		if err != nil {
			return refused(e.Path, err)
		}
		c.add(e.Path, info, body, explicit)
	}
	return nil
}

func (c *chatCall) add(p string, info pal.FileInfo, body []byte, explicit bool) {
	f := &fileData{path: p, text: embed.Normalize(body), size: info.Size, info: info, explicit: explicit}
	c.cache[p] = f
	c.read += int64(len(f.text))
	c.files = append(c.files, f)
}

// Size implements history.FileSource: files of this call from the cache, others probed
// with a one-byte read.
func (c *chatCall) Size(p string) (int64, bool) {
	if f, ok := c.cache[p]; ok {
		return f.size, true
	}
	info, _, err := pal.ReadFile(p, 1)
	if err != nil {
		pal.Logf(pal.LevelDebug, "chat: history file left out: %v", err)
		return 0, false
	}
	return info.Size, true
}

// Read implements history.FileSource.
func (c *chatCall) Read(p string) (string, time.Time, bool) {
	if f, ok := c.cache[p]; ok {
		return f.text, f.info.Modified, true
	}
	info, body, err := pal.ReadFile(p, 0)
	if err != nil {
		pal.Logf(pal.LevelDebug, "chat: history file left out: %v", err)
		return "", time.Time{}, false
	}
	f := &fileData{path: p, text: embed.Normalize(body), size: info.Size, info: info}
	c.cache[p] = f
	c.read += int64(len(f.text))
	return f.text, info.Modified, true
}
