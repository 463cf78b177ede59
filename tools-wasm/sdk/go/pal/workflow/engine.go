package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/promptlimit"
)

// Tool is a workflow tool: its schema, its guidance and its prompts.
type Tool struct {
	Name        string // 1 to 64 of [a-z0-9_]
	Title       string
	Description string // short: the whole tools/list reply has a budget
	// Category picks the expert model in auto mode: "fast", "balanced" or "extended"
	// (the default).
	Category string

	// Omit drops common fields from the schema (Field* constants).
	Omit []string
	// Describe replaces the descriptions of common fields, by name.
	Describe map[string]string
	// Fields are the tool's own schema fields, after the common ones. Their values reach
	// the tool through Step.Extra / Step.DecodeExtra and are recorded with the step.
	Fields []Field
	// PathFields names own fields (string or array of strings) that must hold absolute
	// paths.
	PathFields []string
	// Confidence replaces the enum of `confidence` (default ConfidenceLevels);
	// DefaultConfidence is its value when a step leaves it out (default "low").
	Confidence        []string
	DefaultConfidence string

	// Names are the tool's status vocabulary; empty names take their defaults.
	Names Names

	// Validate checks a step beyond its schema, e.g. "step 1 needs relevant_files". The run
	// holds the steps before it and the step itself, last. An error refuses the call; the
	// step is not recorded.
	Validate func(r *Run) error
	// Actions are the required actions between steps: what the agent must do before the
	// next call. nil gives generic actions keyed on confidence.
	Actions func(r *Run) []string
	// Expert is the expert-analysis call of the final step; nil makes the tool
	// self-contained (no model call; Names.Complete on the final step).
	Expert *Expert
	// Finish adds tool-specific fields to every reply (pause or completion) after the
	// engine has built it.
	Finish func(r *Run, reply map[string]any)
	// StartsRun reports whether a step begins a new run; nil means "step_number is 1". The
	// planner keeps its plan when step 1 is sent again as a revision.
	StartsRun func(s *Step) bool
	// Custom, when set, replaces the pause and completion handling: it gets the decoded,
	// recorded run and the base reply to fill. Its error refuses the call as <tool>_failed.
	Custom func(r *Run, reply map[string]any) error
	// Needs are further capabilities the tool's own code uses (e.g. pal.CapGitRead for
	// precommit); they are added to its manifest.
	Needs []string
}

// Names are a tool's status values and reply keys. Defaults, for tool "x": Pause
// "pause_for_x", Progress "x_status", Required "x_required", Complete "x_complete",
// Summary "complete_x", Done "x_complete".
type Names struct {
	Pause    string // status between steps
	Progress string // key of the counters object on every reply
	Required string // key set true between steps
	Complete string // key set true on the final step
	Summary  string // key of the run summary on the final step
	Done     string // status of a self-contained tool's final step
}

func (t *Tool) names() Names {
	n := t.Names
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&n.Pause, "pause_for_"+t.Name)
	def(&n.Progress, t.Name+"_status")
	def(&n.Required, t.Name+"_required")
	def(&n.Complete, t.Name+"_complete")
	def(&n.Summary, "complete_"+t.Name)
	def(&n.Done, t.Name+"_complete")
	return n
}

// Expert configures the expert-analysis call of the final step.
type Expert struct {
	// SystemPrompt is the expert's system prompt (the engine adds the locale line).
	SystemPrompt string
	// Instruction closes the prompt: what the expert must deliver.
	Instruction string
	// EmbedFiles embeds the run's relevant_files; false lists their paths only.
	EmbedFiles bool
	// NeedsEvidence calls the expert only when the run has evidence (Run.HasEvidence);
	// without it the final step is local_work_complete.
	NeedsEvidence bool
	// Skip returns a non-empty reason when the expert is not needed (e.g. confidence
	// "certain"); the reply then has status SkipStatus and expert_analysis.status
	// SkipExpertStatus, and NextSteps tells the agent what to do.
	Skip             func(r *Run) string
	SkipStatus       string
	SkipExpertStatus string
	SkipNextSteps    string
	// Context adds tool-specific sections to the expert prompt after the work summary.
	Context func(r *Run) string
	// ThinkingMode is the default thinking mode of the call (default "high").
	ThinkingMode string
	// NextSteps tells the agent what to do with the expert's analysis.
	NextSteps string
}

