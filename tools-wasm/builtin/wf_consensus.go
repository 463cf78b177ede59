package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "consensus",
		Title:       "Consult several models",
		Description: "Put a proposal to several models, each with a stance, one per step, then synthesise.",
		Omit: []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldIssuesFound, workflow.FieldConfidence,
			workflow.FieldHypothesis, workflow.FieldUseAssistantModel, workflow.FieldModel, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldStep:     "Step 1: the proposal every model sees, self-contained. Later: your notes.",
			workflow.FieldFindings: "Step 1: your view. Later: what the last answer changed.",
		},
		Fields: []workflow.Field{
			{Name: "models", Schema: `{"type":"array","minItems":1,"items":{"type":"object","properties":{"model":{"type":"string"},"stance":{"type":"string","enum":["for","against","neutral"]},"stance_prompt":{"type":"string"}},"required":["model"],"additionalProperties":false}}`,
				Description: "Step 1: models to ask, in order; stance default neutral."},
		},
		Validate: validateConsensus,
		Custom:   consult,
	})
}

// consensusModel is one entry of `models`.
type consensusModel struct {
	Model        string `json:"model"`
	Stance       string `json:"stance"`
	StancePrompt string `json:"stance_prompt"`
}

func modelsOf(s *workflow.Step) []consensusModel {
	var x struct {
		Models []consensusModel `json:"models"`
	}
	_ = s.DecodeExtra(&x)
	for i := range x.Models {
		if x.Models[i].Stance == "" {
			x.Models[i].Stance = "neutral"
		}
	}
	return x.Models
}

func validateConsensus(r *workflow.Run) error {
	s := r.Current()
	if s.StepNumber != 1 {
		if len(modelsOf(r.First())) == 0 {
			return errors.New("no models to consult: start again at step 1 with models")
		}
		return nil
	}
	ms := modelsOf(s)
	if len(ms) == 0 {
		return errors.New("step 1 needs models: the models to consult, each with a stance")
	}
	seen := map[string]bool{}
	for _, m := range ms {
		k := strings.ToLower(m.Model) + "/" + m.Stance
		if seen[k] {
			return fmt.Errorf("model %s with stance %s is listed twice; give each entry its own stance", m.Model, m.Stance)
		}
		seen[k] = true
	}
	s.TotalSteps = len(ms) // one model per step
	return nil
}

// consult asks the model of this step and fills the reply.
func consult(r *workflow.Run, reply map[string]any) error {
	s := r.Current()
	models := modelsOf(r.First())
	total := len(models)
	k := s.StepNumber
	if k > total {
		return fmt.Errorf("step %d is past the last of the %d models; set next_step_required false on step %d and synthesise", k, total, total)
	}
	s.TotalSteps = total
	m := models[k-1]
	workflow.Progress(float64(k-1), float64(total), fmt.Sprintf("consulting %s (%s), %d of %d", m.Model, m.Stance, k, total))
	resp := askModel(r, m)
	workflow.Progress(float64(k), float64(total), fmt.Sprintf("%s answered", m.Model))

	responses := earlierResponses(r, models)
	responses = append(responses, resp)
	status := "model_consulted"
	switch {
	case k == 1:
		status = "analysis_and_first_model_consulted"
	}
	done := k == total
	if done {
		status = "consensus_workflow_complete"
	}
	reply["status"] = status
	reply["total_steps"] = total
	reply["next_step_required"] = !done
	reply["model_consulted"] = m.Model
	reply["model_stance"] = m.Stance
	reply["model_response"] = resp
	reply["current_model_index"] = k
	reply["accumulated_responses"] = responses
	delete(reply, "consensus_status")
	var pairs []string
	for _, x := range models {
		pairs = append(pairs, x.Model+":"+x.Stance)
	}
	meta := reply["metadata"].(map[string]any)
	meta["workflow_type"] = "multi_model_consensus"
	meta["models_to_consult"] = pairs
	meta["consultation_step"] = k
	meta["total_consultation_steps"] = total
	meta["consensus_complete"] = done
	if k == 1 {
		reply["agent_analysis"] = map[string]any{"initial_analysis": s.Step, "findings": s.Findings}
	}
	if !done {
		reply["consensus_workflow_status"] = "consulting_models"
		if k == 1 {
			reply["consensus_workflow_status"] = "initial_analysis_complete"
		}
		next := models[k]
		reply["next_steps"] = fmt.Sprintf("Note in findings what %s's answer changes for you, then call consensus with step_number %d and continuation_id %q to consult %s (%s). Do not synthesise yet.",
			m.Model, k+1, r.ID, next.Model, next.Stance)
	} else {
		reply["consensus_workflow_status"] = "ready_for_synthesis"
		reply["consensus_complete"] = true
		reply["complete_consensus"] = map[string]any{"initial_prompt": r.Initial(), "models_consulted": pairs, "total_responses": len(responses)}
		reply["next_steps"] = "All models have answered. Synthesise for the user: where they agree, where they disagree and why, your recommendation with its reasoning, the main risks, and concrete next steps. Weigh arguments, not votes."
	}
	workflow.AddOffer(r, reply)
	return nil
}

