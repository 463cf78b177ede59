package hostfns

import (
	"context"
	"encoding/json"

	"github.com/pal-mcp/pal/runtime/abi"
)

type progressRequest struct {
	Op       string  `json:"op"`
	Progress float64 `json:"progress"`
	Total    float64 `json:"total,omitempty"`
	Message  string  `json:"message,omitempty"`
}

// maxProgressMessage caps a progress message (bytes).
const maxProgressMessage = 1024

func progressOp(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req progressRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	if req.Progress < 0 || req.Total < 0 {
		return outcome{}, fail(abi.CodeInvalid, "progress and total must not be negative")
	}
	if len(req.Message) > maxProgressMessage {
		req.Message = req.Message[:maxProgressMessage]
	}
	if c.progress != nil {
		c.progress(req.Progress, req.Total, req.Message)
	}
	return outcome{result: struct{}{}}, nil
}

type hostInfoRequest struct {
	Op string `json:"op"`
}

type hostInfoResult struct {
	Info
	Providers       []string `json:"providers"`
	ModelsAvailable int      `json:"models_available"`
	Client          Client   `json:"client"`
}

func hostInfo(_ context.Context, c *Call, header json.RawMessage, _ []byte) (outcome, error) {
	var req hostInfoRequest
	if err := decode(header, &req); err != nil {
		return outcome{}, err
	}
	res := hostInfoResult{Info: c.env.Info, Client: c.client, Providers: []string{}}
	res.ABI = abi.Version
	if c.env.Models != nil {
		res.Providers, res.ModelsAvailable = c.env.Models.Summary()
	}
	return outcome{result: res}, nil
}
