package secrets

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/pal-mcp/pal/internal/boundedre"
)

// gitleaks.toml is gitleaks' default rule set (v8.30.1, MIT licence: LICENSE.gitleaks), kept
// unchanged so that updating it is a copy of one file. pal does not parse it at start: the
// rules it holds, as parseGitleaks reads them, are Go code in gitleaks_rules.go (gitleaksRules),
// which TestGitleaksRulesGenerated keeps equal to the file (updating the file: copy it, then
// `go test ./policy/secrets -run TestGitleaksRulesGenerated -update-rules`). Parsing took
// ~17 ms of every start (docs/RATIONALE.md).

// GitleaksVersion is the gitleaks release gitleaks.toml comes from.
const GitleaksVersion = "v8.30.1"

// tomlConfig is the part of gitleaks' configuration format that pal reads. Decoding the
// embedded file leaves no key undecoded (a test checks it), so no rule is silently weakened.
type tomlConfig struct {
	Title      string          `toml:"title"`
	MinVersion string          `toml:"minVersion"`
	Allowlist  tomlAllowlist   `toml:"allowlist"`
	Allowlists []tomlAllowlist `toml:"allowlists"`
	Rules      []tomlRule      `toml:"rules"`
}

type tomlRule struct {
	ID          string          `toml:"id"`
	Description string          `toml:"description"`
	Regex       string          `toml:"regex"`
	SecretGroup int             `toml:"secretGroup"`
	Entropy     float64         `toml:"entropy"`
	Keywords    []string        `toml:"keywords"`
	Path        string          `toml:"path"`
	Tags        []string        `toml:"tags"`
	Allowlists  []tomlAllowlist `toml:"allowlists"`
}

type tomlAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`   // "OR" (default) or "AND"
	RegexTarget string   `toml:"regexTarget"` // "secret" (default), "match" or "line"
	Regexes     []string `toml:"regexes"`
	Paths       []string `toml:"paths"`
	Commits     []string `toml:"commits"`
	StopWords   []string `toml:"stopwords"`
}

// Rule is a detection rule added by configuration ([[redaction.rules]] in pal.toml).
type Rule struct {
	// ID names the kind of secret; it appears in the marker, [REDACTED:<id>]. 1 to 64 of a-z,
	// 0-9, '-' and '_'.
	ID string
	// Regex is a Go regular expression (RE2 syntax) matching the secret, or its context with
	// the secret in a group.
	Regex string
	// Keywords, when set, run the rule only on texts that hold one of them (matched without
	// regard to ASCII case). Default: empty, meaning every text.
	Keywords []string
	// SecretGroup is the capture group holding the secret; 0 means the first non-empty group,
	// or the whole match when the regex has no group. Default 0.
	SecretGroup int
	// Entropy, when positive, is the Shannon entropy (bits per character) a secret must exceed.
	// Default 0 (no check).
	Entropy float64
}

var ruleIDRE = boundedre.MustCompile(`^[a-z0-9][a-z0-9_-]*$`, 64)

// Errors of Rule.Validate.
var (
	ErrRuleID    = errors.New("rule id must be 1 to 64 of a-z, 0-9, '-' and '_'")
	ErrRuleRegex = errors.New("rule regex does not compile")
	ErrRuleGroup = errors.New("rule secret_group is not a group of its regex")
)

// Validate checks the rule: a valid id, a regex that compiles under Go's regexp, and a
// secret group the regex has.
func (r Rule) Validate() error {
	if !ruleIDRE.MatchString(r.ID) {
		return fmt.Errorf("%w (got %q)", ErrRuleID, r.ID)
	}
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRuleRegex, err)
	}
	if r.SecretGroup < 0 || r.SecretGroup > re.NumSubexp() {
		return fmt.Errorf("%w: %d (the regex has %d)", ErrRuleGroup, r.SecretGroup, re.NumSubexp())
	}
	if strings.TrimSpace(r.Regex) == "" {
		return fmt.Errorf("%w: empty", ErrRuleRegex)
	}
	return nil
}

// palRules cover what gitleaks' rules leave out because they look for committed secrets, not
// for secrets in any text: passwords in URLs (.git-credentials, connection strings), .netrc
// passwords, and private key bodies whose END line was cut off by a size cap.
var palRules = []Rule{
	{
		ID:       "url-password",
		Regex:    `(?i)\b[a-z][a-z0-9+.-]{1,30}://[^\s:/?#@'"<>]{1,128}:([^\s/?#@'"<>]{1,256})@[a-z0-9\[]`,
		Keywords: []string{"://"},
	},
	{
		ID:       "netrc-password",
		Regex:    `(?im)(?:\blogin[ \t]+\S+[ \t]+|^[ \t]*)password[ \t]+([^\s'"=:\[][^\s'"]*)`,
		Keywords: []string{"password"},
	},
	{
		ID:       "private-key",
		Regex:    `(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,.]*`,
		Keywords: []string{"-----begin"},
	},
}

