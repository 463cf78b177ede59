package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/workflow"
)

// knownCompliance are the compliance frameworks secaudit names in its guidance; others are
// accepted with a warning (a typo is more likely than a framework nobody has heard of).
var knownCompliance = []string{"SOC2", "PCI DSS", "HIPAA", "GDPR", "ISO 27001", "NIST", "FedRAMP", "FISMA"}

// secauditFields are secaudit's own fields.
type secauditFields struct {
	SecurityScope          string   `json:"security_scope"`
	ThreatLevel            string   `json:"threat_level"`
	ComplianceRequirements []string `json:"compliance_requirements"`
	AuditFocus             string   `json:"audit_focus"`
	SeverityFilter         string   `json:"severity_filter"`
}

// secauditSettings merges the run's own fields, later steps overriding earlier ones.
func secauditSettings(r *workflow.Run) secauditFields {
	x := secauditFields{ThreatLevel: "medium", AuditFocus: "comprehensive", SeverityFilter: "all"}
	for _, s := range r.Steps {
		_ = s.DecodeExtra(&x)
	}
	return x
}

func init() {
	workflow.Register(&workflow.Tool{
		Name:        "secaudit",
		Title:       "Security audit",
		Description: "Audit security in steps you do yourself (OWASP, auth, secrets, dependencies); another model checks it.",
		Omit:        []string{workflow.FieldFilesChecked, workflow.FieldRelevantContext, workflow.FieldHypothesis, workflow.FieldThinkingMode},
		Describe: map[string]string{
			workflow.FieldIssuesFound: "[{severity: critical|high|medium|low, description, location}]",
			workflow.FieldConfidence:  "certain skips the expert.",
		},
		Fields: []workflow.Field{
			{Name: "security_scope", Schema: `{"type":"string"}`, Description: "System, users, exposure."},
			{Name: "threat_level", Schema: `{"type":"string","enum":["low","medium","high","critical"]}`, Description: "Default medium."},
			{Name: "compliance_requirements", Schema: `{"type":"array","items":{"type":"string"}}`, Description: "E.g. SOC2, HIPAA."},
			{Name: "audit_focus", Schema: `{"type":"string","enum":["owasp","compliance","infrastructure","dependencies","comprehensive"]}`, Description: "Default comprehensive."},
			{Name: "severity_filter", Schema: severityEnum, Description: "Lowest severity to report."},
		},
		Names: workflow.Names{Pause: "pause_for_security_audit", Progress: "security_audit_status",
			Complete: "security_audit_complete", Summary: "complete_security_audit"},
		Validate: func(r *workflow.Run) error {
			var x secauditFields
			_ = r.Current().DecodeExtra(&x)
			for _, c := range x.ComplianceRequirements {
				if !slices.ContainsFunc(knownCompliance, func(k string) bool { return strings.EqualFold(k, c) }) {
					r.Warnings = append(r.Warnings, fmt.Sprintf("compliance requirement %q is not one of %s; it is passed on as written.", c, strings.Join(knownCompliance, ", ")))
				}
			}
			return nil
		},
		Actions: secauditActions,
		Expert: &workflow.Expert{
			SystemPrompt:     secauditPrompt + expertRules,
			Instruction:      "Audit the code and the agent's findings. Confirm, correct or drop each reported vulnerability and add the ones it missed, ordered by severity, each with location, how it could be exploited and the fix. End with the three changes that reduce risk most.",
			EmbedFiles:       true,
			NeedsEvidence:    true,
			Skip:             workflow.SkipAt(workflow.Certain),
			SkipStatus:       "security_analysis_complete",
			SkipExpertStatus: "skipped_due_to_certain_audit_confidence",
			SkipNextSteps:    "Your audit is final at confidence certain: present the vulnerabilities by severity with location, impact and fix, then offer to fix the most severe.",
			Context: func(r *workflow.Run) string {
				x := secauditSettings(r)
				compliance := strings.Join(x.ComplianceRequirements, ", ")
				if compliance == "" {
					compliance = "none given"
				}
				scope := x.SecurityScope
				if scope == "" {
					scope = "not described"
				}
				return section("AUDIT SETTINGS", "Scope: "+scope+"\nThreat level: "+x.ThreatLevel+"\nFocus: "+x.AuditFocus+
					"\nCompliance: "+compliance+"\nLowest severity to report: "+x.SeverityFilter)
			},
			NextSteps: "Merge the expert's findings with yours, drop what you cannot confirm in the code, and present the vulnerabilities by severity with location, impact and fix.",
		},
		Finish: func(r *workflow.Run, reply map[string]any) {
			st := reply["security_audit_status"].(map[string]any)
			st["vulnerabilities_by_severity"] = r.IssuesBySeverity()
			st["audit_confidence"] = r.Confidence()
		},
	})
}

func secauditActions(r *workflow.Run) []string {
	s := r.Current()
	switch {
	case s.StepNumber == 1:
		return []string{
			"Map the attack surface: entry points, trust boundaries, who can call what, which data is sensitive.",
			"Identify the technology stack and the security controls already in place.",
			"List the files that handle input, authentication, authorization, secrets and storage in relevant_files.",
		}
	case s.StepNumber == 2:
		return []string{
			"Check authentication and authorization on every entry point: missing checks, privilege escalation, session handling.",
			"Check input handling: injection (SQL, command, template), path traversal, deserialization, output encoding.",
			"Record each vulnerability in issues_found with severity and location.",
		}
	case s.Confidence == workflow.AlmostCertain || s.Confidence == workflow.Certain:
		return []string{"Re-read the code behind each reported vulnerability and drop any you cannot confirm.", "Make sure relevant_files lists every file the findings rest on."}
	}
	return []string{
		"Check secrets and cryptography: hard-coded keys, weak algorithms, secrets in logs or errors.",
		"Check dependencies and configuration: known-vulnerable versions, debug modes, permissive CORS or TLS settings.",
		"Check the compliance requirements, if any, against what the code does with personal or payment data.",
	}
}

const secauditPrompt = `You are a senior application security engineer checking a security audit that another AI agent carried out step by step. You see its findings and the code.

Judge by exploitability and impact in the system's real context (its scope and threat level):
- critical: remote exploitation, authentication bypass, exposure of secrets or sensitive data at scale
- high: privilege escalation, injection or data exposure that needs some access or conditions
- medium: weaknesses that need several conditions, missing defence in depth, risky defaults
- low: hardening and hygiene
For each vulnerability give where it is, how an attacker would reach it, what they gain, and the smallest fix that closes it. Prefer established controls over custom ones. Map findings to the named compliance requirements where they apply. Do not report theoretical issues the code rules out; say what you could not check.`
