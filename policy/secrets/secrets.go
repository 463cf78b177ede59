// Package secrets finds and redacts secrets in text before it leaves the host for a model
// provider, a log or an audit record.
//
// Detection uses gitleaks' default rule set, embedded as data (gitleaks.toml, MIT licence),
// plus a few rules of pal's own for text that is not source code (passwords in URLs, .netrc,
// private keys cut short), plus rules from configuration, plus literal values (the configured
// provider keys) that are always redacted. A rule runs only on texts that hold one of its
// keywords, and its regular expression is compiled the first time it runs.
//
// A secret is replaced by a marker naming its kind, "[REDACTED:aws-access-token]"; the
// surrounding text is kept so that a model still sees the shape of the code.
package secrets

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// LiteralKind is the kind named in the marker of a literal (configured) secret.
const LiteralKind = "provider-key"

// BrokenRulesKind is the kind of the one finding, the whole text, that a scan reports when the
// built-in rules did not build: a scanner that cannot tell secrets apart hides everything.
const BrokenRulesKind = "rules-unavailable"

// MinLiteralLen is the shortest literal a Scanner hides; shorter values would blank out
// ordinary words.
const MinLiteralLen = 8

// Marker returns the text that replaces a secret of the given kind.
func Marker(kind string) string { return markerPrefix + kind + "]" }

const markerPrefix = "[REDACTED:"

// Options configure a Scanner. The zero value scans with the built-in rules.
type Options struct {
	// Disabled turns the rules off; literals are still redacted. pal.toml [redaction]
	// enabled = false.
	Disabled bool
	// Rules are added to the built-in ones ([[redaction.rules]]); each must Validate.
	Rules []Rule
	// Literals are values always redacted, whatever Disabled says (provider keys). Values
	// shorter than MinLiteralLen after trimming are ignored.
	Literals []string
}

// Scanner finds secrets in text. It is safe for concurrent use. Its rules and their keyword
// index are built at its first scan, not by New: the built-in rules take ~2 ms to build in a
// new process, which pal's start (its tools/list reply) need not wait for (docs/RATIONALE.md
// §79).
type Scanner struct {
	disabled bool
	extra    []Rule // Options.Rules, validated by New
	once     sync.Once
	buildErr error // the built-in rules did not build: every scan then finds the whole text

	rules  []*rule
	global []*allowlist
	// keywords are the rules' lower-case keywords, each once; byKeyword[k] lists the rules
	// keyword k triggers; always lists rules without keywords.
	keywords  []string
	byKeyword [][]int
	always    []int
	// prefixes maps a pair of bytes to 1 + its index in byPrefix, which lists the keywords
	// (by index) that start with it, or to 0: a one-pass search with an array lookup per
	// byte (every keyword has at least two bytes; shorter ones go to short).
	prefixes *[1 << 16]uint16
	byPrefix [][]int
	short    []int

	mu       sync.RWMutex
	literals []string // lower-cased ASCII, each once
}

// New makes a Scanner. It fails only when an added rule does not validate.
func New(o Options) (*Scanner, error) {
	s := &Scanner{disabled: o.Disabled}
	if !o.Disabled {
		for _, r := range o.Rules {
			if err := r.Validate(); err != nil {
				return nil, err
			}
		}
		s.extra = slices.Clone(o.Rules)
	}
	s.AddLiterals(o.Literals...)
	return s, nil
}

// loadBuiltinRules returns the built-in rules; tests replace it.
var loadBuiltinRules = builtinRules

// build makes the rules and their keyword index, once, at the first scan.
func (s *Scanner) build() {
	s.once.Do(func() {
		if s.disabled {
			return
		}
		rs, err := loadBuiltinRules()
		if err != nil {
			s.buildErr = err
			return
		}
		s.rules = slices.Clone(rs.rules)
		s.global = rs.global
		for _, r := range s.extra {
			s.rules = append(s.rules, fromRule(r))
		}
		s.index()
	})
}

// index builds keywords, byKeyword, always, prefixes, byPrefix and short from s.rules.
func (s *Scanner) index() {
	index := map[string]int{}
	for i, r := range s.rules {
		if len(r.keywords) == 0 {
			s.always = append(s.always, i)
			continue
		}
		for _, k := range r.keywords {
			ki, ok := index[k]
			if !ok {
				ki = len(s.keywords)
				index[k] = ki
				s.keywords = append(s.keywords, k)
				s.byKeyword = append(s.byKeyword, nil)
			}
			s.byKeyword[ki] = append(s.byKeyword[ki], i)
		}
	}
	s.prefixes = new([1 << 16]uint16)
	for ki, k := range s.keywords {
		if len(k) < 2 {
			s.short = append(s.short, ki)
			continue
		}
		p := uint16(k[0])<<8 | uint16(k[1])
		if s.prefixes[p] == 0 {
			s.byPrefix = append(s.byPrefix, nil)
			s.prefixes[p] = uint16(len(s.byPrefix))
		}
		g := s.prefixes[p] - 1
		s.byPrefix[g] = append(s.byPrefix[g], ki)
	}
}

