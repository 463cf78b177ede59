package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/pal-mcp/pal/internal/builtinwasm"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

// schemaModule is a module of one tool whose input schema is given; its calls return an empty result.
type schemaModule struct {
	schema  string
	invoked bool
}

func (m *schemaModule) Name() string { return "schema-test" }
func (m *schemaModule) Manifest() *abi.Manifest {
	return &abi.Manifest{Tools: []abi.ToolSpec{{Name: "t", Description: "a tool", InputSchema: json.RawMessage(m.schema)}}}
}
func (m *schemaModule) Invoke(context.Context, runtime.Call) (*abi.Result, runtime.Outcome, error) {
	m.invoked = true
	return &abi.Result{}, runtime.Outcome{}, nil
}
func (m *schemaModule) Warm(context.Context) error { return nil }

// badSchemas do not compile: a keyword of the wrong type (the metaschema refuses it) and a
// reference outside the schema (noLoader refuses it).
var badSchemas = map[string]string{
	"metaschema": `{"type":"object","properties":{"x":{"type":5}}}`,
	"external":   `{"type":"object","properties":{"x":{"$ref":"file:///etc/passwd"}}}`,
}

// TestBuiltinSchemaCompiledOnFirstCall: a built-in tool's input schema compiles on its first
// call, not in New; one that does not compile fails every call of the tool (bad_result, named
// in the message, audited, never run) and leaves the server up.
func TestBuiltinSchemaCompiledOnFirstCall(t *testing.T) {
	for name, schema := range badSchemas {
		t.Run(name, func(t *testing.T) {
			m := &schemaModule{schema: schema}
			audit := &policy.MemoryAuditor{}
			s, err := New(Options{Modules: []LoadedModule{{Module: m, Builtin: true}}, Env: testEnv(&fakeModels{}, audit)})
			if err != nil {
				t.Fatalf("New compiled the built-in schema: %v", err)
			}
			if _, ok := listTools(t, s)["t"]; !ok {
				t.Fatal("the tool is not listed")
			}
			for range 2 {
				text, isErr := callResult(t, s, "t", map[string]any{"x": 1})
				var out struct{ Code, Content string }
				if err := json.Unmarshal([]byte(text), &out); err != nil {
					t.Fatalf("%v: %s", err, text)
				}
				if !isErr || out.Code != abi.FailBadResult || !strings.Contains(out.Content, `tool "t" of schema-test: input schema: `) {
					t.Errorf("call: error %v, %+v", isErr, out)
				}
			}
			if m.invoked {
				t.Error("the tool ran without a schema")
			}
			recs := audit.Records()
			if len(recs) != 2 || recs[0].Decision != "error" || !strings.Contains(recs[0].Reason, "input schema") {
				t.Errorf("audit: %+v", recs)
			}
		})
	}
}

