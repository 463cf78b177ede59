package abi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Manifest is what a module's describe export returns.
type Manifest struct {
	ABI     int        `json:"abi"`
	Name    string     `json:"name"`
	Version string     `json:"version,omitempty"`
	Tools   []ToolSpec `json:"tools"`
}

// ToolSpec describes one tool of a module.
type ToolSpec struct {
	Name          string          `json:"name"`
	Title         string          `json:"title,omitempty"`
	Description   string          `json:"description"`
	InputSchema   json.RawMessage `json:"inputSchema"`
	OutputSchema  json.RawMessage `json:"outputSchema,omitempty"`
	Annotations   Annotations     `json:"annotations"`
	Capabilities  []string        `json:"capabilities,omitempty"`
	Category      string          `json:"category,omitempty"`
	RequiresModel bool            `json:"requiresModel,omitempty"`
}

// Annotations are MCP tool hints. A nil hint is published as its safe reading.
type Annotations struct {
	ReadOnlyHint    *bool `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool `json:"openWorldHint,omitempty"`
}

// Capabilities of ABI 1, as named in manifests and pal.toml.
const (
	CapFSRead        = "fs.read"
	CapFSList        = "fs.list"
	CapModelGenerate = "model.generate"
	CapModelList     = "model.list"
	CapThreadRead    = "thread.read"
	CapThreadWrite   = "thread.write"
	CapProgress      = "progress"
	CapHostInfo      = "host.info"
	// CapGitRead reads git state (status, diffs, log) of repositories inside the roots.
	CapGitRead = "git.read"
	// CapCLIRun runs a program that pal.toml lists in a [[cli]] table; off while none is.
	CapCLIRun = "cli.run"
)

// KnownCapabilities lists every capability of ABI 1.
var KnownCapabilities = []string{CapFSRead, CapFSList, CapModelGenerate, CapModelList, CapThreadRead, CapThreadWrite, CapProgress, CapHostInfo,
	CapGitRead, CapCLIRun}

// Categories a tool may name for auto model selection.
var knownCategories = map[string]bool{"": true, "fast": true, "balanced": true, "extended": true}

var toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate checks a manifest: version, tool names, schemas, capabilities and categories. The
// error names the module and the offending tool.
func (m *Manifest) Validate() error {
	if m.ABI != Version {
		return fmt.Errorf("module %q speaks ABI %d; this host implements ABI %d", m.Name, m.ABI, Version)
	}
	if m.Name == "" {
		return fmt.Errorf("module manifest has no name")
	}
	if len(m.Tools) == 0 {
		return fmt.Errorf("module %q declares no tools", m.Name)
	}
	seen := map[string]bool{}
	known := map[string]bool{}
	for _, c := range KnownCapabilities {
		known[c] = true
	}
	for _, t := range m.Tools {
		if !toolName.MatchString(t.Name) {
			return fmt.Errorf("module %q: tool name %q must be 1-64 characters of [a-z0-9_] starting with a letter", m.Name, t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("module %q: tool %q declared twice", m.Name, t.Name)
		}
		seen[t.Name] = true
		var schema map[string]any
		if err := json.Unmarshal(t.InputSchema, &schema); err != nil || schema["type"] != "object" {
			return fmt.Errorf("module %q: tool %q: inputSchema must be a JSON object schema with \"type\": \"object\"", m.Name, t.Name)
		}
		if len(t.OutputSchema) > 0 {
			var out map[string]any
			if err := json.Unmarshal(t.OutputSchema, &out); err != nil {
				return fmt.Errorf("module %q: tool %q: outputSchema is not a JSON object", m.Name, t.Name)
			}
		}
		for _, c := range t.Capabilities {
			if !known[c] {
				return fmt.Errorf("module %q: tool %q asks for unknown capability %q", m.Name, t.Name, c)
			}
		}
		if !knownCategories[t.Category] {
			return fmt.Errorf("module %q: tool %q: unknown category %q (want fast, balanced or extended)", m.Name, t.Name, t.Category)
		}
	}
	return nil
}

// HandleRequest is the message the host passes to the handle export.
type HandleRequest struct {
	ABI       int             `json:"abi"`
	Tool      string          `json:"tool"`
	CallID    string          `json:"call_id"`
	Arguments json.RawMessage `json:"arguments"`
	// TimeoutMS is the time left for the call when the host wrote the request, in
	// milliseconds; 0 or absent: no deadline. The Go kit's handler context ends after it.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// Result is an MCP CallToolResult as a tool returns it from handle.
type Result struct {
	Content           []Content      `json:"content"`
	IsError           bool           `json:"isError,omitempty"`
	StructuredContent map[string]any `json:"structuredContent,omitempty"`
}

// Content is one content item of a Result.
type Content struct {
	Type     string            `json:"type"` // text, image, audio, resource
	Text     string            `json:"text,omitempty"`
	Data     string            `json:"data,omitempty"` // base64, for image and audio
	MIMEType string            `json:"mimeType,omitempty"`
	Resource *EmbeddedResource `json:"resource,omitempty"`
}

// EmbeddedResource is the resource of a "resource" content item.
type EmbeddedResource struct {
	URI      string `json:"uri"`
	MIMEType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     string `json:"blob,omitempty"` // base64
}

// Validate checks a result's content items: known types and the fields each type needs.
func (r *Result) Validate() error {
	if len(r.Content) == 0 && r.StructuredContent == nil {
		return errors.New("result has no content")
	}
	for i, c := range r.Content {
		switch c.Type {
		case "text":
		case "image", "audio":
			if c.Data == "" || c.MIMEType == "" {
				return fmt.Errorf("content[%d]: %s needs data and mimeType", i, c.Type)
			}
			if _, err := base64.StdEncoding.DecodeString(c.Data); err != nil {
				return fmt.Errorf("content[%d]: data is not base64", i)
			}
		case "resource":
			if c.Resource == nil || c.Resource.URI == "" {
				return fmt.Errorf("content[%d]: resource needs a uri", i)
			}
		default:
			return fmt.Errorf("content[%d]: unknown content type %q", i, c.Type)
		}
	}
	return nil
}

// ParseManifest decodes and validates a manifest as describe returned it: one JSON object,
// no unknown fields.
func ParseManifest(raw []byte) (*Manifest, error) {
	var man Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&man); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %v", err)
	}
	if err := man.Validate(); err != nil {
		return nil, err
	}
	return &man, nil
}

// ParseResult decodes and validates a handle result: a message with no body whose JSON is a
// CallToolResult with no unknown fields.
func ParseResult(raw []byte) (*Result, error) {
	header, body, err := Split(raw)
	if err != nil {
		return nil, err
	}
	if body != nil {
		return nil, errors.New("a result carries no body in ABI 1")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("result is not a CallToolResult: %v", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
