package main

import (
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

// precommit validates the changes of a git repository before a commit. The agent
// investigates in steps; on the final step the host reads the repository's git state itself
// (git.read: status, staged and unstaged diffs or the diff against compare_to, new files) and
// the expert model checks the changes. Denied files are named but never sent.

// Caps of what precommit sends the expert.
const (
	precommitDiffBytes     = 400_000 // per diff
	precommitNewFiles      = 20      // untracked files whose content is sent
	precommitNewFileBytes  = 50_000  // per untracked file
	precommitListedChanges = 200     // paths listed per section
)

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "precommit",
		Title:       "Pre-commit check",
		Description: "Check pending git changes in steps; an expert reviews the diffs last.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldHypothesis, workflow.FieldThinkingMode},
		Fields: []workflow.Field{
			{Name: "path", Schema: `{"type":"string"}`, Description: "Repo path (step 1)."},
			{Name: "compare_to", Schema: `{"type":"string"}`, Description: "Ref to diff against."},
			{Name: "include_staged", Schema: `{"type":"boolean"}`, Description: "Default true."},
			{Name: "include_unstaged", Schema: `{"type":"boolean"}`, Description: "Default true."},
			{Name: "precommit_type", Schema: `{"type":"string","enum":["external","internal"]}`, Description: "internal: no expert call."},
			{Name: "focus_on", Schema: `{"type":"string"}`, Description: "Areas to stress."},
			{Name: "severity_filter", Schema: severityEnum, Description: "Lowest severity to report."},
		},
		PathFields: []string{"path"},
		Names: workflow.Names{Pause: "pause_for_validation", Progress: "validation_status", Required: "precommit_required",
			Complete: "validation_complete", Summary: "complete_validation"},
		Validate: func(r *workflow.Run) error {
			if r.Current().StepNumber == 1 && stringField(r, "path", "") == "" {
				return fmt.Errorf("step 1 of precommit needs path: the absolute path of the git repository")
			}
			return nil
		},
		Actions: func(r *workflow.Run) []string {
			if r.Current().StepNumber == 1 {
				return []string{
					"Look at the repository's state: git status, the staged diff, the unstaged diff and the new files.",
					"Work out what the change is meant to do and list every changed file in relevant_files.",
					"Note anything that must not be committed: secrets, debug code, generated files, unrelated edits.",
				}
			}
			return []string{
				"Read the changed code around each hunk: callers, tests, error paths.",
				"Check that the change is complete: tests, docs and configuration that must move with it.",
				"Record each problem in issues_found with a severity; drop earlier ones you can no longer confirm.",
			}
		},
		Expert: &workflow.Expert{
			SystemPrompt: precommitPrompt + expertRules,
			Instruction:  "Check the pending changes against the agent's findings. Report what must be fixed before the commit, by severity, each with file, line and fix; then what may wait. Say plainly whether the changes are ready to commit.",
			EmbedFiles:   true,
			Skip: func(r *workflow.Run) string {
				if stringField(r, "precommit_type", "external") == "internal" {
					return "precommit_type is internal"
				}
				return ""
			},
			SkipStatus:       "validation_complete_ready_for_commit",
			SkipExpertStatus: "skipped_due_to_internal_analysis_type",
			SkipNextSteps:    "Present the validation to the user: what blocks the commit, by severity, then what may wait; offer to fix the blockers.",
			Context:          precommitContext,
			NextSteps:        "Merge the expert's findings with yours, drop any you cannot confirm in the diff, and tell the user whether to commit, listing the blockers first.",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			st := reply["validation_status"].(map[string]any)
			st["issues_identified"] = len(r.Issues())
			st["precommit_type"] = stringField(r, "precommit_type", "external")
		},
		Needs: []string{pal.CapGitRead},
	})
}

// boolField returns the named own boolean field of the latest step that set it, or def.
func boolField(r *workflow.Run, name string, def bool) bool {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		var m map[string]any
		if r.Steps[i].DecodeExtra(&m) == nil {
			if v, ok := m[name].(bool); ok {
				return v
			}
		}
	}
	return def
}