// SkipAt returns an Expert.Skip that skips the expert when the final step's confidence is
// level.
func SkipAt(level string) func(r *Run) string {
	return func(r *Run) string {
		if r.Confidence() == level {
			return "confidence is " + level + ": the agent's own analysis is final"
		}
		return ""
	}
}

func (t *Tool) startsRun(s *Step) bool {
	if t.StartsRun != nil {
		return t.StartsRun(s)
	}
	return s.StepNumber == 1
}

// Capabilities are the ops a tool needs: threads, progress and host.info always; files
// and models for a tool with an expert or a custom flow.
func (t *Tool) Capabilities() []string {
	caps := []string{pal.CapThreadRead, pal.CapThreadWrite, pal.CapProgress, pal.CapHostInfo}
	if t.Expert != nil || t.Custom != nil {
		caps = append(caps, pal.CapFSRead, pal.CapFSList, pal.CapModelGenerate)
	}
	return append(caps, t.Needs...)
}

// Register validates t and registers it with pal.Register. It panics on a programming
// error, like pal.Register.
func Register(t *Tool) {
	if t.Category == "" {
		t.Category = "extended"
	}
	for _, f := range t.Fields {
		if isCommon(f.Name) {
			panic(fmt.Sprintf("workflow: tool %s redefines common field %s (use Describe or Omit)", t.Name, f.Name))
		}
	}
	calls := t.Expert != nil || t.Custom != nil
	pal.Register(pal.Tool{
		Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: t.Schema(),
		Annotations: pal.Annotations{ReadOnly: true, Destructive: false, Idempotent: false, OpenWorld: calls},
		// RequiresModel stays false: the host's model list in every workflow schema would
		// cost more of the tools/list budget than it is worth; `model` points at listmodels.
		Capabilities: t.Capabilities(), Category: t.Category, RequiresModel: false,
		Handler: t.Handle,
	})
}

// Defaults when host.info is unavailable.
const (
	defaultPromptChars = promptlimit.DefaultChars
	defaultMaxTurns    = 50
	defaultContext     = 200_000 // tokens
)

// Handle runs one step. It is the pal.Handler Register installs; tests may call it through
// paltest.
func (t *Tool) Handle(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	s, err := t.decode(raw)
	if err != nil {
		return t.failed(0, err), nil
	}
	info := hostInfo()
	if r := t.PromptRule().Check(s.Step, info.Limits.PromptChars); r != nil {
		return r, nil
	}
	r := &Run{Tool: t, Info: info, ID: s.ContinuationID}
	if r.ID != "" {
		th, err := pal.ThreadRead(r.ID)
		switch {
		case errors.Is(err, pal.ErrNotFound):
			return t.failed(s.StepNumber, fmt.Errorf("conversation thread '%s' was not found or has expired; start again at step 1 without continuation_id", r.ID)), nil
		case err != nil:
			return t.failed(s.StepNumber, fmt.Errorf("cannot read conversation thread '%s': %s", r.ID, hostMessage(err))), nil
		}
		if th.MaxTurns <= 0 {
			th.MaxTurns = info.Limits.MaxTurns
		}
		r.Thread = th
	}
	r.restore(s)
	if t.Validate != nil {
		if err := t.Validate(r); err != nil {
			return t.failed(s.StepNumber, err), nil
		}
	}
	if r.ID != "" {
		need := 1
		if (!s.NextStepRequired && t.Expert != nil) || t.Custom != nil {
			need = 2
		}
		if len(r.Thread.Turns)+need > r.Thread.MaxTurns {
			return t.failed(s.StepNumber, fmt.Errorf("conversation thread '%s' has used %d of its %d turns; start a new run at step 1 without continuation_id", r.ID, len(r.Thread.Turns), r.Thread.MaxTurns)), nil
		}
	} else {
		if !t.startsRun(s) {
			r.Warnings = append(r.Warnings, "continuation_id was missing: earlier steps are unknown to this run. Pass the continuation_id of each reply on the next step.")
		}
		id, err := pal.ThreadCreate(t.Name, map[string]any{"workflow": t.Name, "step": s.Step})
		if err != nil {
			return t.failed(s.StepNumber, fmt.Errorf("cannot start a conversation thread: %s", hostMessage(err))), nil
		}
		r.ID = id
	}
	if _, err := r.Record(r.stepTurn(s)); err != nil {
		return t.failed(s.StepNumber, fmt.Errorf("cannot record the step: %s", hostMessage(err))), nil
	}

	reply := t.baseReply(r)
	isError := false
	switch {
	case t.Custom != nil:
		if err := t.Custom(r, reply); err != nil {
			return t.failed(s.StepNumber, err), nil
		}
	case s.NextStepRequired:
		t.pause(r, reply)
	default:
		isError = t.complete(r, reply)
	}
	if t.Finish != nil {
		t.Finish(r, reply)
	}
	if next, _ := reply["next_step_required"].(bool); next && r.Remaining < t.turnsForNextStep(s) {
		reply["next_steps"] = fmt.Sprintf("This conversation has reached its turn cap: continuation_id %q cannot take step %d of %s. "+
			"Present what this run has found so far; to go on, start a new run at step 1 without continuation_id and restate the findings in it.", r.ID, s.StepNumber+1, t.Name)
		reply["turn_cap_reached"] = true
	}
	if len(r.Warnings) > 0 {
		reply["warnings"] = r.Warnings
	}
	return jsonResult(reply, isError), nil
}