// AddLiterals adds values to redact always (kind LiteralKind). Matching ignores ASCII case.
func (s *Scanner) AddLiterals(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		v = FoldASCII(strings.TrimSpace(v))
		if len(v) < MinLiteralLen || slices.Contains(s.literals, v) {
			continue
		}
		s.literals = append(s.literals, v)
	}
}

// Enabled reports whether the scanner runs rules (not only literals).
func (s *Scanner) Enabled() bool { return s != nil && !s.disabled }

// Finding is one secret in a text: its kind (the rule id, or LiteralKind) and its byte range
// [Start, End).
type Finding struct {
	Kind       string
	Start, End int
}

// Report counts the secrets redacted from a text.
type Report struct {
	Count int            // secrets replaced
	Kinds map[string]int // count per kind; nil when Count is 0
}

// Add adds o's counts to r.
func (r *Report) Add(o Report) {
	if o.Count == 0 {
		return
	}
	if r.Kinds == nil {
		r.Kinds = map[string]int{}
	}
	r.Count += o.Count
	for k, n := range o.Kinds {
		r.Kinds[k] += n
	}
}

// KindNames returns the kinds found, sorted.
func (r Report) KindNames() []string {
	out := make([]string, 0, len(r.Kinds))
	for k := range r.Kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Redact returns text with every secret replaced by its marker, and what was replaced.
// Rules tied to file names (gitleaks' path rules) do not run; use RedactFile for a file's
// contents.
func (s *Scanner) Redact(text string) (string, Report) { return s.RedactFile("", text) }

// RedactFile is Redact for the contents of the file at path ("/"-separated, relative to its
// root), so that rules tied to file names run too.
func (s *Scanner) RedactFile(path, text string) (string, Report) {
	found := s.FindFile(path, text)
	if len(found) == 0 {
		return text, Report{}
	}
	rep := Report{Count: len(found), Kinds: map[string]int{}}
	var b strings.Builder
	b.Grow(len(text) + 16*len(found))
	last := 0
	for _, f := range found {
		b.WriteString(text[last:f.Start])
		b.WriteString(Marker(f.Kind))
		last = f.End
		rep.Kinds[f.Kind]++
	}
	b.WriteString(text[last:])
	return b.String(), rep
}

// String returns text redacted; it suits places that need no report (log lines).
func (s *Scanner) String(text string) string {
	out, _ := s.Redact(text)
	return out
}

// Find returns the secrets in text, in order, overlapping ones merged.
func (s *Scanner) Find(text string) []Finding { return s.FindFile("", text) }

// FindFile is Find for the contents of the file at path.
func (s *Scanner) FindFile(path, text string) []Finding {
	if s == nil || text == "" {
		return nil
	}
	s.build()
	if s.buildErr != nil {
		// Fail closed: with no rules to tell secrets apart, all of it may be one.
		return []Finding{{Kind: BrokenRulesKind, Start: 0, End: len(text)}}
	}
	lower := FoldASCII(text)
	var found []Finding
	s.mu.RLock()
	literals := s.literals
	s.mu.RUnlock()
	for _, lit := range literals {
		for off := 0; ; {
			i := strings.Index(lower[off:], lit)
			if i < 0 {
				break
			}
			found = append(found, Finding{Kind: LiteralKind, Start: off + i, End: off + i + len(lit)})
			off += i + 1
		}
	}
	if len(s.rules) > 0 {
		for _, i := range s.candidates(lower) {
			found = s.rules[i].find(text, lower, path, s.global, found)
		}
	}
	return merge(found)
}

// candidates returns the indexes of the rules to run on a text: those without keywords and
// those with a keyword the text holds, each once, in rule order. The text is read once,
// looking up each pair of bytes among the keywords' first two bytes.
func (s *Scanner) candidates(lower string) []int {
	present := make([]bool, len(s.keywords))
	found := 0
	for _, k := range s.short {
		if strings.Contains(lower, s.keywords[k]) {
			present[k] = true
			found++
		}
	}
	// Keywords are looked up by index, not by name: hashing a string per candidate
	// position was most of a scan of ordinary source (docs/RATIONALE.md §59).
	for i := 0; i+1 < len(lower) && found < len(s.keywords); i++ {
		g := s.prefixes[uint16(lower[i])<<8|uint16(lower[i+1])]
		if g == 0 {
			continue
		}
		for _, k := range s.byPrefix[g-1] {
			// The third byte first: it rules out most candidates without a call.
			if kw := s.keywords[k]; !present[k] && (len(kw) == 2 || i+2 < len(lower) && lower[i+2] == kw[2]) &&
				strings.HasPrefix(lower[i:], kw) {
				present[k] = true
				found++
			}
		}
	}
	seen := make([]bool, len(s.rules))
	out := slices.Clone(s.always)
	for _, i := range out {
		seen[i] = true
	}
	for k, ok := range present {
		if !ok {
			continue
		}
		for _, i := range s.byKeyword[k] {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}

// find appends the rule's findings in text to found. A rule whose regex does not compile
// finds nothing (the tests prove every built-in rule compiles; added rules are validated).
//
// A rule with keywords that cannot span many lines runs only on windows of a few lines around
// each keyword: Go's regexp runs gitleaks' generic rule at ~1 MB/s over a whole text, and
// ~10x faster on short windows, where it can use its backtracker.
func (r *rule) find(text, lower, path string, global []*allowlist, found []Finding) []Finding {
	if r.compile() != nil {
		return found
	}
	if r.pathRE != nil && (path == "" || !r.pathRE.MatchString(path)) {
		return found
	}
	if r.leadRE != nil {
		return r.findLead(text, lower, global, found)
	}
	if r.multiline || len(r.keywords) == 0 {
		return r.findIn(text, 0, len(text), global, found)
	}
	if r.anchored != nil {
		return r.findAnchored(text, lower, global, found)
	}
	for _, w := range windows(lower, r.keywords) {
		found = r.findIn(text, w[0], w[1], global, found)
	}
	return found
}

// findAnchored runs an identifier-then-assignment rule (gitleaks' generic one) at each of its
// keywords that an assignment follows, with its regex anchored there and its leading
// "[\w.-]{0,50}?" taken back by hand: one short anchored match per place instead of a scan
// of the whole text, which Go's regexp does at ~1 MB/s for this rule.
func (r *rule) findAnchored(text, lower string, global []*allowlist, found []Finding) []Finding {
	seen := map[int]bool{}
	for _, k := range r.keywords {
		for off := 0; ; {
			i := strings.Index(lower[off:], k)
			if i < 0 {
				break
			}
			h := off + i
			off = h + len(k)
			if seen[h] || !assignmentFollows(lower, h+len(k)) {
				continue
			}
			seen[h] = true
			m := r.anchored.FindStringSubmatchIndex(text[h:])
			if m == nil {
				continue
			}
			for j := range m {
				if m[j] >= 0 {
					m[j] += h
				}
			}
			start := h
			for start > 0 && h-start < 50 && isIdentChar(text[start-1]) {
				start--
			}
			m[0] = start
			found = r.accept(text, m, global, found)
		}
	}
	return found
}

// findLead runs a rule whose matches all start with its keyword r.lead, anchored at each
// occurrence of that keyword.
func (r *rule) findLead(text, lower string, global []*allowlist, found []Finding) []Finding {
	for off := 0; ; {
		i := strings.Index(lower[off:], r.lead)
		if i < 0 {
			return found
		}
		h := off + i
		off = h + len(r.lead)
		m := r.leadRE.FindStringSubmatchIndex(text[h:])
		if m == nil {
			continue
		}
		for j := range m {
			if m[j] >= 0 {
				m[j] += h
			}
		}
		found = r.accept(text, m, global, found)
	}
}

// isIdentChar is [\w.-].
func isIdentChar(c byte) bool { return c != ' ' && c != '\t' && isIdentOrBlank(c) }

// findIn appends the rule's findings in text[from:to] to found.
func (r *rule) findIn(text string, from, to int, global []*allowlist, found []Finding) []Finding {
	for _, m := range r.re.FindAllStringSubmatchIndex(text[from:to], -1) {
		for i := range m {
			if m[i] >= 0 {
				m[i] += from
			}
		}
		found = r.accept(text, m, global, found)
	}
	return found
}

// accept appends the finding of match m (submatch indexes into text) unless it is no secret:
// an empty secret, a marker, too little entropy, or allowed by an allowlist.
func (r *rule) accept(text string, m []int, global []*allowlist, found []Finding) []Finding {
	{
		start, end := m[0], m[1]
		// gitleaks trims newlines around a match.
		for start < end && text[start] == '\n' {
			start++
		}
		for end > start && text[end-1] == '\n' {
			end--
		}
		sStart, sEnd := start, end
		if g := r.group(m); g > 0 {
			sStart, sEnd = m[2*g], m[2*g+1]
		}
		if sStart >= sEnd {
			return found
		}
		secret := text[sStart:sEnd]
		if strings.HasPrefix(secret, markerPrefix) {
			return found // a marker of an earlier pass
		}
		if r.entropy > 0 && shannon(secret) <= r.entropy {
			return found
		}
		if allowed(r.allow, global, secret, text[start:end], lineAround(text, start, end)) {
			return found
		}
		return append(found, Finding{Kind: r.id, Start: sStart, End: sEnd})
	}
}

// windowLines is how many lines before and after a keyword's line a window takes.
const windowLines = 1

// maxWindow is the size past which a window is not merged with the next one.
const maxWindow = 4096

// windows returns the byte ranges of lower to scan for a rule with these keywords: the line of
// each keyword occurrence with windowLines lines either side, overlapping ranges merged while
// they stay under maxWindow bytes.
func windows(lower string, keywords []string) [][2]int {
	var hits []int
	for _, k := range keywords {
		for off := 0; ; {
			i := strings.Index(lower[off:], k)
			if i < 0 {
				break
			}
			hits = append(hits, off+i)
			off += i + len(k)
		}
	}
	if len(hits) == 0 {
		return nil
	}
	slices.Sort(hits)
	var out [][2]int
	lastLine := -1
	for _, h := range hits {
		ls := strings.LastIndexByte(lower[:h], '\n') + 1
		if ls == lastLine {
			continue
		}
		lastLine = ls
		start := ls
		for n := 0; n < windowLines && start > 0; n++ {
			start = strings.LastIndexByte(lower[:start-1], '\n') + 1
		}
		end := h
		for n := 0; n <= windowLines && end < len(lower); n++ {
			j := strings.IndexByte(lower[end:], '\n')
			if j < 0 {
				end = len(lower)
				break
			}
			end += j + 1
		}
		if k := len(out) - 1; k >= 0 && start <= out[k][1] && end-out[k][0] <= maxWindow {
			out[k][1] = max(out[k][1], end)
			continue
		}
		out = append(out, [2]int{start, end})
	}
	return out
}

// group returns the capture group holding the secret in match m: the configured one, else
// the first that matched something, else 0 (the whole match).
func (r *rule) group(m []int) int {
	n := len(m)/2 - 1
	if r.secretGroup > 0 {
		if r.secretGroup <= n && m[2*r.secretGroup] >= 0 {
			return r.secretGroup
		}
		return 0
	}
	for g := 1; g <= n; g++ {
		if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
			return g
		}
	}
	return 0
}

func allowed(rule, global []*allowlist, secret, match, line string) bool {
	for _, a := range global {
		if a.allows(secret, match, line) {
			return true
		}
	}
	for _, a := range rule {
		if a.allows(secret, match, line) {
			return true
		}
	}
	return false
}

// lineAround returns the lines holding text[start:end].
func lineAround(text string, start, end int) string {
	ls := strings.LastIndexByte(text[:start], '\n') + 1
	le := strings.IndexByte(text[end:], '\n')
	if le < 0 {
		return text[ls:]
	}
	return text[ls : end+le]
}

// shannon is the Shannon entropy of s in bits per character, as gitleaks computes it.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	for _, c := range s {
		counts[c]++
	}
	inv := 1 / float64(len(s))
	var e float64
	for _, n := range counts {
		f := float64(n) * inv
		e -= f * math.Log2(f)
	}
	return e
}

// specificity ranks kinds for merging: a configured literal first, then rules for one
// product, then pal's rules for secrets in any text, then gitleaks' generic rule.
func specificity(kind string) int {
	switch {
	case kind == LiteralKind:
		return 3
	case strings.HasPrefix(kind, "generic"):
		return 0
	case kind == "url-password" || kind == "netrc-password":
		return 1
	}
	return 2
}

// merge sorts findings and joins overlapping ones; a joined finding takes the most specific
// kind among those joined (the earliest among equals).
func merge(found []Finding) []Finding {
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	out := found[:1]
	for _, f := range found[1:] {
		cur := &out[len(out)-1]
		if f.Start < cur.End {
			cur.End = max(cur.End, f.End)
			if specificity(f.Kind) > specificity(cur.Kind) {
				cur.Kind = f.Kind
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

// FoldASCII lower-cases the ASCII letters of s and leaves every other byte as it is, so byte
// offsets in the result are offsets in s.
func FoldASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if c := b[j]; c >= 'A' && c <= 'Z' {
			b[j] = c + ('a' - 'A')
		}
	}
	return string(b)
}
