package hostfns

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

type fsReadRequest struct {
	Op       string `json:"op"`
	Path     string `json:"path"`
	MaxBytes int64  `json:"max_bytes,omitempty"`
}

type fsReadResult struct {
	Path      string `json:"path"`
	Size      int64  `json:"size"`
	Modified  string `json:"modified"`
	Truncated bool   `json:"truncated"`
}

// fsRead returns a file's bytes as the reply body, under the path policy.
func fsRead(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req fsReadRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	if req.Path == "" {
		return outcome{}, fail(abi.CodeInvalid, "fs.read needs a path")
	}
	if req.MaxBytes < 0 {
		return outcome{}, fail(abi.CodeInvalid, "max_bytes must not be negative")
	}
	if c.env.Paths == nil {
		return outcome{}, fail(abi.CodeDenied, "no file access is configured")
	}
	data, info, err := c.env.Paths.ReadFile(req.Path, req.MaxBytes)
	if err != nil {
		return outcome{path: req.Path}, pathError(err)
	}
	if data == nil {
		data = []byte{}
	}
	return outcome{
		result: fsReadResult{Path: info.Path, Size: info.Size, Modified: info.Modified.UTC().Format(time.RFC3339), Truncated: info.Truncated},
		body:   data,
		root:   info.Root,
		path:   info.Rel,
		bytes:  int64(len(data)),
	}, nil
}

type fsListRequest struct {
	Op         string `json:"op"`
	Path       string `json:"path"`
	MaxDepth   int    `json:"max_depth,omitempty"`
	MaxEntries int    `json:"max_entries,omitempty"`
}

type fsListResult struct {
	Path      string         `json:"path"`
	Entries   []policy.Entry `json:"entries"`
	Truncated bool           `json:"truncated"`
}

// fsList walks a directory under the path policy.
func fsList(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req fsListRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	if req.Path == "" {
		return outcome{}, fail(abi.CodeInvalid, "fs.list needs a path")
	}
	if c.env.Paths == nil {
		return outcome{}, fail(abi.CodeDenied, "no file access is configured")
	}
	entries, truncated, err := c.env.Paths.List(req.Path, policy.ListOptions{MaxDepth: req.MaxDepth, MaxEntries: req.MaxEntries})
	if err != nil {
		return outcome{path: req.Path}, pathError(err)
	}
	if entries == nil {
		entries = []policy.Entry{}
	}
	return outcome{
		result: fsListResult{Path: req.Path, Entries: entries, Truncated: truncated},
		path:   req.Path,
		bytes:  int64(len(entries)),
	}, nil
}

// pathError maps a policy error to its ABI code, keeping the policy's message (which names the
// path and the rule, never contents).
func pathError(err error) error {
	code := abi.Code(policy.ErrorCode(err))
	if code == "" || code == abi.CodeInternal {
		var pe *policy.PathError
		if !errors.As(err, &pe) {
			return err // not a policy refusal: the caller logs it as internal
		}
		code = abi.CodeInternal
	}
	return &opError{code: code, msg: err.Error()}
}
