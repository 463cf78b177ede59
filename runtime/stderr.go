package runtime

import (
	"bytes"
	"fmt"
	"sync"
)

// StderrBuffer keeps the first limit bytes written to it and counts the rest. It captures a
// guest's stderr so a crash can be explained without letting a guest fill the host's memory.
// Package runtime/extism uses it for plugins too.
type StderrBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     bytes.Buffer
	dropped int64
}

// NewStderrBuffer keeps the first limit bytes.
func NewStderrBuffer(limit int) *StderrBuffer { return &StderrBuffer{limit: limit} }

// Write implements io.Writer; it never fails, so the guest never sees an error.
func (b *StderrBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - b.buf.Len()
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// String returns what was kept, with a note of what was dropped.
func (b *StderrBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n[%d more bytes of stderr dropped]", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}

// Tail returns the last few hundred bytes of what was kept, prefixed for appending to an
// error message, or "" when nothing was written.
func (b *StderrBuffer) Tail() string {
	s := b.String()
	if s == "" {
		return ""
	}
	const n = 600
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return "; guest stderr: " + s
}
