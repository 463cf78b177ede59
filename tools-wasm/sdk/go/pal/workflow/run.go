package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

// Run is one run of a workflow tool as the current call sees it: the steps recorded so far
// in the conversation thread and the current step, last. It lives for one call.
type Run struct {
	Tool *Tool
	Info pal.ServerInfo // the host's limits and defaults
	// ID is the continuation_id of the thread holding the run.
	ID string
	// Thread is the thread as read at the start of the call, before this step was
	// recorded; zero for a new thread.
	Thread pal.Thread
	// Start is the index in Thread.Turns of the run's first step: the turns before it are
	// the earlier conversation, which the expert reads as history.
	Start int
	// Steps are the run's steps, oldest first; the current step is the last.
	Steps []*Step
	// Remaining is how many turns the thread can still take after this step was recorded.
	Remaining int
	// Warnings are notes for the agent added to the reply (missing continuation_id …).
	Warnings []string
}

// Current is the step of this call.
func (r *Run) Current() *Step { return r.Steps[len(r.Steps)-1] }

// First is the run's first recorded step (step 1 when it was recorded).
func (r *Run) First() *Step { return r.Steps[0] }

// Initial is the task as the run's first step stated it.
func (r *Run) Initial() string { return r.First().Step }

// unique returns the values of pick over the steps, first occurrence kept, in order.
func (r *Run) unique(pick func(*Step) []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range r.Steps {
		for _, v := range pick(s) {
			if v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// FilesChecked are the files examined over the run, first mention first.
func (r *Run) FilesChecked() []string {
	return r.unique(func(s *Step) []string { return s.FilesChecked })
}

// RelevantFiles are the files that matter over the run.
func (r *Run) RelevantFiles() []string {
	return r.unique(func(s *Step) []string { return s.RelevantFiles })
}

// RelevantContext are the key symbols over the run.
func (r *Run) RelevantContext() []string {
	return r.unique(func(s *Step) []string { return s.RelevantContext })
}

// Images are the images over the run.
func (r *Run) Images() []string { return r.unique(func(s *Step) []string { return s.Images }) }

// Issues are the issues reported over the run, duplicates (same severity and
// description) once.
func (r *Run) Issues() []Issue {
	seen := map[string]bool{}
	out := []Issue{}
	for _, s := range r.Steps {
		for _, is := range s.IssuesFound {
			k := is.Severity + "\x00" + is.Description
			if !seen[k] {
				seen[k] = true
				out = append(out, is)
			}
		}
	}
	return out
}

// IssuesBySeverity counts the run's issues by severity.
func (r *Run) IssuesBySeverity() map[string]int {
	out := map[string]int{}
	for _, is := range r.Issues() {
		out[is.Severity]++
	}
	return out
}

// Confidence is the latest step's confidence.
func (r *Run) Confidence() string { return r.Current().Confidence }

// Findings are the non-empty findings of the steps, as "Step N: …".
func (r *Run) Findings() []string {
	var out []string
	for _, s := range r.Steps {
		if strings.TrimSpace(s.Findings) != "" {
			out = append(out, fmt.Sprintf("Step %d: %s", s.StepNumber, s.Findings))
		}
	}
	return out
}

// Hypothesis is one hypothesis of the run with the step and confidence it came with.
type Hypothesis struct {
	Step       int    `json:"step"`
	Hypothesis string `json:"hypothesis"`
	Confidence string `json:"confidence"`
}

// Hypotheses are the hypotheses stated over the run, in order.
func (r *Run) Hypotheses() []Hypothesis {
	var out []Hypothesis
	for _, s := range r.Steps {
		if strings.TrimSpace(s.Hypothesis) != "" {
			out = append(out, Hypothesis{Step: s.StepNumber, Hypothesis: s.Hypothesis, Confidence: s.Confidence})
		}
	}
	return out
}

// HasEvidence reports whether the run gathered enough for an expert to check: relevant
// files, issues, or findings in at least two steps.
func (r *Run) HasEvidence() bool {
	return len(r.RelevantFiles()) > 0 || len(r.Issues()) > 0 || len(r.Findings()) >= 2
}

// PriorTurns are the thread's turns before the run: the earlier conversation.
func (r *Run) PriorTurns() []pal.Turn { return r.Thread.Turns[:r.Start] }

// record is a step as stored in a thread turn.
type record struct {
	Workflow string `json:"workflow"`
	*Step
}

// stepTurn is the thread turn of a step: written by the agent (role user), naming the
// tool, with the step's relevant files and images so that later history holds them once.
func (r *Run) stepTurn(s *Step) pal.Turn {
	body, err := json.Marshal(record{Workflow: r.Tool.Name, Step: s})
	if err != nil {
		body = []byte(fmt.Sprintf(`{"workflow":%q}`, r.Tool.Name)) // cannot happen: plain data
	}
	return pal.Turn{Role: "user", Content: string(body), Files: s.RelevantFiles, Images: s.Images, Tool: r.Tool.Name}
}

// parseStep returns the step a turn records for tool, or nil.
func parseStep(tool string, t pal.Turn) *Step {
	if t.Role != "user" || t.Tool != tool || !strings.HasPrefix(t.Content, "{") {
		return nil
	}
	var rec struct {
		Workflow string `json:"workflow"`
		Step
	}
	if err := json.Unmarshal([]byte(t.Content), &rec); err != nil || rec.Workflow != tool || rec.StepNumber < 1 {
		return nil
	}
	s := rec.Step
	return &s
}

// restore rebuilds the run a step belongs to from the thread: for a step that starts a run
// (Tool.StartsRun), a new run after every turn so far; otherwise the steps since the last
// recorded step of this tool that started one.
func (r *Run) restore(cur *Step) {
	turns := r.Thread.Turns
	r.Start = len(turns)
	if !r.Tool.startsRun(cur) {
		type found struct {
			at   int
			step *Step
		}
		var steps []found
		for i, t := range turns {
			if s := parseStep(r.Tool.Name, t); s != nil {
				if r.Tool.startsRun(s) {
					steps = steps[:0]
				}
				steps = append(steps, found{i, s})
			}
		}
		if len(steps) > 0 {
			r.Start = steps[0].at
			for _, f := range steps {
				r.Steps = append(r.Steps, f.step)
			}
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("No earlier %s steps were found in this conversation: this run starts at step %d with only this step's findings.", r.Tool.Name, cur.StepNumber))
		}
	}
	r.Steps = append(r.Steps, cur)
}

// Record appends turns to the run's thread. It returns the turns the thread may still
// take.
func (r *Run) Record(turns ...pal.Turn) (int, error) {
	res, err := pal.ThreadAppend(r.ID, turns...)
	if err != nil {
		return 0, err
	}
	r.Remaining = res.Remaining
	return res.Remaining, nil
}

// Summary is the run's summary object for the completion reply: initial_request,
// steps_taken, files_examined, relevant_files, relevant_context, issues_found and a text
// work_summary.
func (r *Run) Summary() map[string]any {
	return map[string]any{
		"initial_request":  r.Initial(),
		"steps_taken":      len(r.Steps),
		"files_examined":   r.FilesChecked(),
		"relevant_files":   r.RelevantFiles(),
		"relevant_context": r.RelevantContext(),
		"issues_found":     r.Issues(),
		"work_summary":     r.WorkSummary(),
	}
}

// WorkSummary is the run as text: the task, each step with its findings and hypothesis,
// the key symbols and the issues. The expert prompt and the completion reply use it.
func (r *Run) WorkSummary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== TASK ===\n%s\n\n=== WORK SO FAR (%d step(s)) ===\n", r.Initial(), len(r.Steps))
	for i, s := range r.Steps {
		fmt.Fprintf(&b, "\n--- Step %d of %d", s.StepNumber, s.TotalSteps)
		if s.Confidence != "" {
			fmt.Fprintf(&b, " (confidence: %s)", s.Confidence)
		}
		b.WriteString(" ---\n")
		if i > 0 { // the first step's text is the task above
			b.WriteString(s.Step + "\n")
		}
		if f := strings.TrimSpace(s.Findings); f != "" {
			b.WriteString("Findings: " + f + "\n")
		}
		if h := strings.TrimSpace(s.Hypothesis); h != "" {
			b.WriteString("Hypothesis: " + h + "\n")
		}
		if len(s.FilesChecked) > 0 {
			b.WriteString("Files examined: " + strings.Join(s.FilesChecked, ", ") + "\n")
		}
	}
	if ctx := r.RelevantContext(); len(ctx) > 0 {
		b.WriteString("\n=== KEY SYMBOLS ===\n" + strings.Join(ctx, "\n") + "\n")
	}
	if issues := r.Issues(); len(issues) > 0 {
		b.WriteString("\n=== ISSUES FOUND ===\n")
		for _, is := range issues {
			fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(is.Severity), is.Description)
			if is.Location != "" {
				b.WriteString(" (" + is.Location + ")")
			}
			if is.Type != "" {
				b.WriteString(" {" + is.Type + "}")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