// rule is a compiled-on-demand detection rule.
type rule struct {
	id          string
	pattern     string
	secretGroup int
	entropy     float64
	keywords    []string // lower case
	path        string   // the rule applies only to files whose path matches; "" for any text
	allow       []*allowlist
	// multiline rules may match across many lines (private keys, Kubernetes secrets): they
	// run on the whole text, not on windows around their keywords.
	multiline bool
	// assignment: the rule reads "(?i)[\w.-]{0,50}?<keyword>[ \t\w.-]{0,20}[\s'"]{0,3}<operator>...",
	// so it runs anchored at each keyword an operator follows (see findAnchored).
	assignment bool
	anchored   *regexp.Regexp // the pattern less its lazy prefix, anchored; set by compile
	// lead is a keyword every match starts with (the regex begins with it literally, ASCII
	// case aside): the rule then runs anchored at each place the keyword occurs (leadRE),
	// not over the text. "" when the regex begins otherwise.
	lead   string
	leadRE *regexp.Regexp

	once   sync.Once
	re     *regexp.Regexp
	pathRE *regexp.Regexp
	err    error
}

// allowlist says when a match is not a secret (an example value, a placeholder).
type allowlist struct {
	and       bool   // every check that is set must pass (else any one)
	target    string // what regexes test: "secret", "match" or "line"
	regexes   []string
	res       []*regexp.Regexp
	stopwords []string // lower case
	// paths or commits given: a check pal cannot make for every text; under "AND" the list
	// never allows (pal errs towards redacting), under "OR" the other checks still apply.
	needsPath bool
}

// compile builds the rule's regular expressions the first time the rule runs.
func (r *rule) compile() error {
	r.once.Do(func() {
		if r.re, r.err = regexp.Compile(r.pattern); r.err != nil {
			r.err = fmt.Errorf("rule %s: %w", r.id, r.err)
			return
		}
		if r.assignment {
			if r.anchored, r.err = regexp.Compile(`(?i)^` + strings.TrimPrefix(r.pattern, lazyIdentPrefix)); r.err != nil {
				r.err = fmt.Errorf("rule %s: %w", r.id, r.err)
				return
			}
		}
		if r.lead != "" {
			if r.leadRE, r.err = regexp.Compile(`^(?:` + r.pattern + `)`); r.err != nil {
				r.err = fmt.Errorf("rule %s: %w", r.id, r.err)
				return
			}
		}
		if r.path != "" {
			if r.pathRE, r.err = regexp.Compile(r.path); r.err != nil {
				r.err = fmt.Errorf("rule %s path: %w", r.id, r.err)
				return
			}
		}
		for _, a := range r.allow {
			if r.err = a.compile(); r.err != nil {
				r.err = fmt.Errorf("rule %s allowlist: %w", r.id, r.err)
				return
			}
		}
	})
	return r.err
}

func (a *allowlist) compile() error {
	if a.res != nil || len(a.regexes) == 0 {
		return nil
	}
	res := make([]*regexp.Regexp, 0, len(a.regexes))
	for _, p := range a.regexes {
		re, err := regexp.Compile(p)
		if err != nil {
			return err
		}
		res = append(res, re)
	}
	a.res = res
	return nil
}