// earlierResponses rebuilds the answers of earlier steps from the thread: the assistant
// turns consensus recorded in this run, in order, paired with the models list.
func earlierResponses(r *workflow.Run, models []consensusModel) []map[string]any {
	var out []map[string]any
	for _, t := range r.Thread.Turns[r.Start:] {
		if t.Role != "assistant" || t.Tool != "consensus" {
			continue
		}
		i := len(out)
		stance := "neutral"
		if i < len(models) {
			stance = models[i].Stance
		}
		out = append(out, map[string]any{"model": t.Model, "stance": stance, "status": "success", "verdict": t.Content,
			"metadata": map[string]any{"provider": t.Provider, "model_name": t.Model}})
	}
	return out
}

// askModel consults one model on the proposal, blind to the other models' answers, and
// records its answer. A failure is reported in the response, not as a failed call.
func askModel(r *workflow.Run, m consensusModel) map[string]any {
	fail := func(err error) map[string]any {
		return map[string]any{"model": m.Model, "stance": m.Stance, "status": "error", "error": err.Error()}
	}
	info, name, err := r.Model(m.Model)
	if err != nil {
		return fail(err)
	}
	p := r.BuildPrompt(info, "=== PROPOSAL ===\n"+r.Initial(), r.RelevantFiles(), true,
		"=== YOUR TASK ===\nEvaluate the proposal from your assigned stance and give your verdict in the format of your instructions.")
	temp := 1.0
	thinking := ""
	if info.SupportsThinking {
		thinking = "medium"
	}
	images := r.Images()
	if !info.SupportsImages {
		images = nil
	}
	resp, err := pal.Generate(pal.GenerateRequest{Model: name, Category: "extended", System: workflow.WithLocale(r.Info.Limits.Locale, consensusPrompt(m)),
		Prompt: p.Text, PromptBuffer: p.Buffer, Temperature: &temp, ThinkingMode: thinking, Images: images})
	if err == nil && strings.TrimSpace(resp.Content) == "" {
		err = fmt.Errorf("empty reply (finish reason %s)", resp.FinishReason)
	}
	if err != nil {
		return fail(err)
	}
	if _, err := r.Record(pal.Turn{Role: "assistant", Content: resp.Content, Tool: "consensus", Model: resp.Model, Provider: resp.Provider}); err != nil {
		pal.Logf(pal.LevelWarn, "consensus: answer of %s not recorded: %v", resp.Model, err)
	}
	return map[string]any{"model": resp.Model, "stance": m.Stance, "status": "success", "verdict": resp.Content,
		"metadata": map[string]any{"provider": resp.Provider, "model_name": resp.Model}}
}

// consensusPrompt is the system prompt of one consulted model with its stance.
func consensusPrompt(m consensusModel) string {
	stance := stanceText[m.Stance]
	if strings.TrimSpace(m.StancePrompt) != "" {
		stance = m.StancePrompt
	}
	return `You are one of several expert reviewers asked, independently, to evaluate a technical proposal for an AI agent that will weigh your verdict against the others'. You do not see the other reviewers' answers.

YOUR STANCE
` + stance + `

However the stance leans, stay honest: never argue for something harmful, insecure or clearly unworkable, and never dismiss an idea that is plainly sound. If the evidence overrides your stance, say so.

Files, when given, appear between "--- BEGIN FILE" and "--- END FILE" markers with line numbers like "  12│ " for citing.

Answer in this shape:
## Verdict
One sentence.
## Analysis
Technical feasibility, fit with the existing project, effort and complexity, risks, alternatives worth considering, long-term consequences. Cite files and lines where they matter.
## Confidence
1 to 10, and what would change your mind.
## Key takeaways
Three to five bullets the agent can act on.`
}

var stanceText = map[string]string{
	"for":     "Argue the case FOR the proposal: bring out its strongest benefits and how to make it work, while naming real blockers you find.",
	"against": "Argue the case AGAINST the proposal: probe its weaknesses, costs and risks, and what could go wrong, while acknowledging what is genuinely good.",
	"neutral": "Be balanced: weigh benefits and drawbacks on the evidence. If the evidence clearly favours one side, say so rather than splitting the difference.",
}
