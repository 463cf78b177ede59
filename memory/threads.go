package memory

// Threads is a conversation store: a Store (in memory, or written through to a bbolt file)
// or a RedisStore (shared by every pal replica using the same server and prefix). They keep
// the same semantics: owners, host-stamped turns, the time-to-live every append refreshes,
// and caps on turns and bytes.
type Threads interface {
	// Create starts a thread owned by owner for tool and returns its id.
	Create(owner, tool string, initial map[string]any) (string, error)
	// Get returns a copy of owner's thread; any other thread is ErrNotFound.
	Get(owner, id string) (*Thread, error)
	// Append adds turns, all or none, to owner's thread and returns its number of turns.
	Append(owner, id string, turns ...Turn) (int, error)
	// MaxTurns is the turn cap of every thread.
	MaxTurns() int
	// Stats describes the store.
	Stats() Stats
	// Close releases the store.
	Close() error
}

var (
	_ Threads = (*Store)(nil)
	_ Threads = (*RedisStore)(nil)
)
