package hostfns

import (
	"context"
	"errors"

	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/runtime/abi"
)

func threadCreate(_ context.Context, c *Call, req abi.ThreadCreateRequest, _ []byte) (outcome, error) {
	// The host, not the guest, says which tool started the thread: req.Tool is ignored.
	id, err := c.env.Threads.Create(c.principal, c.tool, req.InitialContext)
	if errors.Is(err, memory.ErrStorage) {
		c.env.logger().Error("conversation store write failed", "tool", c.tool, "call_id", c.callID, "err", err)
	}
	if err != nil {
		return outcome{}, threadError("", err)
	}
	return outcome{result: abi.ThreadCreateResult{ID: id}, path: id}, nil
}

func threadRead(_ context.Context, c *Call, req abi.ThreadReadRequest, _ []byte) (outcome, error) {
	t, err := c.env.Threads.Get(c.principal, req.ID)
	if errors.Is(err, memory.ErrStorage) {
		c.env.logger().Error("conversation store read failed", "tool", c.tool, "call_id", c.callID, "err", err)
	}
	if err != nil {
		return outcome{}, threadError(req.ID, err)
	}
	res := abi.ThreadReadResult{ID: t.ID, Tool: t.Tool, Created: t.Created, Updated: t.Updated, MaxTurns: t.MaxTurns,
		InitialContext: t.InitialContext, Turns: make([]abi.Turn, 0, len(t.Turns))}
	for _, turn := range t.Turns {
		res.Turns = append(res.Turns, abi.Turn(turn))
	}
	return outcome{result: res, path: t.ID}, nil
}

func threadAppend(_ context.Context, c *Call, req abi.ThreadAppendRequest, _ []byte) (outcome, error) {
	turns := make([]memory.Turn, 0, len(req.Turns))
	for _, t := range req.Turns {
		if t.Role != "user" && t.Role != "assistant" {
			return outcome{}, fail(abi.CodeInvalid, "turn role must be \"user\" or \"assistant\", not %q", t.Role)
		}
		turn := memory.Turn(t)
		turn.Tool = c.tool // the host records which tool wrote the turn, whatever the guest says
		turns = append(turns, turn)
	}
	n, err := c.env.Threads.Append(c.principal, req.ID, turns...)
	if errors.Is(err, memory.ErrStorage) {
		// The cause (a file system error naming the file) goes to the server log, not the tool.
		c.env.logger().Error("conversation store write failed", "tool", c.tool, "call_id", c.callID, "err", err)
	}
	if err != nil {
		return outcome{}, threadError(req.ID, err)
	}
	return outcome{result: abi.ThreadAppendResult{Turns: n, Remaining: c.env.Threads.MaxTurns() - n}, path: req.ID}, nil
}

func threadError(id string, err error) error {
	switch {
	case errors.Is(err, memory.ErrNotFound):
		return fail(abi.CodeNotFound, "conversation thread %q was not found or has expired", id)
	case errors.Is(err, memory.ErrTurnLimit), errors.Is(err, memory.ErrTooLarge):
		return fail(abi.CodeTooLarge, "%v", err)
	case errors.Is(err, memory.ErrStorage):
		return fail(abi.CodeUnavailable, "the conversation store is unavailable (see the server log); the thread is unchanged")
	}
	return err
}
