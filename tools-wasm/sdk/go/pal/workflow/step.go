package workflow

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

// Issue is one problem found during a run.
type Issue struct {
	Severity    string `json:"severity"` // critical, high, medium or low
	Description string `json:"description"`
	Type        string `json:"type,omitempty"`     // a tool's own classification (refactor: codesmells …)
	Location    string `json:"location,omitempty"` // file:line or symbol, when given
}

// Step is one step of a run, as the agent sent it. The fields a step records in the
// thread are tagged; the call settings below them are not recorded.
type Step struct {
	Step             string                     `json:"step"`
	StepNumber       int                        `json:"step_number"`
	TotalSteps       int                        `json:"total_steps"`
	NextStepRequired bool                       `json:"next_step_required"`
	Findings         string                     `json:"findings,omitempty"`
	FilesChecked     []string                   `json:"files_checked,omitempty"`
	RelevantFiles    []string                   `json:"relevant_files,omitempty"`
	RelevantContext  []string                   `json:"relevant_context,omitempty"`
	IssuesFound      []Issue                    `json:"issues_found,omitempty"`
	Confidence       string                     `json:"confidence,omitempty"`
	Hypothesis       string                     `json:"hypothesis,omitempty"`
	Images           []string                   `json:"images,omitempty"`
	Extra            map[string]json.RawMessage `json:"extra,omitempty"` // the tool's own Fields, as sent

	UseAssistantModel *bool  `json:"-"` // nil: true
	ContinuationID    string `json:"-"`
	Model             string `json:"-"`
	ThinkingMode      string `json:"-"`
}

// DecodeExtra decodes the tool's own fields of the step into v, a pointer to a struct
// whose json tags name them. Fields the step did not send keep their values.
func (s *Step) DecodeExtra(v any) error {
	if len(s.Extra) == 0 {
		return nil
	}
	raw, err := json.Marshal(s.Extra)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// UsesExpert reports whether the agent left use_assistant_model at its default (true).
func (s *Step) UsesExpert() bool { return s.UseAssistantModel == nil || *s.UseAssistantModel }

// ErrInvalidArguments wraps every refusal of a step's arguments. It is pal.ErrInvalidArguments,
// so the caller gets code invalid_arguments.
var ErrInvalidArguments = pal.ErrInvalidArguments

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArguments, fmt.Sprintf(format, args...))
}

// The types a step's call decodes and records, prepared in the snapshot (pal.PrepareJSON).
func init() {
	pal.PrepareJSON(wireStep{}, record{Step: &Step{}}, map[string]any{}, map[string]json.RawMessage{})
}

// wireStep is the decoding form of the common fields: pointers tell missing from zero.
type wireStep struct {
	Step              *string  `json:"step"`
	StepNumber        *int     `json:"step_number"`
	TotalSteps        *int     `json:"total_steps"`
	NextStepRequired  *bool    `json:"next_step_required"`
	Findings          *string  `json:"findings"`
	FilesChecked      []string `json:"files_checked"`
	RelevantFiles     []string `json:"relevant_files"`
	RelevantContext   []string `json:"relevant_context"`
	IssuesFound       []Issue  `json:"issues_found"`
	Confidence        string   `json:"confidence"`
	Hypothesis        string   `json:"hypothesis"`
	UseAssistantModel *bool    `json:"use_assistant_model"`
	ContinuationID    string   `json:"continuation_id"`
	Images            []string `json:"images"`
	Model             string   `json:"model"`
	ThinkingMode      string   `json:"thinking_mode"`
}

var dataURL = regexp.MustCompile(`^data:image/(png|jpeg|jpg|gif|webp);base64,`)

// IsAbsolute reports whether p is an absolute path: POSIX ("/…"), a Windows drive
// ("C:\…", "C:/…") or a UNC share ("\\server\…"). The guest cannot expand "~".
func IsAbsolute(p string) bool {
	switch {
	case strings.HasPrefix(p, "/"), strings.HasPrefix(p, `\\`):
		return true
	case len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'):
		c := p[0] | 0x20
		return c >= 'a' && c <= 'z'
	}
	return false
}

