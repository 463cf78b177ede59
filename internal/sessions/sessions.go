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
	"bytes"
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
	// ErrClientFull: the session's client holds as many live sessions as one client may
	// (the store's per-client cap), so that one client cannot take every session there is.
	ErrClientFull = errors.New("too many open sessions for this client")
	// ErrInvalidID: Create was given an id NewID did not make.
	ErrInvalidID = errors.New("session id not of the form NewID makes")
	// ErrTooLarge: a session's state is over MaxStateBytes.
	ErrTooLarge = errors.New("session state too large")
)

// MaxStateBytes bounds Session.State: what a client sent at initialize is kept only up to it.
const MaxStateBytes = 16 << 10

// idLen is the length of an id NewID makes.
const idLen = 32

// ValidID reports whether id has the form NewID gives (32 lower-case hex digits). Stores
// answer ErrNotFound for any other id without looking it up, so that a forged header never
// reaches a backend's key space.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

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
	// State is what a replica needs to serve the session when another one opened it (the
	// HTTP transport keeps there what the client said at initialize and the log level it
	// set), opaque to the store; at most MaxStateBytes. Set by SetState.
	State []byte `json:"state,omitempty"`
}

// Store keeps sessions. Implementations are safe for concurrent use, and forget a session at
// its Expires time (they need not delete it then, but Get must not return it).
type Store interface {
	// Create stores a new session that lives ttl from now (s.Expires is ignored). It returns
	// ErrFull when no more may be open, ErrClientFull when s.Client may open no more.
	Create(ctx context.Context, s Session, ttl time.Duration) error
	// Get returns the session with id; ErrNotFound when there is none or it has expired.
	Get(ctx context.Context, id string) (Session, error)
	// Touch moves the session's expiry to ttl from now; ErrNotFound when it is gone.
	Touch(ctx context.Context, id string, ttl time.Duration) error
	// SetState replaces the session's State, keeping its expiry; ErrNotFound when it is gone,
	// ErrTooLarge over MaxStateBytes.
	SetState(ctx context.Context, id string, state []byte) error
	// Delete ends the session. Deleting a session that is gone is not an error.
	Delete(ctx context.Context, id string) error
}

// NewID returns a new session id: 128 bits from crypto/rand, as 32 hex digits.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// DefaultMaxSessions is the default cap of a store: live sessions at once.
const DefaultMaxSessions = 10_000

// DefaultMaxPerClient is the default cap of a store on the live sessions of one client.
const DefaultMaxPerClient = 100

// Memory is a Store in this process's memory.
type Memory struct {
	// Max caps the live sessions; 0 means DefaultMaxSessions.
	Max int
	// PerClient caps the live sessions of one client (Session.Client); 0 means
	// DefaultMaxPerClient.
	PerClient int
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
	if !ValidID(s.ID) {
		return ErrInvalidID
	}
	if len(s.State) > MaxStateBytes {
		return ErrTooLarge
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
	if old, ok := m.sessions[s.ID]; ok && now.Before(old.Expires) {
		return ErrInvalidID // taken: ids are random, so this is a bug or an attack
	}
	s.State = bytes.Clone(s.State)
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
	perClient := m.PerClient
	if perClient <= 0 {
		perClient = DefaultMaxPerClient
	}
	held := 0
	for _, old := range m.sessions {
		if old.Client == s.Client && now.Before(old.Expires) {
			held++
		}
	}
	if held >= perClient {
		return ErrClientFull
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
	s.State = bytes.Clone(s.State)
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

// SetState implements Store.
func (m *Memory) SetState(_ context.Context, id string, state []byte) error {
	if len(state) > MaxStateBytes {
		return ErrTooLarge
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok || !m.now().Before(s.Expires) {
		delete(m.sessions, id)
		return ErrNotFound
	}
	s.State = bytes.Clone(state)
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
