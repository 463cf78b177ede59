package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Field is one property of a tool's input schema.
type Field struct {
	Name string
	// Schema is the JSON Schema of the value without its description, such as
	// `{"type":"string","enum":["a","b"]}`.
	Schema      string
	Description string
	Required    bool
}

// Confidence levels of the common `confidence` field, from least to most sure.
const (
	Exploring     = "exploring"
	Low           = "low"
	Medium        = "medium"
	High          = "high"
	VeryHigh      = "very_high"
	AlmostCertain = "almost_certain"
	Certain       = "certain"
)

// ConfidenceLevels is the default enum of `confidence`, in order.
var ConfidenceLevels = []string{Exploring, Low, Medium, High, VeryHigh, AlmostCertain, Certain}

// Names of the common fields.
const (
	FieldStep              = "step"
	FieldStepNumber        = "step_number"
	FieldTotalSteps        = "total_steps"
	FieldNextStepRequired  = "next_step_required"
	FieldFindings          = "findings"
	FieldFilesChecked      = "files_checked"
	FieldRelevantFiles     = "relevant_files"
	FieldRelevantContext   = "relevant_context"
	FieldIssuesFound       = "issues_found"
	FieldConfidence        = "confidence"
	FieldHypothesis        = "hypothesis"
	FieldUseAssistantModel = "use_assistant_model"
	FieldContinuationID    = "continuation_id"
	FieldImages            = "images"
	FieldModel             = "model"
	FieldThinkingMode      = "thinking_mode"
)

const stringList = `{"type":"array","items":{"type":"string"}}`

// commonFields are the step fields every workflow tool shares, in schema order. A tool
// changes a description with Tool.Describe and drops a field with Tool.Omit.
var commonFields = []Field{
	{FieldStep, `{"type":"string"}`, "This step's work; on step 1, the task.", true},
	{FieldStepNumber, `{"type":"integer"}`, "From 1.", true},
	{FieldTotalSteps, `{"type":"integer"}`, "Estimate; may change.", true},
	{FieldNextStepRequired, `{"type":"boolean"}`, "false on the last step.", true},
	{FieldFindings, `{"type":"string"}`, "What this step found.", true},
	{FieldFilesChecked, stringList, "Absolute paths examined.", false},
	{FieldRelevantFiles, stringList, "Absolute paths that matter.", false},
	{FieldRelevantContext, stringList, "Key functions or methods.", false},
	{FieldIssuesFound, `{"type":"array","items":{"type":"object"}}`, "[{severity: critical|high|medium|low, description}]", false},
	{FieldConfidence, "", "Your certainty now.", false},
	{FieldHypothesis, `{"type":"string"}`, "Current best explanation.", false},
	{FieldUseAssistantModel, `{"type":"boolean"}`, "false: no expert call.", false},
	{FieldContinuationID, `{"type":"string"}`, "From a reply.", false},
	{FieldImages, stringList, "Image paths/data URLs.", false},
	{FieldModel, `{"type":"string"}`, "Expert model (see listmodels).", false},
	{FieldThinkingMode, `{"type":"string","enum":["minimal","low","medium","high","max"]}`, "Expert reasoning depth.", false},
}

// isCommon reports whether name is a common field.
func isCommon(name string) bool {
	for _, f := range commonFields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// fields returns the tool's schema fields in order: the common ones it keeps, then its own.
func (t *Tool) fields() []Field {
	var out []Field
	for _, f := range commonFields {
		if slices.Contains(t.Omit, f.Name) {
			continue
		}
		if d, ok := t.Describe[f.Name]; ok {
			f.Description = d
		}
		if f.Name == FieldConfidence {
			enum, _ := json.Marshal(t.confidenceLevels())
			f.Schema = `{"type":"string","enum":` + string(enum) + `}`
		}
		out = append(out, f)
	}
	return append(out, t.Fields...)
}

// has reports whether the tool's schema has the field.
func (t *Tool) has(name string) bool {
	for _, f := range t.fields() {
		if f.Name == name {
			return true
		}
	}
	return false
}

func (t *Tool) confidenceLevels() []string {
	if len(t.Confidence) > 0 {
		return t.Confidence
	}
	return ConfidenceLevels
}

// Schema returns the tool's input schema: a JSON Schema object with additionalProperties
// false. It panics on a Field whose Schema is not a JSON object: a programming error.
func (t *Tool) Schema() json.RawMessage {
	props := map[string]any{}
	required := []string{}
	for _, f := range t.fields() {
		var s map[string]any
		if err := json.Unmarshal([]byte(f.Schema), &s); err != nil {
			panic(fmt.Sprintf("workflow: tool %s field %s: schema: %v", t.Name, f.Name, err))
		}
		if f.Description != "" {
			s["description"] = f.Description
		}
		props[f.Name] = s
		if f.Required {
			required = append(required, f.Name)
		}
	}
	out, err := json.Marshal(map[string]any{
		"type": "object", "properties": props, "required": required, "additionalProperties": false,
	})
	if err != nil {
		panic(fmt.Sprintf("workflow: tool %s: schema: %v", t.Name, err))
	}
	return out
}