// turnsForNextStep is how many turns the step after s records: one, or two (the step and
// the model's reply) for a custom flow or a final step with an expert.
func (t *Tool) turnsForNextStep(s *Step) int {
	if t.Custom != nil || (t.Expert != nil && s.StepNumber+1 >= s.TotalSteps) {
		return 2
	}
	return 1
}

// baseReply holds what every reply carries.
func (t *Tool) baseReply(r *Run) map[string]any {
	s := r.Current()
	n := t.names()
	progress := map[string]any{
		"files_checked":    len(r.FilesChecked()),
		"relevant_files":   len(r.RelevantFiles()),
		"relevant_context": len(r.RelevantContext()),
		"issues_found":     len(r.Issues()),
		"images_collected": len(r.Images()),
	}
	if s.Confidence != "" {
		progress["current_confidence"] = s.Confidence
	}
	return map[string]any{
		"status":             t.Name + "_in_progress",
		"step_number":        s.StepNumber,
		"total_steps":        s.TotalSteps,
		"next_step_required": s.NextStepRequired,
		"continuation_id":    r.ID,
		n.Progress:           progress,
		"metadata":           map[string]any{"tool_name": t.Name},
	}
}

// pause fills the reply between steps.
func (t *Tool) pause(r *Run, reply map[string]any) {
	n := t.names()
	s := r.Current()
	actions := defaultActions(r)
	if t.Actions != nil {
		actions = t.Actions(r)
	}
	reply["status"] = n.Pause
	reply[n.Required] = true
	reply["required_actions"] = actions
	var b strings.Builder
	fmt.Fprintf(&b, "STOP: do not call %s again yet. Do this work first, with your own tools:\n", t.Name)
	for i, a := range actions {
		fmt.Fprintf(&b, "%d. %s\n", i+1, a)
	}
	fmt.Fprintf(&b, "Then call %s with step_number %d, what you found in findings, and continuation_id %q.", t.Name, s.StepNumber+1, r.ID)
	if s.StepNumber+1 >= s.TotalSteps {
		b.WriteString(" If that is your last step, set next_step_required to false.")
	}
	reply["next_steps"] = b.String()
	if len(s.RelevantFiles) > 0 {
		names := make([]string, len(s.RelevantFiles))
		for i, p := range s.RelevantFiles {
			names[i] = baseName(p)
		}
		reply["file_context"] = map[string]any{"type": "reference_only",
			"note": "Files are read on the final step only. Referenced in this step: " + strings.Join(names, ", ")}
	}
}

// defaultActions are generic required actions keyed on the step's confidence.
func defaultActions(r *Run) []string {
	s := r.Current()
	if s.StepNumber == 1 {
		return []string{
			"Read the code the task concerns; list what you examined in files_checked.",
			"Trace how the pieces connect; record key symbols in relevant_context.",
			"Write down what you established in findings, with evidence.",
		}
	}
	switch s.Confidence {
	case Exploring, Low:
		return []string{"Widen the search: read callers, callees and tests you have not yet examined.", "Test your assumptions against the code rather than memory.", "Update findings and relevant_files."}
	case AlmostCertain, Certain:
		return []string{"Confirm the last open point with one concrete check.", "Make sure relevant_files lists every file the conclusion rests on."}
	}
	return []string{"Check the weakest part of your current understanding against the code.", "Look for evidence that would prove it wrong.", "Update findings, issues_found and relevant_files."}
}

