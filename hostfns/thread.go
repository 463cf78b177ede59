package hostfns

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/runtime/abi"
)

type threadCreateRequest struct {
	Op             string         `json:"op"`
	Tool           string         `json:"tool"`
	InitialContext map[string]any `json:"initial_context,omitempty"`
}

func threadCreate(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req threadCreateRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	if req.Tool == "" {
		req.Tool = c.tool
	}
	id, err := c.env.Threads.Create(req.Tool, req.InitialContext)
	if err != nil {
		return outcome{}, err
	}
	return outcome{result: map[string]string{"id": id}, path: id}, nil
}

type threadReadRequest struct {
	Op string `json:"op"`
	ID string `json:"id"`
}

func threadRead(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req threadReadRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	t, err := c.env.Threads.Get(req.ID)
	if err != nil {
		return outcome{}, threadError(req.ID, err)
	}
	return outcome{result: t, path: t.ID}, nil
}

type threadAppendRequest struct {
	Op    string        `json:"op"`
	ID    string        `json:"id"`
	Turns []memory.Turn `json:"turns"`
}

func threadAppend(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req threadAppendRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	for _, t := range req.Turns {
		if t.Role != "user" && t.Role != "assistant" {
			return outcome{}, fail(abi.CodeInvalid, "turn role must be \"user\" or \"assistant\", not %q", t.Role)
		}
	}
	n, err := c.env.Threads.Append(req.ID, req.Turns...)
	if err != nil {
		return outcome{}, threadError(req.ID, err)
	}
	return outcome{result: map[string]int{"turns": n, "remaining": c.env.Threads.MaxTurns() - n}, path: req.ID}, nil
}

func threadError(id string, err error) error {
	switch {
	case errors.Is(err, memory.ErrNotFound):
		return fail(abi.CodeNotFound, "conversation thread %q was not found or has expired", id)
	case errors.Is(err, memory.ErrTurnLimit), errors.Is(err, memory.ErrTooLarge):
		return fail(abi.CodeTooLarge, "%v", err)
	}
	return err
}
