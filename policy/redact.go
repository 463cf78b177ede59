package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/pal-mcp/pal/policy/secrets"
)

// Redacted replaces a secret in redacted text.
const Redacted = "[REDACTED]"

// MinSecretLen is the shortest value a Redactor hides; shorter values would blank out ordinary
// words.
const MinSecretLen = 8

// Redactor hides known secret values (API keys) in text. Secrets are matched with ASCII
// letters in any case (an allowlist or a model name may have been lower-cased on its way into a
// message), and matches that overlap (a secret containing another, a secret repeating itself)
// become one Redacted. It is safe for concurrent use; add the secrets before anything that may
// contain them is logged.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // as added, trimmed, each once
	folded  []string // secrets with ASCII letters lower-cased, same order
	// patterns, when set, also replaces what its rules find ([REDACTED:<kind>]) in every
	// text after the known secrets are hidden.
	patterns *secrets.Scanner
}

// SetPatterns makes r also hide what s finds (secrets by pattern: private keys, tokens,
// passwords in URLs). Call it before r is used; nil turns patterns off.
func (r *Redactor) SetPatterns(s *secrets.Scanner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.patterns = s
}

func (r *Redactor) scanner() *secrets.Scanner {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.patterns
}

// NewRedactor returns a Redactor that hides secrets (values shorter than MinSecretLen are
// ignored).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add adds secrets to hide; values shorter than MinSecretLen (after trimming white space) are
// ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range values {
		s = strings.TrimSpace(s)
		if len(s) < MinSecretLen || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
		r.folded = append(r.folded, secrets.FoldASCII(s))
	}
}

// Len is the number of secrets held.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

// String returns s with every secret replaced by Redacted, then (when patterns are set)
// every secret they find replaced by its marker. A nil Redactor returns s.
func (r *Redactor) String(s string) string {
	s = r.literals(s)
	if p := r.scanner(); p != nil {
		s = p.String(s)
	}
	return s
}

// literals returns s with every known secret replaced by Redacted.
func (r *Redactor) literals(s string) string {
	spans := r.find(s)
	if spans == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(Redacted)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// Bytes returns b with every secret replaced by Redacted. b itself is not modified; when it
// holds no secret it is returned as it is.
func (r *Redactor) Bytes(b []byte) []byte {
	if !r.Contains(string(b)) {
		return b
	}
	return []byte(r.String(string(b)))
}

// Contains reports whether s holds any secret, known or found by the patterns.
func (r *Redactor) Contains(s string) bool {
	if p := r.scanner(); p != nil && len(p.Find(s)) > 0 {
		return true
	}
	folded := r.foldedSecrets()
	if len(folded) == 0 {
		return false
	}
	fs := secrets.FoldASCII(s)
	for _, sec := range folded {
		if strings.Contains(fs, sec) {
			return true
		}
	}
	return false
}

// Error returns err with every secret in its text replaced by Redacted, nil for nil, and err
// itself when its text holds no secret. errors.Is and errors.As still see err and everything it
// wraps; what errors.As extracts is the original value, so print the returned error, not the
// fields of what As finds.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.String(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError is an error whose text has the secrets replaced; it unwraps to the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (r *Redactor) foldedSecrets() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.folded
}

// span is a byte range [start, end) of a text.
type span struct{ start, end int }

// find returns where the secrets stand in s, in order, overlapping matches merged; nil when
// none does. Matching runs on s only, so a secret that reads like Redacted never matches a
// marker.
func (r *Redactor) find(s string) []span {
	folded := r.foldedSecrets()
	if len(folded) == 0 {
		return nil
	}
	fs := secrets.FoldASCII(s)
	var found []span
	for _, sec := range folded {
		for off := 0; ; {
			i := strings.Index(fs[off:], sec)
			if i < 0 {
				break
			}
			found = append(found, span{off + i, off + i + len(sec)})
			off += i + 1
		}
	}
	if found == nil {
		return nil
	}
	slices.SortFunc(found, func(a, b span) int { return a.start - b.start })
	merged := found[:1]
	for _, sp := range found[1:] {
		cur := &merged[len(merged)-1]
		if sp.start < cur.end {
			cur.end = max(cur.end, sp.end)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// NewRedactingHandler wraps h so that every log record passes through r first: the message,
// attribute keys and every string-like value (strings, errors, fmt.Stringers, byte slices,
// LogValuers once resolved, and values inside groups at any depth) have secrets replaced by
// Redacted. Any other value whose printed form holds a secret is replaced by its redacted
// printed form. Attributes given to WithAttrs are redacted when they are given.
func NewRedactingHandler(h slog.Handler, r *Redactor) slog.Handler {
	return &redactingHandler{inner: h, r: r}
}

type redactingHandler struct {
	inner slog.Handler
	r     *Redactor
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	attrs := make([]slog.Attr, 0, rec.NumAttrs())
	rec.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, h.attr(a))
		return true
	})
	out.AddAttrs(attrs...)
	return h.inner.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactingHandler{inner: h.inner.WithAttrs(clean), r: h.r}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{inner: h.inner.WithGroup(h.r.String(name)), r: h.r}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: h.r.String(a.Key), Value: h.value(a.Value)}
}

func (h *redactingHandler) value(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.r.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, a := range group {
			clean[i] = h.attr(a)
		}
		return slog.GroupValue(clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.StringValue(h.r.String(x.Error()))
		case fmt.Stringer:
			return slog.StringValue(h.r.String(x.String()))
		case []byte:
			return slog.AnyValue(h.r.Bytes(x))
		default:
			// Text handlers print with fmt, JSON handlers marshal: check both forms.
			if printed := fmt.Sprintf("%+v", x); h.r.Contains(printed) {
				return slog.StringValue(h.r.String(printed))
			}
			if js, err := json.Marshal(x); err == nil && h.r.Contains(string(js)) {
				return slog.StringValue(h.r.String(string(js)))
			}
		}
	}
	return v
}
