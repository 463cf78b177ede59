package hostfns

import (
	"context"
	"errors"
	"time"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/runtime/abi"
)

// fsRead returns a file's bytes as the reply body, under the path policy.
func fsRead(_ context.Context, c *Call, req abi.FSReadRequest, _ []byte) (outcome, error) {
	if req.Path == "" {
		return outcome{}, refusal(abi.RefuseNoPath(abi.OpFSRead))
	}
	if req.MaxBytes < 0 {
		return outcome{}, fail(abi.CodeInvalid, "max_bytes must not be negative")
	}
	if c.paths == nil {
		return outcome{}, refusal(abi.RefuseNoFileAccess())
	}
	// The byte budget left caps this read: a larger file comes back cut, marked truncated.
	maxBytes, err := c.readRoom(req.MaxBytes)
	if err != nil {
		return outcome{path: req.Path}, err
	}
	data, info, err := c.paths.ReadFile(req.Path, maxBytes)
	if err != nil {
		return outcome{path: req.Path}, pathError(err)
	}
	if data == nil {
		data = []byte{}
	}
	if err := c.spendRead(int64(len(data))); err != nil {
		return outcome{path: req.Path}, err
	}
	read := int64(len(data))
	var rep secrets.Report
	if c.env.Secrets != nil {
		var clean string
		if clean, rep = c.env.Secrets.RedactFile(info.Rel, string(data)); rep.Count > 0 {
			data = []byte(clean)
		}
	}
	return outcome{
		result: abi.FSReadResult{Path: info.Path, Size: info.Size, Modified: info.Modified.UTC().Truncate(time.Second), Truncated: info.Truncated,
			Redacted: rep.Count},
		body:     data,
		root:     info.Root,
		path:     info.Rel,
		bytes:    read,
		redacted: rep,
	}, nil
}

// fsList walks a directory under the path policy.
func fsList(_ context.Context, c *Call, req abi.FSListRequest, _ []byte) (outcome, error) {
	if req.Path == "" {
		return outcome{}, refusal(abi.RefuseNoPath(abi.OpFSList))
	}
	if c.paths == nil {
		return outcome{}, refusal(abi.RefuseNoFileAccess())
	}
	entries, truncated, err := c.paths.List(req.Path, policy.ListOptions{MaxDepth: req.MaxDepth, MaxEntries: req.MaxEntries})
	if err != nil {
		return outcome{path: req.Path}, pathError(err)
	}
	listed := make([]abi.DirEntry, 0, len(entries))
	for _, e := range entries {
		listed = append(listed, abi.DirEntry{Path: e.Path, Kind: e.Kind, Size: e.Size})
	}
	return outcome{
		result: abi.FSListResult{Path: req.Path, Entries: listed, Truncated: truncated},
		path:   req.Path,
		bytes:  int64(len(entries)),
	}, nil
}

// readRoom is how many bytes one more read may take: want (0 or less: no cap of its own) cut
// to what is left of limits.read_bytes. With no file or no byte left it is over_budget.
func (c *Call) readRoom(want int64) (int64, error) {
	if c.budget.remaining(budgetReadFiles) < 1 {
		return 0, c.budget.spend(budgetReadFiles, 1)
	}
	left := c.budget.remaining(budgetReadBytes)
	if left < 1 {
		return 0, c.budget.spend(budgetReadBytes, 1)
	}
	if want <= 0 || want > left {
		return left, nil
	}
	return want, nil
}

// spendRead counts one file of n bytes read against the call's budgets.
func (c *Call) spendRead(n int64) error {
	if err := c.budget.spend(budgetReadFiles, 1); err != nil {
		return err
	}
	return c.budget.spend(budgetReadBytes, n)
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