// TestModuleSchemaCompiledInNew: a schema of a module that is not built in still fails New,
// with the message it had when every schema compiled there.
func TestModuleSchemaCompiledInNew(t *testing.T) {
	for name, schema := range badSchemas {
		t.Run(name, func(t *testing.T) {
			_, err := New(Options{Modules: []LoadedModule{{Module: &schemaModule{schema: schema}}}, Env: testEnv(&fakeModels{}, &policy.MemoryAuditor{})})
			if !errors.Is(err, ErrInputSchema) || !strings.HasPrefix(err.Error(), `tool "t" of schema-test: input schema: `) {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// TestValidatorConcurrentFirstUse: calls arriving together compile the schema once and each
// validates its arguments (run with -race).
func TestValidatorConcurrentFirstUse(t *testing.T) {
	m := &schemaModule{schema: `{"type":"object","properties":{"x":{"type":"integer"}},"additionalProperties":false}`}
	s, err := New(Options{Modules: []LoadedModule{{Module: m, Builtin: true}}, Env: testEnv(&fakeModels{}, &policy.MemoryAuditor{})})
	if err != nil {
		t.Fatal(err)
	}
	tl := s.tools[0]
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			schema, err := tl.validator()
			if err == nil {
				err = tl.validate(schema, []byte(`{"x":"not a number"}`))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "x:") {
			t.Errorf("call %d: %v, want a problem with x", i, err)
		}
	}
}

// describer is a ModelDescriber in fixed or auto mode.
type describer bool

func (d describer) ModelFieldDescription() string { return "a model" }
func (d describer) AutoMode() bool                { return bool(d) }

// TestBuiltinSchemasCompile: every input schema of the built-in module (the manifest this
// binary carries), as published in either model mode, compiles, which New no longer checks
// for the built-in module.
func TestBuiltinSchemasCompile(t *testing.T) {
	_, raw, ok := builtinwasm.Manifest()
	if !ok {
		t.Fatal("no built-in manifest")
	}
	var man abi.Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Tools) == 0 {
		t.Fatal("no tools")
	}
	for _, auto := range []bool{false, true} {
		m := &manifestModule{man: &man}
		s, err := New(Options{Modules: []LoadedModule{{Module: m, Builtin: true}}, Models: describer(auto), Env: testEnv(&fakeModels{}, &policy.MemoryAuditor{})})
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range s.tools {
			if _, err := tl.validator(); err != nil {
				t.Errorf("auto %v: %v", auto, err)
			}
		}
		if len(s.tools) != len(man.Tools) {
			t.Errorf("%d tools published of %d", len(s.tools), len(man.Tools))
		}
	}
}

// manifestModule is a module with a given manifest that runs nothing.
type manifestModule struct{ man *abi.Manifest }

func (m *manifestModule) Name() string               { return "builtin" }
func (m *manifestModule) Manifest() *abi.Manifest    { return m.man }
func (m *manifestModule) Warm(context.Context) error { return nil }
func (m *manifestModule) Invoke(context.Context, runtime.Call) (*abi.Result, runtime.Outcome, error) {
	return nil, runtime.Outcome{}, errors.New("not run")
}

// TestCompileSchemas: the warm-up compiles the built-in tools' schemas ahead of their first
// call, only the module's it is given, nothing once its context is done, and a schema that
// does not compile still fails the tool's calls (the lazy path reports it).
func TestCompileSchemas(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		cancel       bool
		compiled     bool
	}{
		{"good", `{"type":"object","properties":{"x":{"type":"integer"}}}`, false, true},
		{"cancelled", `{"type":"object"}`, true, false},
		{"bad", badSchemas["metaschema"], false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &schemaModule{schema: tc.schema}
			s, err := New(Options{Modules: []LoadedModule{{Module: m, Builtin: true}}, Env: testEnv(&fakeModels{}, &policy.MemoryAuditor{})})
			if err != nil {
				t.Fatal(err)
			}
			tl := s.tools[0]
			if tl.schema != nil || tl.schemaErr != nil {
				t.Fatal("New compiled the built-in schema")
			}
			ctx, cancel := context.WithCancel(context.Background())
			s.CompileSchemas(ctx, &schemaModule{schema: tc.schema}) // another module's tools: none here
			if tl.schema != nil || tl.schemaErr != nil {
				t.Fatal("CompileSchemas compiled the schema of another module's tool")
			}
			if tc.cancel {
				cancel()
			}
			s.CompileSchemas(ctx, m)
			cancel()
			if got := tl.schema != nil; got != tc.compiled {
				t.Fatalf("compiled %v, want %v (err %v)", got, tc.compiled, tl.schemaErr)
			}
			_, isErr := callResult(t, s, "t", map[string]any{"x": 1})
			if isErr != (tc.name == "bad") || m.invoked == (tc.name == "bad") {
				t.Fatalf("call after CompileSchemas: isError %v, invoked %v", isErr, m.invoked)
			}
		})
	}
}
