// Package memory keeps conversation threads: the turns of a conversation that any tool can
// continue with its continuation_id. Threads live in memory with a time-to-live that every
// append refreshes and caps on turns, threads and bytes (per thread and in total, every field
// counted), so a runaway tool cannot exhaust the host.
//
// A Store made by New keeps its threads in memory only; one made by OpenBolt also writes every
// change through to a bbolt file (a Backend), so that a restart loses nothing. Both are the same
// Store, so the semantics (TTL, caps, owners, host-stamped turns) cannot drift apart.
package memory

import (
	"container/heap"
	"container/list"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// ErrStorage: the store on disk or the Redis server could not be read or written;
	// nothing was changed.
	ErrStorage = errors.New("conversation store could not be written")
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
	TTL        time.Duration // default 3 h (PAL's CONVERSATION_TIMEOUT_HOURS)
	MaxTurns   int           // default 50 (PAL's MAX_CONVERSATION_TURNS); user and assistant turns count one each
	MaxThreads int           // default 10,000; the least recently used thread is dropped past it
	// MaxThreadBytes caps one thread, every field counted (Size): turns with their file and
	// image names, the initial context as JSON, ids and names. Default 8 MiB.
	MaxThreadBytes int64
	// MaxTotalBytes caps all threads together, counted the same way; past it the least
	// recently used threads are dropped. Default 128 MiB. Raised to MaxThreadBytes if below.
	MaxTotalBytes int64
	Now           func() time.Time
}

// Defaults of Config.
const (
	DefaultTTL            = 3 * time.Hour
	DefaultMaxTurns       = 50
	DefaultMaxThreads     = 10000
	DefaultMaxThreadBytes = 8 << 20
	DefaultMaxTotalBytes  = 128 << 20
)

// Store holds threads. It is safe for concurrent use.
type Store struct {
	cfg     Config
	mu      sync.Mutex
	threads map[string]*list.Element // of *entry, by id
	lru     *list.List               // front: most recently used
	// expiring holds the same entries as a min-heap by expiry time, so that a sweep visits
	// only the threads that have expired (a walk of the LRU list visited all of them on every
	// Create: docs/RATIONALE.md §77).
	expiring expiryHeap
	total    int64 // bytes of every live thread, as Size counts them
	evicted  int64 // threads dropped for room, since New
	// disk, when not nil, persists every change (OpenBolt); dead are the ids removed in
	// memory whose deletion on disk is still to be written.
	disk      Backend
	dead      []string
	discarded int // records found unreadable on disk when the store was opened
}

// Backend persists a Store's threads. The Store calls it with its lock held, so an
// implementation needs no locking of its own.
type Backend interface {
	// Save writes put (when not nil) and deletes the ids in del, all in one transaction:
	// on error nothing is changed.
	Save(put *Record, del []string) error
	// Close releases the backend.
	Close() error
}

// Record is one thread as a Backend stores it. Its encoding is the Backend's.
type Record struct {
	Thread  Thread          // InitialContext is nil; see Initial
	Initial json.RawMessage // the initial context as JSON, or nil
	Expires time.Time
}

func (e *entry) record() *Record {
	return &Record{Thread: e.t, Initial: e.initial, Expires: e.expires}
}

// entry is one stored thread. The initial context is kept as JSON, so that what is counted
// is what is held; Get decodes it.
type entry struct {
	t       Thread // InitialContext is nil here; see initial
	initial []byte
	bytes   int64
	expires time.Time
	index   int // position in Store.expiring
}

// expiryHeap is a container/heap of entries, earliest expiry first.
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// Per-item overheads Size adds to the lengths of the strings: what Go holds besides the bytes.
const (
	threadOverhead = 256 // the Thread and entry structs, map and list entries
	turnOverhead   = 160 // one Turn struct
	stringOverhead = 16  // one string header in a slice
)

// turnSize is what one turn costs the store.
func turnSize(t Turn) int64 {
	n := int64(turnOverhead + len(t.Role) + len(t.Content) + len(t.Tool) + len(t.Model) + len(t.Provider))
	for _, f := range t.Files {
		n += int64(stringOverhead + len(f))
	}
	for _, f := range t.Images {
		n += int64(stringOverhead + len(f))
	}
	return n
}

// Size is what a thread costs the store, in bytes: every string and name it holds, the
// initial context as JSON, and a fixed overhead per thread and per turn. The thread and total
// caps are in these bytes.
func Size(t *Thread) int64 {
	var raw []byte
	if t.InitialContext != nil {
		raw, _ = json.Marshal(t.InitialContext)
	}
	return threadSize(t, raw)
}