// leftOutPALFields are PAL workflow fields that pal's schemas leave out to keep tools/list
// short: bookkeeping a PAL-trained client still sends, and images where no model would see
// them (tracer: PAL takes them and never sends them). When a tool's schema does not list one,
// it is accepted and ignored rather than refused, so such a client does not fail a step.
// Every other unknown argument is refused.
var leftOutPALFields = []string{FieldFilesChecked, FieldRelevantContext, FieldImages, "temperature"}

// decode reads and checks the arguments of one step.
func (t *Tool) decode(raw json.RawMessage) (*Step, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil || all == nil {
		return nil, invalidf("the arguments must be a JSON object")
	}
	common := map[string]json.RawMessage{}
	extra := map[string]json.RawMessage{}
	var unknown []string
	for k, v := range all {
		switch {
		case !t.has(k):
			if slices.Contains(leftOutPALFields, k) {
				continue // accepted and not used; see leftOutPALFields
			}
			unknown = append(unknown, k)
		case isCommon(k):
			common[k] = v
		default:
			extra[k] = v
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, invalidf("unknown argument(s) %s; %s accepts only the fields of its schema", strings.Join(unknown, ", "), t.Name)
	}
	b, _ := json.Marshal(common)
	dec := json.NewDecoder(bytes.NewReader(b))
	var w wireStep
	if err := dec.Decode(&w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, invalidf("argument %s has the wrong type (%s)", te.Field, te.Value)
		}
		return nil, invalidf("%v", err)
	}
	for _, f := range t.fields() {
		if f.Required {
			if _, ok := all[f.Name]; !ok {
				return nil, invalidf("%s is required", f.Name)
			}
		}
	}
	s := &Step{Extra: extra, UseAssistantModel: w.UseAssistantModel, ContinuationID: w.ContinuationID, Model: w.Model,
		ThinkingMode: w.ThinkingMode, FilesChecked: w.FilesChecked, RelevantFiles: w.RelevantFiles,
		RelevantContext: w.RelevantContext, IssuesFound: w.IssuesFound, Confidence: w.Confidence, Hypothesis: w.Hypothesis, Images: w.Images}
	if len(s.Extra) == 0 {
		s.Extra = nil
	}
	deref(&s.Step, w.Step)
	deref(&s.StepNumber, w.StepNumber)
	deref(&s.TotalSteps, w.TotalSteps)
	deref(&s.NextStepRequired, w.NextStepRequired)
	deref(&s.Findings, w.Findings)
	if err := t.check(s); err != nil {
		return nil, err
	}
	return s, nil
}

func deref[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}

