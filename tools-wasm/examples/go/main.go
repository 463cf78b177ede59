// Command todo is the "todo finder" example of the Go kit (docs/authoring.md): it lists the
// files under a directory (fs.list), reads each through the host (fs.read), collects the
// lines that hold TODO or FIXME, and asks a model to summarise them (model.generate).
// Everything it touches goes through the host, which checks the grant, the path policy and
// the budgets. It requires only the kit module, github.com/pal-mcp/pal/tools-wasm/sdk/go.
//
// Build (a WASI reactor; -trimpath and -buildvcs=false make the sha256 the same in any
// directory, for one Go version):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -o todo.wasm .
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

const (
	maxFiles     = 200        // files read at most
	maxLines     = 200        // TODO lines sent to the model at most
	maxFileBytes = 256 * 1024 // bytes read of each file
)

func init() {
	pal.SetModule("todo-finder", "0.1.0")
	pal.Register(pal.Tool{
		Name:        "todo_finder",
		Title:       "Find TODOs",
		Description: "Lists the files under a directory, collects their TODO and FIXME lines and asks a model to summarise them.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"path":{"type":"string","description":"absolute directory to search"},` +
			`"model":{"type":"string","description":"model for the summary"}},` +
			`"required":["path"],"additionalProperties":false}`),
		Annotations:   pal.Annotations{ReadOnly: true},
		Capabilities:  []string{pal.CapFSList, pal.CapFSRead, pal.CapModelGenerate, pal.CapProgress},
		Category:      "fast",
		RequiresModel: true,
		Handler:       findTodos,
	})
}

func findTodos(ctx context.Context, call *pal.Call, args json.RawMessage) (*pal.Result, error) {
	var in struct {
		Path  string `json:"path"`
		Model string `json:"model"`
	}
	if err := json.Unmarshal(args, &in); err != nil {
		return nil, err
	}
	listing, err := pal.ListDir(in.Path, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("fs.list %s refused: %w", in.Path, err)
	}
	var todos []string
	read, skipped := 0, 0
	for _, e := range listing.Entries {
		if e.Kind != "file" || read == maxFiles {
			continue
		}
		if err := ctx.Err(); err != nil { // the call was cancelled or ran out of time
			return nil, fmt.Errorf("stopped after reading %d files: %w", read, err)
		}
		_, data, err := pal.ReadFile(e.Path, maxFileBytes)
		if err != nil {
			// A denied file (a deny glob, a symlink out of the root) is skipped, and so is
			// one that cannot be read; the result says how many.
			pal.Logf(pal.LevelInfo, "skipped %s: %v", e.Path, err)
			skipped++
			continue
		}
		read++
		for n, line := range strings.Split(string(data), "\n") {
			if len(todos) < maxLines && (strings.Contains(line, "TODO") || strings.Contains(line, "FIXME")) {
				todos = append(todos, fmt.Sprintf("%s:%d: %s", e.Path, n+1, strings.TrimSpace(line)))
			}
		}
		pal.Progress(float64(read), 0, "read "+e.Path)
	}
	head := fmt.Sprintf("Read %d files, skipped %d, found %d TODO lines.", read, skipped, len(todos))
	if len(todos) == 0 {
		return pal.TextResult(head), nil
	}
	g, err := pal.Generate(pal.GenerateRequest{
		Model:  in.Model,
		System: "You summarise TODO comments for a developer: group them by theme, most urgent first, in a few lines.",
		Prompt: "TODO and FIXME lines found in " + in.Path + ":\n" + strings.Join(todos, "\n"),
	})
	if err != nil {
		return nil, fmt.Errorf("%s\nmodel.generate refused: %w", head, err)
	}
	return pal.TextResult(head + "\n\nSummary (" + g.Model + "):\n" + g.Content + "\n\n" + strings.Join(todos, "\n")), nil
}

func main() {}
