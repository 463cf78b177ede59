package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

// tool is one published tool.
type tool struct {
	module  Module
	spec    abi.ToolSpec
	grant   policy.CapSet
	mcpTool mcp.Tool

	// inputSchema is the published input schema; validator compiles it once. A built-in
	// module's schemas compile in the background warm-up (Server.CompileSchemas; for the lazy
	// Go module, once its first call has compiled it) or on the tool's first call, whichever
	// comes first (compiling the 18 of them took ~8 ms of every
	// start; docs/RATIONALE.md), other modules' in New, which a schema that does not compile
	// fails.
	inputSchema json.RawMessage
	schemaOnce  sync.Once
	schema      *jsonschema.Schema
	schemaErr   error
}

// ErrInputSchema means a tool's input schema does not compile: the server refuses to start
// with it, or, for a built-in tool (whose schemas the tests compile), every call of it fails.
var ErrInputSchema = errors.New("input schema")

func newTool(lm LoadedModule, spec abi.ToolSpec, p *policy.Config, models ModelDescriber) (*tool, error) {
	schema := spec.InputSchema
	if spec.RequiresModel && models != nil {
		var err error
		if schema, err = describeModelField(schema, models); err != nil {
			return nil, fmt.Errorf("tool %q: %w", spec.Name, err)
		}
	}
	mt := mcp.NewToolWithRawSchema(spec.Name, spec.Description, schema)
	// The title is published once, in annotations.title: clients of every protocol version
	// read it there (newer ones fall back to it when the top-level title is absent), and
	// tools/list has a token budget (TestToolsListTokenBudget).
	if len(spec.OutputSchema) > 0 {
		mt.RawOutputSchema = spec.OutputSchema
	}
	mt.Annotations = annotations(spec)
	t := &tool{module: lm.Module, spec: spec, grant: grantFor(p, spec, lm.Builtin), mcpTool: mt, inputSchema: schema}
	if !lm.Builtin {
		if _, err := t.validator(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// validator returns the compiled input schema, compiling it on first use; safe for
// concurrent use. Its error wraps ErrInputSchema and names the tool and module.
func (t *tool) validator() (*jsonschema.Schema, error) {
	t.schemaOnce.Do(func() {
		if t.schema, t.schemaErr = compileSchema(t.spec.Name, t.inputSchema); t.schemaErr != nil {
			t.schemaErr = fmt.Errorf("tool %q of %s: %w: %w", t.spec.Name, t.module.Name(), ErrInputSchema, t.schemaErr)
		}
	})
	return t.schema, t.schemaErr
}

// annotations publishes every hint MCP gives a meaning to, explicitly; a hint the module left
// out gets MCP's cautious default (not read-only, destructive, not idempotent, open world).
// destructiveHint and idempotentHint are "meaningful only when readOnlyHint == false" (MCP
// ToolAnnotations), so a read-only tool publishes neither: tools/list has a token budget
// (TestToolsListTokenBudget) and the two would say nothing.
func annotations(spec abi.ToolSpec) mcp.ToolAnnotation {
	pick := func(v *bool, def bool) *bool {
		if v != nil {
			b := *v
			return &b
		}
		return &def
	}
	a := spec.Annotations
	readOnly := pick(a.ReadOnlyHint, false)
	out := mcp.ToolAnnotation{Title: spec.Title, ReadOnlyHint: readOnly, OpenWorldHint: pick(a.OpenWorldHint, true)}
	if !*readOnly {
		// MCP's default: a tool that is not read-only may be destructive unless it says not.
		out.DestructiveHint = pick(a.DestructiveHint, true)
		out.IdempotentHint = pick(a.IdempotentHint, false)
	}
	return out
}

// describeModelField rewrites the `model` property's description with what is configured and
// allowed, and requires `model` in auto mode.
func describeModelField(schema json.RawMessage, models ModelDescriber) (json.RawMessage, error) {
	var doc map[string]any
	if err := json.Unmarshal(schema, &doc); err != nil {
		return nil, err
	}
	props, _ := doc["properties"].(map[string]any)
	field, ok := props["model"].(map[string]any)
	if !ok {
		return schema, nil
	}
	field["description"] = models.ModelFieldDescription()
	if models.AutoMode() {
		req, _ := doc["required"].([]any)
		has := false
		for _, r := range req {
			if r == "model" {
				has = true
			}
		}
		if !has {
			doc["required"] = append(req, "model")
		}
	}
	return json.Marshal(doc)
}

// noLoader refuses to load any schema from outside: a module's $ref must not make the host
// read a file or fetch a URL.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s: external references are not allowed", url)
}

// compileSchema compiles a tool's input schema for validating arguments.
func compileSchema(name string, schema json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	url := "urn:pal:tool:" + name
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// validate checks arguments against the tool's schema, which must have compiled (validator).
// The error lists each problem as `<where>: <what>`, in words a client can show to its user.
func (t *tool) validate(schema *jsonschema.Schema, args []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return errors.New("arguments are not valid JSON")
	}
	err = schema.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return err
	}
	var problems []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		msg := u.Error.String()
		if u.InstanceLocation != "" {
			msg = strings.TrimPrefix(u.InstanceLocation, "/") + ": " + msg
		}
		problems = append(problems, msg)
	}
	if len(problems) == 0 {
		return errors.New("arguments do not match the tool's schema")
	}
	return errors.New(strings.Join(problems, "; "))
}