// threadSize is Size of t with its initial context as the JSON initial; the one place the
// formula is written (Size, a new thread, a record read back).
func threadSize(t *Thread, initial []byte) int64 {
	n := int64(threadOverhead+len(t.ID)+len(t.Owner)+len(t.Tool)) + int64(len(initial))
	for _, turn := range t.Turns {
		n += turnSize(turn)
	}
	return n
}

// Stats describes the store, for tests and diagnostics.
type Stats struct {
	Threads int   // live threads
	Bytes   int64 // their size, as Size counts it
	Evicted int64 // threads dropped for room since the store was made
	// Discarded is the number of records found unreadable on disk when the store was opened
	// (OpenBolt); they were deleted.
	Discarded int
}

// New returns an empty store.
func New(cfg Config) *Store {
	return &Store{cfg: cfg.withDefaults(), threads: map[string]*list.Element{}, lru: list.New()}
}

// withDefaults fills the zero fields of cfg.
func (cfg Config) withDefaults() Config {
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
	if cfg.MaxTotalBytes <= 0 {
		cfg.MaxTotalBytes = DefaultMaxTotalBytes
	}
	cfg.MaxTotalBytes = max(cfg.MaxTotalBytes, cfg.MaxThreadBytes)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// newEntry makes a thread owned by owner for tool, with a random UUID, created now. A thread
// whose initial context alone passes the thread cap is ErrTooLarge.
func (cfg *Config) newEntry(owner, tool string, initial map[string]any) (*entry, error) {
	var raw []byte
	if initial != nil {
		var err error
		if raw, err = json.Marshal(initial); err != nil {
			return nil, fmt.Errorf("initial context: %w", err)
		}
	}
	id := uuid.NewString()
	now := cfg.Now().UTC()
	e := &entry{
		t:       Thread{ID: id, Owner: owner, Tool: tool, Created: now, Updated: now, MaxTurns: cfg.MaxTurns},
		initial: raw,
		expires: now.Add(cfg.TTL),
	}
	e.bytes = threadSize(&e.t, raw)
	if e.bytes > cfg.MaxThreadBytes {
		return nil, fmt.Errorf("%w: %d bytes with its initial context (cap %d bytes)", ErrTooLarge, e.bytes, cfg.MaxThreadBytes)
	}
	return e, nil
}

// appended returns e with turns added at now, stamped with now, and its time-to-live
// refreshed, and the bytes added; e is unchanged. Past the turn or thread cap it is
// ErrTurnLimit or ErrTooLarge.
func (cfg *Config) appended(e *entry, now time.Time, turns []Turn) (entry, int64, error) {
	if len(e.t.Turns)+len(turns) > cfg.MaxTurns {
		return entry{}, 0, fmt.Errorf("%w (%d turns)", ErrTurnLimit, cfg.MaxTurns)
	}
	var add int64
	for _, t := range turns {
		add += turnSize(t)
	}
	if e.bytes+add > cfg.MaxThreadBytes {
		return entry{}, 0, fmt.Errorf("%w (cap %d bytes)", ErrTooLarge, cfg.MaxThreadBytes)
	}
	next := *e
	next.t.Turns = slices.Clip(e.t.Turns) // appending copies: e is unchanged
	for _, t := range turns {
		t.Timestamp = now // the host's clock, never the caller's: turns cannot be back-dated
		next.t.Turns = append(next.t.Turns, t)
	}
	next.bytes += add
	next.t.Updated = now
	next.expires = now.Add(cfg.TTL)
	return next, add, nil
}

// thread returns a copy of e's thread with its initial context decoded.
func (e *entry) thread() *Thread {
	t := e.t
	t.Turns = append([]Turn(nil), e.t.Turns...)
	if e.initial != nil {
		_ = json.Unmarshal(e.initial, &t.InitialContext) // it was encoded from a map
	}
	return &t
}

// MaxTurns is the turn cap of every thread.
func (s *Store) MaxTurns() int { return s.cfg.MaxTurns }

// Create starts a thread owned by owner for tool and returns its id (a random UUID). A thread
// whose initial context alone passes the thread cap is ErrTooLarge. To make room, the least
// recently used threads are dropped.
func (s *Store) Create(owner, tool string, initial map[string]any) (string, error) {
	e, err := s.cfg.newEntry(owner, tool, initial)
	if err != nil {
		return "", err
	}
	id, now := e.t.ID, e.t.Created
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.makeRoomLocked(e.bytes, 1, nil)
	if err := s.saveLocked(e); err != nil {
		return "", err
	}
	s.addLocked(e, true)
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
	defer s.flushLocked()
	e, ok := s.live(key)
	if !ok || e.t.Owner != owner {
		return nil, ErrNotFound
	}
	s.lru.MoveToFront(s.threads[key])
	return e.thread(), nil
}

// Append adds turns to the thread and refreshes its time-to-live. It returns the number of
// turns now in the thread. The turns are all added or none is. Only the owner may append. To
// make room, the least recently used other threads are dropped.
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
	next, add, err := s.cfg.appended(e, now, turns)
	if err != nil {
		return len(e.t.Turns), err
	}
	el := s.threads[key]
	s.lru.MoveToFront(el)
	s.makeRoomLocked(add, 0, el)
	if err := s.saveLocked(&next); err != nil {
		return len(e.t.Turns), err
	}
	next.index = e.index // makeRoomLocked may have moved e in the heap since next was copied
	*e = next
	heap.Fix(&s.expiring, e.index) // its expiry moved later

	s.total += add
	return len(e.t.Turns), nil
}

