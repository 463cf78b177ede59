// Package promptlimit is PAL's prompt-size rule, once for every tool: text a client puts in
// a tool argument may hold at most the host's limits.prompt_chars characters (PAL's
// MCP_PROMPT_SIZE_LIMIT; exactly the limit passes). Over it the tool answers isError with
// status resend_prompt and tells the client how to send the text again:
//
//   - a tool with a prompt and a file list (chat, clink): write the text to a file named
//     prompt.txt and pass its path in the file list; the file's contents replace the prompt
//     and the file is not shared as a file (Split, Read);
//   - a workflow tool: a short step, the detail in a file listed in relevant_files, which the
//     expert reads as a file;
//   - a tool with neither (challenge, apilookup, planner): a shorter text.
//
// The contents of prompt.txt are not held to the limit: the file route exists because the
// tool-argument route is too small (its size is bounded by the host's per-file cap).
package promptlimit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
)

// FileName is the base name of the file that carries a prompt too long for an argument.
const FileName = "prompt.txt"

// Status is the status of the reply asking for the text again.
const Status = "resend_prompt"

// DefaultChars is the limit when the host does not say (PAL's default).
const DefaultChars = 60_000

// Rule is where a tool takes client text and how it can be sent again.
type Rule struct {
	Field string // the argument checked: "prompt", "step"
	// PromptFiles names the file-list argument whose prompt.txt replaces Field (chat's
	// absolute_file_paths); "" when the tool has none.
	PromptFiles string
	// DetailFiles names the file-list argument that can carry the detail as a file
	// (relevant_files); used when PromptFiles is "".
	DetailFiles string
}

// Check returns the resend_prompt isError reply when text is longer than limit characters
// (limit <= 0: DefaultChars), else nil.
func (r Rule) Check(text string, limit int) *pal.Result {
	if limit <= 0 {
		limit = DefaultChars
	}
	n := utf8.RuneCountInString(text)
	if n <= limit {
		return nil
	}
	msg := r.Instructions(limit)
	res, err := pal.JSONErrorResult(map[string]any{"status": Status, "code": pal.FailPromptTooLong, "content": msg, "content_type": "text",
		"metadata": map[string]any{"field": r.Field, "prompt_size": n, "limit": limit, "instructions": msg}, "continuation_offer": nil})
	if err != nil {
		return pal.ErrorResult(msg)
	}
	return res
}

// Instructions tells the client how to send the text again.
func (r Rule) Instructions(limit int) string {
	head := fmt.Sprintf("ACTION REQUIRED: %s is longer than the %d characters a tool argument may carry. ", r.Field, limit)
	switch {
	case r.PromptFiles != "":
		return head + fmt.Sprintf("Write the full text to a file named '%s', then call this tool again with the absolute path of that file "+
			"in %s and %s empty or a one-line summary. The contents of %s replace %s.", FileName, r.PromptFiles, r.Field, FileName, r.Field)
	case r.DetailFiles != "":
		return head + fmt.Sprintf("Call again with a short %s and put the detail in a file whose absolute path you list in %s.", r.Field, r.DetailFiles)
	}
	return head + fmt.Sprintf("Call again with a shorter %s: summarise, or split the work over several calls.", r.Field)
}

// Split takes the prompt.txt files out of a path list: files keeps the others in order.
func Split(paths []string) (files, prompts []string) {
	for _, p := range paths {
		if baseName(p) == FileName {
			prompts = append(prompts, p)
		} else {
			files = append(files, p)
		}
	}
	return files, prompts
}

// FileError is a prompt file that could not be read.
type FileError struct {
	Path string
	Err  error // from pal.ReadFile: a *pal.HostError
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Read returns the prompt the files give (capability fs.read): the contents of the last
// prompt file with text, normalised (UTF-8, LF), or prompt when none has any. A file that
// cannot be read is a *FileError.
func Read(prompt string, files []string) (string, error) {
	for _, p := range files {
		_, body, err := pal.ReadFile(p, 0)
		if err != nil {
			return "", &FileError{Path: p, Err: err}
		}
		if text := embed.Normalize(body); strings.TrimSpace(text) != "" {
			prompt = text
		}
	}
	return prompt, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
