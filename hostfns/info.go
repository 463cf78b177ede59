package hostfns

import (
	"context"
	"unicode/utf8"

	"github.com/pal-mcp/pal/runtime/abi"
)

// maxProgressMessage caps a progress message (bytes).
const maxProgressMessage = 1024

func progressOp(_ context.Context, c *Call, req abi.ProgressRequest, _ []byte) (outcome, error) {
	if err := c.budget.spend(budgetProgress, 1); err != nil {
		return outcome{}, err
	}
	if req.Progress < 0 || req.Total < 0 {
		return outcome{}, fail(abi.CodeInvalid, "progress and total must not be negative")
	}
	if len(req.Message) > maxProgressMessage {
		cut := maxProgressMessage
		for cut > 0 && !utf8.RuneStart(req.Message[cut]) {
			cut-- // never split a character
		}
		req.Message = req.Message[:cut]
	}
	if c.progress != nil {
		c.progress(req.Progress, req.Total, req.Message)
	}
	return outcome{result: struct{}{}}, nil
}

func hostInfo(_ context.Context, c *Call, _ abi.HostInfoRequest, _ []byte) (outcome, error) {
	res := c.env.Info
	res.ABI, res.Client, res.Providers, res.ModelsAvailable = abi.Version, c.client, []string{}, 0
	if res.ContinuationTools == nil {
		res.ContinuationTools = []string{}
	}
	if c.env.Models != nil {
		res.Providers, res.ModelsAvailable = c.env.Models.Summary()
	}
	return outcome{result: res}, nil
}
