// Package sessions keeps the MCP sessions of pal's HTTP transport: which client opened each
// one and until when it lives. Store is what a backend implements; Memory is the in-process
// backend. A shared backend (Redis) lets several pal replicas behind a load balancer accept
// each other's session ids.
//
// A session belongs to the client that opened it (its identity: a token's name or hash
// prefix, never the token). The HTTP transport refuses a session id presented by another
// client, so one client cannot use, and cannot read the conversation threads of, another's
// session.
package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Errors of Store implementations; wrap them with %w.
var (
	// ErrNotFound: no session has that id, or it has expired or ended.
	ErrNotFound = errors.New("session not found or expired")
	// ErrFull: the store holds as many live sessions as it may.
	ErrFull = errors.New("too many open sessions")
)

// Session is one MCP session of the HTTP transport.
type Session struct {
	// ID is the Mcp-Session-Id the client carries: 128 random bits, hex (NewID).
	ID string `json:"id"`
	// Client is the identity of the client that opened the session ("token:ci-bot",
	// "token:3fa2c9d1", "local"); only that client may use it.
	Client string `json:"client"`
	// Created is when the session was opened.
	Created time.Time `json:"created"`
	// Expires is when the session ends unless it is used (Touch) before; the store sets it
	// from its own clock.
	Expires time.Time `json:"expires"`
}

// Store keeps sessions. Implementations are safe for concurrent use, and forget a session at
// its Expires time (they need not delete it then, but Get must not return it).
type Store interface {
	// Create stores a new session that lives ttl from now (s.Expires is ignored). It returns
	// ErrFull when no more may be open.
	Create(ctx context.Context, s Session, ttl time.Duration) error
	// Get returns the session with id; ErrNotFound when there is none or it has expired.
	Get(ctx context.Context, id string) (Session, error)
	// Touch moves the session's expiry to ttl from now; ErrNotFound when it is gone.
	Touch(ctx context.Context, id string, ttl time.Duration) error
	// Delete ends the session. Deleting a session that is gone is not an error.
	Delete(ctx context.Context, id string) error
}

// NewID returns a new session id: 128 bits from crypto/rand, as 32 hex digits.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// DefaultMaxSessions is the default cap of Memory: live sessions at once.
const DefaultMaxSessions = 10_000

// Memory is a Store in this process's memory.
type Memory struct {
	// Max caps the live sessions; 0 means DefaultMaxSessions.
	Max int
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time

	mu       sync.Mutex
	sessions map[string]Session
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store holding at most max live sessions (0: the
// default).
func NewMemory(max int) *Memory { return &Memory{Max: max} }

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Create implements Store. When the store is full it first drops the expired sessions.
func (m *Memory) Create(_ context.Context, s Session, ttl time.Duration) error {
	if s.ID == "" {
		return errors.New("sessions: empty id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions == nil {
		m.sessions = map[string]Session{}
	}
	limit := m.Max
	if limit <= 0 {
		limit = DefaultMaxSessions
	}
	now := m.now()
	s.Expires = now.Add(ttl)
	if len(m.sessions) >= limit {
		for id, old := range m.sessions {
			if !now.Before(old.Expires) {
				delete(m.sessions, id)
			}
		}
		if len(m.sessions) >= limit {
			return ErrFull
		}
	}
	m.sessions[s.ID] = s
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id string) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return Session{}, ErrNotFound
	}
	if !m.now().Before(s.Expires) {
		delete(m.sessions, id)
		return Session{}, ErrNotFound
	}
	return s, nil
}

// Touch implements Store.
func (m *Memory) Touch(_ context.Context, id string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	now := m.now()
	if !ok || !now.Before(s.Expires) {
		delete(m.sessions, id)
		return ErrNotFound
	}
	s.Expires = now.Add(ttl)
	m.sessions[id] = s
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

// Len counts the sessions held, expired ones not yet dropped included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}
