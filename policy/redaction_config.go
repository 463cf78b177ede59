package policy

import (
	"fmt"

	"github.com/pal-mcp/pal/policy/secrets"
)

// RedactionConfig is [redaction]: secrets removed from file contents, prompts, log lines and
// audit records before they leave the host.
//
// Turning redaction off is wider than leaving it on (a lock may forbid it); adding rules is
// narrower. The configured provider keys are redacted whatever this section says.
type RedactionConfig struct {
	// Enabled runs the rule set (gitleaks' rules, pal's own, and Rules). Default true.
	Enabled bool `toml:"enabled"`
	// Rules are added to the built-in ones ([[redaction.rules]]). Default: none.
	Rules []RedactionRule `toml:"rules"`
}

// RedactionRule is one [[redaction.rules]] entry.
type RedactionRule struct {
	// ID names the kind of secret in the marker, [REDACTED:<id>]: 1 to 64 of a-z, 0-9, '-'
	// and '_'. Required.
	ID string `toml:"id"`
	// Regex is a Go regular expression (RE2 syntax: no look-around). Required.
	Regex string `toml:"regex"`
	// Keywords, when set, run the rule only on texts holding one of them (ASCII case
	// ignored); it makes the rule cheap. Default: empty (every text).
	Keywords []string `toml:"keywords"`
	// SecretGroup is the capture group holding the secret; 0 means the first group that
	// matched, or the whole match when there is no group. Default 0.
	SecretGroup int `toml:"secret_group"`
	// Entropy, when positive, is the Shannon entropy in bits per character a match must
	// exceed to count (3 to 4 suits random tokens). Default 0 (no check).
	Entropy float64 `toml:"entropy"`
}

// DefaultRedaction is the built-in [redaction]: on, with no added rule.
func DefaultRedaction() RedactionConfig { return RedactionConfig{Enabled: true} }

// rules converts the configured rules for package secrets.
func (r RedactionConfig) rules() []secrets.Rule {
	out := make([]secrets.Rule, 0, len(r.Rules))
	for _, x := range r.Rules {
		out = append(out, secrets.Rule{ID: x.ID, Regex: x.Regex, Keywords: x.Keywords, SecretGroup: x.SecretGroup, Entropy: x.Entropy})
	}
	return out
}

// Caps of [[redaction.rules]]: every added rule runs over every file read, prompt, log line and
// audit field, and an untrusted project file may add rules (adding one only narrows), so their
// number and size are bounded.
const (
	MaxRedactionRules      = 64   // rules added by all layers together
	MaxRedactionRegexBytes = 1024 // bytes of one rule's regex
)

// validate checks every added rule, naming the first bad one by its index.
func (r RedactionConfig) validate(file string) error {
	if len(r.Rules) > MaxRedactionRules {
		return &ConfigError{File: file, Key: "redaction.rules", Err: ErrInvalidValue,
			Msg: fmt.Sprintf("%d rules; at most %d may be added", len(r.Rules), MaxRedactionRules)}
	}
	for i, rule := range r.rules() {
		if len(rule.Regex) > MaxRedactionRegexBytes {
			return &ConfigError{File: file, Key: fmt.Sprintf("redaction.rules[%d]", i), Err: ErrInvalidValue,
				Msg: fmt.Sprintf("regex is %d bytes; at most %d", len(rule.Regex), MaxRedactionRegexBytes)}
		}
		if err := rule.Validate(); err != nil {
			return &ConfigError{File: file, Key: fmt.Sprintf("redaction.rules[%d]", i), Msg: err.Error(), Err: ErrInvalidValue}
		}
	}
	return nil
}

// Scanner builds the secret scanner [redaction] describes; literals (the provider keys) are
// redacted even when Enabled is false.
func (r RedactionConfig) Scanner(literals ...string) (*secrets.Scanner, error) {
	return secrets.New(secrets.Options{Disabled: !r.Enabled, Rules: r.rules(), Literals: literals})
}

// ruleKeys describes each added rule as one string, for the lock and trust rules: a layer that
// drops a rule an earlier layer added widens what leaves the host.
func (r RedactionConfig) ruleKeys() []string {
	out := make([]string, 0, len(r.Rules))
	for _, x := range r.Rules {
		out = append(out, fmt.Sprintf("%s %q keywords=%q group=%d entropy=%g", x.ID, x.Regex, x.Keywords, x.SecretGroup, x.Entropy))
	}
	return out
}