// allows reports whether the allowlist clears a finding: secret is the secret, match the
// whole match, line the line(s) around it.
func (a *allowlist) allows(secret, match, line string) bool {
	target := secret
	switch a.target {
	case "match":
		target = match
	case "line":
		target = line
	}
	regexOK := false
	for _, re := range a.res {
		if target != "" && re.MatchString(target) {
			regexOK = true
			break
		}
	}
	stopOK := false
	if len(a.stopwords) > 0 && secret != "" {
		low := strings.ToLower(secret)
		for _, w := range a.stopwords {
			if strings.Contains(low, w) {
				stopOK = true
				break
			}
		}
	}
	if !a.and {
		return regexOK || stopOK
	}
	if a.needsPath {
		return false
	}
	checks := 0
	pass := 0
	if len(a.res) > 0 {
		checks++
		if regexOK {
			pass++
		}
	}
	if len(a.stopwords) > 0 {
		checks++
		if stopOK {
			pass++
		}
	}
	return checks > 0 && pass == checks
}

func newAllowlist(t tomlAllowlist) (*allowlist, error) {
	a := &allowlist{
		and:       strings.EqualFold(t.Condition, "AND"),
		target:    strings.ToLower(t.RegexTarget),
		regexes:   t.Regexes,
		needsPath: len(t.Paths) > 0 || len(t.Commits) > 0,
	}
	switch a.target {
	case "", "secret", "match", "line":
	default:
		return nil, fmt.Errorf("unknown regexTarget %q", t.RegexTarget)
	}
	if c := strings.ToUpper(t.Condition); c != "" && c != "OR" && c != "AND" {
		return nil, fmt.Errorf("unknown condition %q", t.Condition)
	}
	for _, w := range t.StopWords {
		a.stopwords = append(a.stopwords, strings.ToLower(w))
	}
	return a, nil
}

