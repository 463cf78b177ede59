// Package memory keeps conversation threads: the turns of a conversation that any tool can
// continue with its continuation_id. Threads live in memory with a time-to-live that every
// append refreshes and a cap on turns, threads and bytes, so a runaway tool cannot exhaust the
// host. Persistence to disk is a later layer.
package memory

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Errors of the store.
var (
	// ErrNotFound: the id is malformed, unknown or expired.
	ErrNotFound = errors.New("conversation thread not found or expired")
	// ErrTurnLimit: the append would pass the thread's turn cap.
	ErrTurnLimit = errors.New("conversation thread has reached its turn limit")
	// ErrTooLarge: the append would pass the thread's byte cap.
	ErrTooLarge = errors.New("conversation thread is too large")
)

// Turn is one message of a conversation. The JSON names are those of docs/abi.md.
type Turn struct {
	Role      string    `json:"role"` // user or assistant
	Content   string    `json:"content"`
	Timestamp time.Time `json:"timestamp"`
	Files     []string  `json:"files,omitempty"`
	Images    []string  `json:"images,omitempty"`
	Tool      string    `json:"tool,omitempty"`
	Model     string    `json:"model,omitempty"`
	Provider  string    `json:"provider,omitempty"`
}

// Thread is a conversation. Values returned by the store are copies.
type Thread struct {
	ID string `json:"id"`
	// Owner is the principal that created the thread (for stdio, "local"; over HTTP, the
	// client session). Only the owner can read or extend it.
	Owner          string         `json:"owner"`
	Tool           string         `json:"tool"` // the tool that started it
	Created        time.Time      `json:"created"`
	Updated        time.Time      `json:"updated"`
	MaxTurns       int            `json:"max_turns"`
	InitialContext map[string]any `json:"initial_context,omitempty"`
	Turns          []Turn         `json:"turns"`
}

// Config sets the store's limits; zero fields take the defaults.
type Config struct {
	TTL            time.Duration // default 3 h (PAL's CONVERSATION_TIMEOUT_HOURS)
	MaxTurns       int           // default 50 (PAL's MAX_CONVERSATION_TURNS); user and assistant turns count one each
	MaxThreads     int           // default 10,000; the least recently updated thread is dropped past it
	MaxThreadBytes int           // default 16 MiB of turn content per thread
	Now            func() time.Time
}

// Defaults of Config.
const (
	DefaultTTL            = 3 * time.Hour
	DefaultMaxTurns       = 50
	DefaultMaxThreads     = 10000
	DefaultMaxThreadBytes = 16 << 20
)

// Store holds threads. It is safe for concurrent use.
type Store struct {
	cfg     Config
	mu      sync.Mutex
	threads map[string]*entry
}

type entry struct {
	t       Thread
	bytes   int
	expires time.Time
}

// New returns an empty store.
func New(cfg Config) *Store {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxTurns <= 0 {
		cfg.MaxTurns = DefaultMaxTurns
	}
	if cfg.MaxThreads <= 0 {
		cfg.MaxThreads = DefaultMaxThreads
	}
	if cfg.MaxThreadBytes <= 0 {
		cfg.MaxThreadBytes = DefaultMaxThreadBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{cfg: cfg, threads: map[string]*entry{}}
}

// MaxTurns is the turn cap of every thread.
func (s *Store) MaxTurns() int { return s.cfg.MaxTurns }

// Create starts a thread owned by owner for tool and returns its id (a random UUID).
func (s *Store) Create(owner, tool string, initial map[string]any) (string, error) {
	id := uuid.NewString()
	now := s.cfg.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.threads) >= s.cfg.MaxThreads {
		s.evictOldestLocked()
	}
	s.threads[id] = &entry{
		t:       Thread{ID: id, Owner: owner, Tool: tool, Created: now, Updated: now, MaxTurns: s.cfg.MaxTurns, InitialContext: initial},
		expires: now.Add(s.cfg.TTL),
	}
	return id, nil
}

// Get returns a copy of the thread. A malformed, unknown or expired id, or a thread owned by
// another principal, is ErrNotFound: another client's thread is not even known to exist.
func (s *Store) Get(owner, id string) (*Thread, error) {
	key, ok := canonical(id)
	if !ok {
		return nil, ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key)
	if !ok || e.t.Owner != owner {
		return nil, ErrNotFound
	}
	t := e.t
	t.Turns = append([]Turn(nil), e.t.Turns...)
	return &t, nil
}

// Append adds turns to the thread and refreshes its time-to-live. It returns the number of
// turns now in the thread. The turns are all added or none is. Only the owner may append.
func (s *Store) Append(owner, id string, turns ...Turn) (int, error) {
	key, ok := canonical(id)
	if !ok {
		return 0, ErrNotFound
	}
	now := s.cfg.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key)
	if !ok || e.t.Owner != owner {
		return 0, ErrNotFound
	}
	if len(e.t.Turns)+len(turns) > s.cfg.MaxTurns {
		return len(e.t.Turns), fmt.Errorf("%w (%d turns)", ErrTurnLimit, s.cfg.MaxTurns)
	}
	add := 0
	for _, t := range turns {
		add += len(t.Content)
	}
	if e.bytes+add > s.cfg.MaxThreadBytes {
		return len(e.t.Turns), fmt.Errorf("%w (cap %d bytes)", ErrTooLarge, s.cfg.MaxThreadBytes)
	}
	for _, t := range turns {
		t.Timestamp = now // the host's clock, never the caller's: turns cannot be back-dated
		e.t.Turns = append(e.t.Turns, t)
	}
	e.bytes += add
	e.t.Updated = now
	e.expires = now.Add(s.cfg.TTL)
	return len(e.t.Turns), nil
}

// Len is the number of live threads.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.cfg.Now())
	return len(s.threads)
}

func (s *Store) live(key string) (*entry, bool) {
	e, ok := s.threads[key]
	if !ok {
		return nil, false
	}
	if !s.cfg.Now().Before(e.expires) {
		delete(s.threads, key)
		return nil, false
	}
	return e, true
}

func (s *Store) sweepLocked(now time.Time) {
	for k, e := range s.threads {
		if !now.Before(e.expires) {
			delete(s.threads, k)
		}
	}
}

func (s *Store) evictOldestLocked() {
	var oldest string
	var at time.Time
	for k, e := range s.threads {
		if oldest == "" || e.t.Updated.Before(at) {
			oldest, at = k, e.t.Updated
		}
	}
	delete(s.threads, oldest)
}

// canonical parses id as a UUID and returns its canonical text.
func canonical(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
