//go:build !wasip1

package main

import (
	"strings"
	"testing"
)

// The follow-up offer says only what is true: which tools take continuation_id, and nothing
// once the thread cannot take another exchange. One test per case.

func TestOfferNamesTheToolsThatTakeContinuationID(t *testing.T) {
	h := newHost() // paltest's host.info lists the registered tools whose schema has continuation_id
	out := invoke(t, h, "chat", map[string]any{"prompt": "hello"})
	mustSucceed(t, out)
	note := out.ContinuationOffer.Note
	for _, want := range []string{"chat", "thinkdeep", "codereview", "consensus", "48 more turns"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	for _, not := range []string{"challenge", "apilookup", "listmodels", "version", "any tool", "other tool"} {
		if strings.Contains(note, not) {
			t.Errorf("note %q offers %q", note, not)
		}
	}
}

func TestOfferLeavesOutToolsTheServerDoesNotPublish(t *testing.T) {
	h := newHost()
	h.Info.ContinuationTools = []string{"chat", "debug"} // e.g. DISABLED_TOOLS took the rest away
	out := wf(t, h, "debug", wfStep(1, 1, false, "relevant_files", []string{"/proj/main.go"}, "confidence", "high"))
	offer, _ := out["continuation_offer"].(map[string]any)
	if note, _ := offer["note"].(string); out["status"] != "calling_expert_analysis" || !strings.Contains(note, "any of chat, debug;") {
		t.Fatalf("offer %v (status %v)", offer, out["status"])
	}
}

func TestNoOfferWhenChatReachesTheTurnCap(t *testing.T) {
	h := newHost()
	h.MaxTurns = 2 // the first exchange fills the thread
	out := invoke(t, h, "chat", map[string]any{"prompt": "hello"})
	if out.IsError || out.Status != "success" || string(out.Raw["continuation_offer"]) != "null" {
		t.Fatalf("at the cap: %s %s", out.Status, out.Raw["continuation_offer"])
	}
}

func TestNoOfferWhenAWorkflowReachesTheTurnCap(t *testing.T) {
	h := newHost()
	h.MaxTurns = 3 // the step and the expert's reply leave one turn: no room for an exchange
	out := wf(t, h, "debug", wfStep(1, 1, false, "relevant_files", []string{"/proj/main.go"}, "confidence", "high"))
	if out["status"] != "calling_expert_analysis" || out["continuation_offer"] != nil {
		t.Fatalf("at the cap: %v", out)
	}
}

func TestPauseAtTheTurnCapDoesNotAskForTheNextStep(t *testing.T) {
	h := newHost()
	h.MaxTurns = 2 // step 1 is recorded; the final step 2 needs two turns (step, expert reply)
	out := wf(t, h, "thinkdeep", wfStep(1, 2, true))
	next, _ := out["next_steps"].(string)
	if out["turn_cap_reached"] != true || !strings.Contains(next, "turn cap") || !strings.Contains(next, "without continuation_id") {
		t.Fatalf("pause at the cap: %v", out)
	}
	h = newHost()
	if out := wf(t, h, "thinkdeep", wfStep(1, 2, true)); out["turn_cap_reached"] != nil || !strings.Contains(out["next_steps"].(string), "step_number 2") {
		t.Fatalf("pause with room: %v", out)
	}
}