func lowerAll(words []string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if w = strings.ToLower(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// ruleSet is the parsed built-in rules, shared by every Scanner: each rule compiles once, the
// first time a text holds one of its keywords.
type ruleSet struct {
	rules  []*rule
	global []*allowlist
}

var (
	builtinOnce sync.Once
	builtin     *ruleSet
	builtinErr  error
)

// builtinRules returns gitleaks' rules (gitleaksRules, generated from gitleaks.toml) with pal's
// own added, built once.
func builtinRules() (*ruleSet, error) {
	builtinOnce.Do(func() { builtin, builtinErr = withPalRules(gitleaksRules()) })
	return builtin, builtinErr
}

// parseGitleaks reads a gitleaks configuration and appends pal's rules. Path-only rules
// (no regex) are left out: they flag files by name, which the deny globs of [paths] do.
func parseGitleaks(data string) (*ruleSet, error) {
	rs, err := decodeGitleaks(data)
	if err != nil {
		return nil, err
	}
	return withPalRules(rs)
}

// decodeGitleaks reads a gitleaks configuration into rules, nothing compiled: what
// gitleaksRules holds for gitleaks.toml.
func decodeGitleaks(data string) (*ruleSet, error) {
	var cfg tomlConfig
	md, err := toml.Decode(data, &cfg)
	if err != nil {
		return nil, fmt.Errorf("secrets: gitleaks rules: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("secrets: gitleaks rules: unknown key %s", und[0])
	}
	rs := &ruleSet{}
	globals := append([]tomlAllowlist{cfg.Allowlist}, cfg.Allowlists...)
	for _, g := range globals {
		if len(g.Regexes) == 0 && len(g.StopWords) == 0 {
			continue
		}
		a, err := newAllowlist(g)
		if err != nil {
			return nil, fmt.Errorf("secrets: global allowlist: %w", err)
		}
		rs.global = append(rs.global, a)
	}
	for _, tr := range cfg.Rules {
		if tr.Regex == "" {
			continue
		}
		r := &rule{id: tr.ID, pattern: tr.Regex, secretGroup: tr.SecretGroup, entropy: tr.Entropy,
			keywords: lowerAll(tr.Keywords), path: tr.Path, multiline: spansLines(tr.Regex)}
		r.lead = leadKeyword(r.pattern, r.keywords)
		// The generic rule's keywords are common words of code; each is, in its regex, the
		// identifier before an assignment. A test checks the regex still reads so.
		r.assignment = tr.ID == "generic-api-key" && strings.HasPrefix(tr.Regex, lazyIdentPrefix) &&
			strings.Contains(tr.Regex, assignmentSegment)
		for _, ta := range tr.Allowlists {
			a, err := newAllowlist(ta)
			if err != nil {
				return nil, fmt.Errorf("secrets: rule %s: %w", tr.ID, err)
			}
			r.allow = append(r.allow, a)
		}
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

// withPalRules compiles rs's global allowlists (every match is checked against them) and
// appends pal's rules to it.
func withPalRules(rs *ruleSet) (*ruleSet, error) {
	for _, a := range rs.global {
		if err := a.compile(); err != nil {
			return nil, fmt.Errorf("secrets: global allowlist: %w", err)
		}
	}
	for _, pr := range palRules {
		r := fromRule(pr)
		r.multiline = pr.ID == "private-key"
		r.lead = leadKeyword(r.pattern, r.keywords)
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

// fromRule turns a configured rule into a rule that runs on whole texts: pal cannot tell
// how many lines a configured pattern may span.
func fromRule(r Rule) *rule {
	return &rule{id: r.ID, pattern: r.Regex, secretGroup: r.SecretGroup, entropy: r.Entropy, keywords: lowerAll(r.Keywords),
		multiline: true}
}

// leadKeyword returns the keyword that every match of pattern starts with, when the regex
// begins with a literal (through groups) that starts with one of keywords once lower-cased;
// else "".
func leadKeyword(pattern string, keywords []string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	lit := strings.ToLower(leadingLiteral(re.Simplify()))
	for _, k := range keywords {
		if k != "" && strings.HasPrefix(lit, k) {
			return k
		}
	}
	return ""
}

// leadingLiteral returns the literal text every match of re starts with.
func leadingLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCapture:
		return leadingLiteral(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			if sub.Op != syntax.OpLiteral {
				if b.Len() == 0 {
					return leadingLiteral(sub)
				}
				break
			}
			b.WriteString(string(sub.Rune))
		}
		return b.String()
	}
	return ""
}

// lazyIdentPrefix starts a semi-generic rule: the identifier around the keyword.
const lazyIdentPrefix = `(?i)[\w.-]{0,50}?`

// assignmentSegment is how gitleaks' semi-generic rules say "an identifier, then an
// assignment": what follows the keyword group.
const assignmentSegment = `(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)`

// assignmentFollows reports whether text[at:] starts as assignmentSegment says: up to 20 of
// [ \t\w.-], up to 3 of [\s'"], then one of the operators' first characters.
func assignmentFollows(text string, at int) bool {
	for i := 0; i <= 20; i++ {
		p := at + i
		for j := 0; j <= 3; j++ {
			q := p + j
			if q >= len(text) {
				break
			}
			if strings.IndexByte("=>:|?,", text[q]) >= 0 {
				return true
			}
			if c := text[q]; c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' && c != '\'' && c != '"' {
				break
			}
		}
		if p >= len(text) || !isIdentOrBlank(text[p]) {
			return false
		}
	}
	return false
}

// isIdentOrBlank is [ \t\w.-].
func isIdentOrBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '.' || c == '-' || c == '_' ||
		(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// spansLines reports whether a pattern may match across more than a few lines: it has a class
// of any character ([\s\S], [\w\W] ...), a "." in s mode, a multi-line mode, or white
// space repeated without bound.
func spansLines(pattern string) bool {
	for _, s := range []string{`[\s\S`, `[\S\s`, `[\w\W`, `[\d\D`, `(?s`, `(?m`, `(?is`, `(?im`, `(?ms`, `\s]*`, `\s]+`, `\s]{`} {
		if strings.Contains(pattern, s) {
			return true
		}
	}
	return false
}