// complete fills the reply of the final step; it reports whether the reply is an error.
func (t *Tool) complete(r *Run, reply map[string]any) bool {
	n := t.names()
	reply[n.Complete] = true
	reply[n.Summary] = r.Summary()
	e := t.Expert
	switch {
	case e == nil:
		reply["status"] = n.Done
		reply["next_steps"] = fmt.Sprintf("%s is complete. Present the result to the user.", t.Name)
	case e.Skip != nil && e.Skip(r) != "":
		reply["status"] = e.SkipStatus
		reply["skip_expert_analysis"] = true
		reply["expert_analysis"] = map[string]any{"status": e.SkipExpertStatus, "reason": e.Skip(r)}
		reply["next_steps"] = e.SkipNextSteps
	case !r.Current().UsesExpert():
		t.local(reply, "use_assistant_model is false")
	case e.NeedsEvidence && !r.HasEvidence():
		t.local(reply, "the run recorded no relevant files, issues or findings for an expert to check")
	default:
		return t.callExpert(r, reply)
	}
	t.offer(r, reply)
	return false
}

func (t *Tool) local(reply map[string]any, why string) {
	reply["status"] = "local_work_complete"
	reply["skip_expert_analysis"] = true
	reply["next_steps"] = fmt.Sprintf("%s finished without the expert model (%s). Present your findings to the user, with evidence, and propose the next actions.", t.Name, why)
}

// offer adds continuation_offer when the thread can take another exchange (pal.Offer).
func (t *Tool) offer(r *Run, reply map[string]any) { AddOffer(r, reply) }

// AddOffer adds the run's continuation_offer to reply when the thread can take another
// exchange: it names only the tools that take continuation_id (pal.Offer).
func AddOffer(r *Run, reply map[string]any) {
	if o := pal.Offer(r.Tool.Name, r.ID, r.Remaining, r.Info); o != nil {
		reply["continuation_offer"] = o
	}
}

// failed is the isError reply for a refused step.
func (t *Tool) failed(step int, err error) *pal.Result {
	msg := strings.TrimPrefix(err.Error(), ErrInvalidArguments.Error()+": ")
	out := map[string]any{"status": t.Name + "_failed", "code": pal.FailureCode(err), "content": msg, "content_type": "text",
		"error": msg, "metadata": map[string]any{"tool_name": t.Name}}
	if step > 0 {
		out["step_number"] = step
	}
	return jsonResult(out, true)
}

// PromptRule is the tool's prompt-size rule: `step` is held to the host's limit (as in
// PAL, the one field checked); the detail goes in a file listed in relevant_files when the
// schema has it.
func (t *Tool) PromptRule() promptlimit.Rule {
	r := promptlimit.Rule{Field: FieldStep}
	if t.has(FieldRelevantFiles) {
		r.DetailFiles = FieldRelevantFiles
	}
	return r
}

func jsonResult(v any, isError bool) *pal.Result {
	var r *pal.Result
	var err error
	if isError {
		r, err = pal.JSONErrorResult(v)
	} else {
		r, err = pal.JSONResult(v)
	}
	if err != nil {
		return pal.ErrorResult("cannot encode the reply: " + err.Error())
	}
	return r
}

// hostInfo asks the host for its limits; without host.info the defaults apply.
func hostInfo() pal.ServerInfo {
	info, err := pal.HostInfo()
	if err != nil {
		pal.Logf(pal.LevelWarn, "workflow: host.info unavailable, using default limits: %v", err)
	}
	if info.Limits.PromptChars <= 0 {
		info.Limits.PromptChars = defaultPromptChars
	}
	if info.Limits.MaxTurns <= 0 {
		info.Limits.MaxTurns = defaultMaxTurns
	}
	return info
}

// hostMessage is the user-facing text of a host error.
func hostMessage(err error) string {
	var he *pal.HostError
	if errors.As(err, &he) && he.Message != "" {
		return he.Message
	}
	return err.Error()
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
