package pal

import (
	"encoding/json"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

// PrepareJSON encodes each value once, so that encoding/json builds its per-type state (the
// fields of every struct type reachable from the value's type, and their encoders) now rather
// than in a call. Call it from init with the types a handler decodes its arguments into and
// encodes its results from.
//
// Why: the host starts every instance of a module from a copy of its memory taken after init
// (docs/abi.md, "Instances"), so what init builds is there in every call, and what a call
// builds is lost with its instance. encoding/json builds a struct type's state the first time
// it meets the type, which in wasm costs about 0.1 to 0.5 ms per type, in every call that
// uses the type. The kit prepares the ABI's own messages (preparedABI); a module prepares its
// own types. Values whose types encoding/json cannot encode are skipped. Only the static
// types are prepared: the dynamic type of an interface field (map[string]any, any) is met
// when a call fills it.
func PrepareJSON(values ...any) {
	for _, v := range values {
		_, _ = json.Marshal(v)
	}
}

// preparedABI is every message of the ABI the kit encodes or decodes: the handle request,
// the result, the reply and its error, and each op's request and result. Their nested types
// (Turn, Usage, Content, ...) are prepared with them. TestPreparedABI checks that the list
// names every Request and Result type of package abi.
var preparedABI = []any{
	abi.HandleRequest{}, abi.Result{}, abi.Reply{}, abi.Error{}, abi.Request{},
	abi.FSReadRequest{}, abi.FSReadResult{}, abi.FSListRequest{}, abi.FSListResult{},
	abi.ModelResolveRequest{}, abi.ModelResolveResult{}, abi.ModelGenerateRequest{}, abi.ModelGenerateResult{},
	abi.ModelListRequest{}, abi.ModelListResult{},
	abi.ThreadCreateRequest{}, abi.ThreadCreateResult{}, abi.ThreadReadRequest{}, abi.ThreadReadResult{},
	abi.ThreadAppendRequest{}, abi.ThreadAppendResult{},
	abi.ProgressRequest{}, abi.HostInfoRequest{}, abi.HostInfoResult{},
	abi.GitStatusRequest{}, abi.GitStatusResult{}, abi.GitDiffRequest{}, abi.GitDiffResult{},
	abi.GitLogRequest{}, abi.GitLogResult{}, abi.CLIListRequest{}, abi.CLIListResult{},
	abi.CLIRunRequest{}, abi.CLIRunResult{},
	ContinuationOffer{},
}

func init() { PrepareJSON(preparedABI...) }
