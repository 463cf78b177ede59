package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces a secret in redacted text.
const Redacted = "[REDACTED]"

// MinSecretLen is the shortest value a Redactor hides; shorter values would blank out ordinary
// words.
const MinSecretLen = 8

// Redactor hides known secret values (API keys) in text. It is safe for concurrent use; add the
// secrets before anything that may contain them is logged.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string // longest first, so that a secret containing another is hidden whole
	replacer *strings.Replacer
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
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < MinSecretLen || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
		changed = true
	}
	if !changed {
		return
	}
	slices.SortStableFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Redacted)
	}
	r.replacer = strings.NewReplacer(pairs...)
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

// String returns s with every secret replaced by Redacted. A nil Redactor returns s.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Bytes returns b with every secret replaced by Redacted. b itself is not modified; when it
// holds no secret it is returned as it is.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil {
		return b
	}
	r.mu.RLock()
	secrets := r.secrets
	r.mu.RUnlock()
	found := false
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			found = true
			break
		}
	}
	if !found {
		return b
	}
	return []byte(r.String(string(b)))
}

// Contains reports whether s holds any secret.
func (r *Redactor) Contains(s string) bool {
	if r == nil {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			return true
		}
	}
	return false
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