// check validates a decoded step and fills defaults.
func (t *Tool) check(s *Step) error {
	if s.StepNumber < 1 {
		return invalidf("step_number must be 1 or more, not %d", s.StepNumber)
	}
	if s.TotalSteps < 1 {
		s.TotalSteps = 1
	}
	if s.StepNumber > s.TotalSteps {
		s.TotalSteps = s.StepNumber // the agent found more work than it planned
	}
	if strings.TrimSpace(s.Step) == "" && t.has(FieldStep) {
		return invalidf("step is empty: describe what this step does")
	}
	if t.has(FieldConfidence) {
		if s.Confidence == "" {
			s.Confidence = t.defaultConfidence()
		}
		if !slices.Contains(t.confidenceLevels(), s.Confidence) {
			return invalidf("confidence must be one of %s, not %q", strings.Join(t.confidenceLevels(), ", "), s.Confidence)
		}
	}
	switch s.ThinkingMode {
	case "", "minimal", "low", "medium", "high", "max":
	default:
		return invalidf("thinking_mode must be one of minimal, low, medium, high, max, not %q", s.ThinkingMode)
	}
	for _, list := range [][]string{s.FilesChecked, s.RelevantFiles} {
		for _, p := range list {
			if !IsAbsolute(p) {
				return invalidf("all file paths must be absolute; got %q", p)
			}
		}
	}
	for _, f := range t.Fields {
		if raw, ok := s.Extra[f.Name]; ok {
			if err := checkValue(f, raw); err != nil {
				return err
			}
		}
	}
	for _, name := range t.PathFields {
		var v any
		if raw, ok := s.Extra[name]; ok && json.Unmarshal(raw, &v) == nil {
			for _, p := range pathsOf(v) {
				if !IsAbsolute(p) {
					return invalidf("%s must hold absolute paths; got %q", name, p)
				}
			}
		}
	}
	for i, is := range s.IssuesFound {
		if !slices.Contains([]string{"critical", "high", "medium", "low"}, strings.ToLower(is.Severity)) {
			return invalidf("issues_found[%d].severity must be critical, high, medium or low, not %q", i, is.Severity)
		}
		if strings.TrimSpace(is.Description) == "" {
			return invalidf("issues_found[%d] needs a description", i)
		}
		s.IssuesFound[i].Severity = strings.ToLower(is.Severity)
	}
	if len(s.Images) > maxImages {
		return invalidf("too many images: %d given, at most %d", len(s.Images), maxImages)
	}
	for _, img := range s.Images {
		if err := checkImage(img); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tool) defaultConfidence() string {
	if t.DefaultConfidence != "" {
		return t.DefaultConfidence
	}
	return Low
}

func pathsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

const maxImages = 5

func checkImage(img string) error {
	if strings.HasPrefix(img, "data:") {
		m := dataURL.FindStringIndex(img)
		if m == nil {
			return invalidf("image data URLs must be data:image/<png|jpeg|gif|webp>;base64,<data>")
		}
		if data, err := base64.StdEncoding.DecodeString(img[m[1]:]); err != nil || len(data) == 0 {
			return invalidf("an image data URL does not hold valid base64 data")
		}
		return nil
	}
	if !IsAbsolute(img) {
		return invalidf("image paths must be absolute; got %q", img)
	}
	return nil
}

// checkValue checks an own field's value against the "type" and "enum" of its schema (the
// server checks the whole schema too; the guest must not rely on it). null is refused.
func checkValue(f Field, raw json.RawMessage) error {
	var sch struct {
		Type  string            `json:"type"`
		Enum  []json.RawMessage `json:"enum"`
		Items *struct {
			Type string `json:"type"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(f.Schema), &sch); err != nil {
		return invalidf("%s: the tool's schema is broken", f.Name)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return invalidf("argument %s is not valid JSON", f.Name)
	}
	if sch.Type != "" && !hasType(v, sch.Type) {
		return invalidf("argument %s must be of type %s", f.Name, sch.Type)
	}
	if arr, ok := v.([]any); ok && sch.Items != nil && sch.Items.Type != "" {
		for i, e := range arr {
			if !hasType(e, sch.Items.Type) {
				return invalidf("argument %s[%d] must be of type %s", f.Name, i, sch.Items.Type)
			}
		}
	}
	if len(sch.Enum) > 0 {
		var allowed []string
		for _, e := range sch.Enum {
			var ev any
			_ = json.Unmarshal(e, &ev)
			if ev == v {
				return nil
			}
			allowed = append(allowed, strings.Trim(string(e), `"`))
		}
		return invalidf("%s must be one of %s, not %s", f.Name, strings.Join(allowed, ", "), raw)
	}
	return nil
}

// hasType reports whether a decoded JSON value has JSON Schema type typ.
func hasType(v any, typ string) bool {
	switch x := v.(type) {
	case string:
		return typ == "string"
	case bool:
		return typ == "boolean"
	case float64:
		return typ == "number" || (typ == "integer" && x == float64(int64(x)))
	case []any:
		return typ == "array"
	case map[string]any:
		return typ == "object"
	}
	return false // null
}
