package registry

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// minRedactLen: shorter secrets are not blanked in text (they would blank ordinary words); they
// are still returned by SecretValues.
const minRedactLen = 4

const redacted = "[redacted]"

// normaliseSecrets trims, drops empties and repeats, and orders longest first so that a key
// containing another is blanked whole.
func normaliseSecrets(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// redactString blanks every secret in s; overlapping or adjacent matches become one
// "[redacted]". ASCII secrets are matched in any case, so a key that went through
// strings.ToLower (allowlists are lower-cased) is still caught. Matching runs on the original
// text only, so a secret that happens to read "redacted" cannot match the marker.
func redactString(s string, secrets []string) string {
	var mask []bool
	ls := ""
	asciiS := isASCII(s)
	if asciiS {
		ls = strings.ToLower(s)
	}
	for _, k := range secrets {
		if len(k) < minRedactLen {
			continue
		}
		hay, needle := s, k
		if asciiS && isASCII(k) {
			hay, needle = ls, strings.ToLower(k)
		}
		for off := 0; ; {
			i := strings.Index(hay[off:], needle)
			if i < 0 {
				break
			}
			if mask == nil {
				mask = make([]bool, len(s))
			}
			for j := off + i; j < off+i+len(needle); j++ {
				mask[j] = true
			}
			off += i + 1
		}
	}
	if mask == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !mask[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(redacted)
		for i < len(s) && mask[i] {
			i++
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// redactedError keeps errors.Is and errors.As working while its text has the keys blanked.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := redactString(msg, secrets)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactingHandler blanks the keys in every message and attribute before the wrapped handler
// sees them.
type redactingHandler struct {
	next    slog.Handler
	secrets []string
}

func newRedactingHandler(next slog.Handler, secrets []string) slog.Handler {
	return &redactingHandler{next: next, secrets: secrets}
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, redactString(rec.Message, h.secrets), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), secrets: h.secrets}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	a.Key = redactString(a.Key, h.secrets)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redactString(v.String(), h.secrets))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		// Errors, Stringers, structs: rendered once, then blanked.
		return slog.String(a.Key, redactString(fmt.Sprint(v.Any()), h.secrets))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func redactList(in []string, secrets []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = redactString(s, secrets)
	}
	return out
}