// Len is the number of live threads.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.cfg.Now())
	s.flushLocked()
	return len(s.threads)
}

// Stats reports the live threads, their bytes and the threads dropped for room.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.cfg.Now())
	s.flushLocked()
	return Stats{Threads: len(s.threads), Bytes: s.total, Evicted: s.evicted, Discarded: s.discarded}
}

func (s *Store) live(key string) (*entry, bool) {
	el, ok := s.threads[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	if !s.cfg.Now().Before(e.expires) {
		s.removeLocked(el)
		return nil, false
	}
	return e, true
}

// addLocked adds e to the store, as the most recently used thread (front) or the least
// (a thread read back from disk, in order).
func (s *Store) addLocked(e *entry, front bool) {
	if front {
		s.threads[e.t.ID] = s.lru.PushFront(e)
	} else {
		s.threads[e.t.ID] = s.lru.PushBack(e)
	}
	heap.Push(&s.expiring, e)
	s.total += e.bytes
}

func (s *Store) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	s.lru.Remove(el)
	heap.Remove(&s.expiring, e.index)
	delete(s.threads, e.t.ID)
	s.total -= e.bytes
	if s.disk != nil {
		s.dead = append(s.dead, e.t.ID)
	}
}

// saveLocked writes e, and the deletions pending, to the backend if there is one.
func (s *Store) saveLocked(e *entry) error {
	if s.disk == nil {
		return nil
	}
	if err := s.disk.Save(e.record(), s.dead); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	s.dead = s.dead[:0]
	return nil
}

// flushLocked writes the deletions pending. A failure keeps them for the next write: a thread
// whose deletion is lost comes back at the next start only to be swept or evicted again.
func (s *Store) flushLocked() {
	if s.disk == nil || len(s.dead) == 0 {
		return
	}
	if err := s.disk.Save(nil, s.dead); err == nil {
		s.dead = s.dead[:0]
	}
}

// Close writes the deletions pending and closes the backend, if there is one. A Store made by
// New needs no Close. The store must not be used after.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disk == nil || s.disk == (closedBackend{}) {
		return nil
	}
	s.flushLocked()
	err := s.disk.Close()
	s.disk = closedBackend{}
	return err
}

// closedBackend is the backend of a closed Store: every write fails, so that a Store used
// after Close never quietly keeps threads in memory only.
type closedBackend struct{}

func (closedBackend) Save(*Record, []string) error { return errClosed }
func (closedBackend) Close() error                 { return nil }

var errClosed = errors.New("the store is closed")

// sweepLocked drops the threads expired at now, earliest first: its cost is in the threads
// it drops, not in the threads the store holds.
func (s *Store) sweepLocked(now time.Time) {
	for len(s.expiring) > 0 && !now.Before(s.expiring[0].expires) {
		s.removeLocked(s.threads[s.expiring[0].t.ID])
	}
}

// makeRoomLocked drops least recently used threads, never keep, until bytes more and threads
// more fit under the total and count caps.
func (s *Store) makeRoomLocked(bytes int64, threads int, keep *list.Element) {
	for el := s.lru.Back(); el != nil && (s.total+bytes > s.cfg.MaxTotalBytes || len(s.threads)+threads > s.cfg.MaxThreads); {
		prev := el.Prev()
		if el != keep {
			s.removeLocked(el)
			s.evicted++
		}
		el = prev
	}
}

// canonical parses id as a UUID and returns its canonical text.
func canonical(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