// precommitContext reads the repository's git state through the host for the expert.
func precommitContext(r *workflow.Run) string {
	path := stringField(r, "path", "")
	if path == "" {
		return ""
	}
	var b strings.Builder
	st, err := pal.ReadGitStatus(path, 0)
	if err != nil {
		return section("GIT STATE", "The repository's state could not be read: "+err.Error())
	}
	head := "Repository: " + st.Repo + "\nBranch: " + orNone(st.Branch) + "\nHEAD: " + orNone(st.Head)
	var withheld []string
	list := func(title string, changes []pal.GitChange) {
		if len(changes) == 0 {
			return
		}
		var lines []string
		for i, ch := range changes {
			if i == precommitListedChanges {
				lines = append(lines, fmt.Sprintf("… and %d more", len(changes)-i))
				break
			}
			line := ch.Status + " " + ch.Path
			if ch.Denied != "" {
				line += " (content withheld by the policy: " + ch.Denied + ")"
				withheld = append(withheld, ch.Path)
			}
			lines = append(lines, line)
		}
		head += "\n" + title + ":\n" + strings.Join(lines, "\n")
	}
	list("Staged", st.Staged)
	list("Unstaged", st.Unstaged)
	list("Untracked", st.Untracked)
	b.WriteString(section("GIT STATE", head))

	diff := func(title string, req pal.GitDiffRequest) {
		req.Path, req.MaxBytes = path, precommitDiffBytes
		d, text, err := pal.ReadGitDiff(req)
		if err != nil {
			b.WriteString(section(title, "Not available: "+err.Error()))
			return
		}
		note := ""
		for _, o := range d.Omitted {
			note += "Left out (" + o.Denied + "): " + o.Path + "\n"
		}
		if d.Truncated {
			note += "The diff was cut at its size cap.\n"
		}
		if strings.TrimSpace(text) == "" && note == "" {
			text = "(no changes)"
		}
		b.WriteString(section(title, note+text))
	}
	if ref := stringField(r, "compare_to", ""); ref != "" {
		diff("DIFF AGAINST "+ref, pal.GitDiffRequest{Mode: "ref", Ref: ref})
	} else {
		if boolField(r, "include_staged", true) {
			diff("STAGED CHANGES", pal.GitDiffRequest{Mode: "staged"})
		}
		if boolField(r, "include_unstaged", true) {
			diff("UNSTAGED CHANGES", pal.GitDiffRequest{Mode: "unstaged"})
		}
		var files []string
		n := 0
		for _, ch := range st.Untracked {
			if ch.Denied != "" {
				continue
			}
			if n == precommitNewFiles {
				files = append(files, fmt.Sprintf("(%d more new files not shown)", len(st.Untracked)-n))
				break
			}
			n++
			info, data, err := pal.ReadFile(ch.Path, precommitNewFileBytes)
			if err != nil {
				files = append(files, "--- "+ch.Path+": not readable ("+err.Error()+")")
				continue
			}
			cut := ""
			if info.Truncated {
				cut = " (first " + fmt.Sprint(len(data)) + " bytes)"
			}
			files = append(files, "--- NEW FILE "+ch.Path+cut+"\n"+string(data))
		}
		b.WriteString(section("NEW FILES", strings.Join(files, "\n")))
	}
	if len(withheld) > 0 {
		b.WriteString(section("WITHHELD", "These changed files match the server's deny rules; their content was not sent. "+
			"Say whether they look like something that must not be committed (secrets, keys, local configuration):\n"+strings.Join(withheld, "\n")))
	}
	b.WriteString(section("VALIDATION SETTINGS", "Lowest severity to report: "+stringField(r, "severity_filter", "all")+
		"\nFocus: "+stringField(r, "focus_on", "none given")))
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

const precommitPrompt = `You are a senior engineer checking changes another AI agent is about to commit. You see its findings, the repository's git state and the diffs.

Look for what must not reach the repository: bugs the change introduces, regressions in callers, missing error handling, incomplete changes (tests, docs, migrations, configuration that should move with the code), secrets and credentials, debug output, unrelated edits and files that should not be tracked. Rate each finding:
- critical: breaks the build, loses data, leaks a secret or opens a security hole
- high: wrong behaviour on a likely path, a missing part of the change
- medium: fragile code, missing tests where they matter
- low: style and naming
Respect the lowest severity the settings ask for. Base every finding on the diff you were shown.`
