package memory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrLocked: another process (another pal) holds the store's file.
var ErrLocked = errors.New("another pal holds the conversation store")

// DefaultLockTimeout is how long OpenBolt waits for another process to release the file.
const DefaultLockTimeout = 2 * time.Second

// recordVersion is the version of the record encoding; a record of another version is
// discarded.
const recordVersion = 1

// maxRecordBytes bounds any stored record before it is decoded; load also refuses, undecoded,
// a record longer than recordLimit allows for the store's thread cap.
const maxRecordBytes = 1 << 30

// recordLimit is the longest record a thread under the cap can encode to: JSON escaping
// makes a byte at most 6 (\u00XX), plus room for the field names and times.
func recordLimit(maxThreadBytes int64) int { return int(min(6*maxThreadBytes+1<<16, maxRecordBytes)) }

var threadsBucket = []byte("threads")

// BoltOptions are the options of OpenBolt.
type BoltOptions struct {
	// LockTimeout is how long to wait for another process holding the file. Default 2 s.
	LockTimeout time.Duration
}

// boltBackend keeps one record per thread in the bucket "threads", keyed by the thread's id.
type boltBackend struct{ db *bolt.DB }

// OpenBolt opens (creating it, mode 0600) the bbolt file at path and returns a Store that
// writes every change through to it. The threads found in the file are loaded: expired ones
// are deleted, unreadable ones deleted and counted (Stats.Discarded), and the caps of cfg
// applied, the least recently updated threads dropped first. The caller checks the file and
// its directory before (see internal/app); a file another process holds is ErrLocked after
// opts.LockTimeout.
func OpenBolt(path string, cfg Config, opts BoltOptions) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (waited %v)", ErrLocked, path, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("conversation store %s: %w", path, err)
	}
	s := New(cfg)
	s.disk = &boltBackend{db: db}
	if err := s.load(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("conversation store %s: %w", path, err)
	}
	return s, nil
}

// load reads every record into s and deletes the expired, unreadable and evicted ones.
func (s *Store) load(db *bolt.DB) error {
	now := s.cfg.Now().UTC()
	var live []*entry
	var del []string
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(threadsBucket)
		if err != nil {
			return err
		}
		limit := recordLimit(s.cfg.MaxThreadBytes)
		return b.ForEach(func(k, v []byte) error {
			var e *entry
			err := errBadRecord
			if len(v) <= limit {
				e, err = decodeRecord(k, v)
			}
			switch {
			case err != nil:
				s.discarded++
				del = append(del, string(k))
			case !now.Before(e.expires):
				del = append(del, string(k))
			default:
				live = append(live, e)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	// Most recently updated first; past a cap, the rest is dropped as eviction would have.
	slices.SortFunc(live, func(a, b *entry) int { return b.t.Updated.Compare(a.t.Updated) })
	for _, e := range live {
		if e.bytes > s.cfg.MaxThreadBytes || s.total+e.bytes > s.cfg.MaxTotalBytes || len(s.threads) >= s.cfg.MaxThreads {
			del = append(del, e.t.ID)
			s.evicted++
			continue
		}
		s.addLocked(e, false)
	}
	if len(del) > 0 {
		return s.disk.Save(nil, del)
	}
	return nil
}

// Save implements Backend.
func (b *boltBackend) Save(put *Record, del []string) error {
	var val []byte
	if put != nil {
		var err error
		if val, err = encodeRecord(put); err != nil {
			return err
		}
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(threadsBucket)
		if err != nil {
			return err
		}
		for _, id := range del {
			if err := bk.Delete([]byte(id)); err != nil {
				return err
			}
		}
		if put != nil {
			return bk.Put([]byte(put.Thread.ID), val)
		}
		return nil
	})
}

// Close implements Backend.
func (b *boltBackend) Close() error { return b.db.Close() }

// storedRecord is a Record's encoding: JSON, with a version.
type storedRecord struct {
	V        int             `json:"v"`
	ID       string          `json:"id"`
	Owner    string          `json:"owner"`
	Tool     string          `json:"tool"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Expires  time.Time       `json:"expires"`
	MaxTurns int             `json:"max_turns"`
	Initial  json.RawMessage `json:"initial,omitempty"`
	Turns    []Turn          `json:"turns"`
}

func encodeRecord(r *Record) ([]byte, error) {
	t := r.Thread
	return json.Marshal(storedRecord{V: recordVersion, ID: t.ID, Owner: t.Owner, Tool: t.Tool, Created: t.Created,
		Updated: t.Updated, Expires: r.Expires, MaxTurns: t.MaxTurns, Initial: r.Initial, Turns: t.Turns})
}

// errBadRecord: a stored record that cannot be a thread this package wrote.
var errBadRecord = errors.New("unreadable thread record")

// decodeRecord decodes the record stored under key and checks it: the version, the key equal
// to the canonical id, an owner, roles, an initial context that is a JSON object. Its size is
// recomputed, never read from the file.
func decodeRecord(key, val []byte) (*entry, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", errBadRecord, why) }
	if len(val) > maxRecordBytes {
		return nil, bad("too large")
	}
	var r storedRecord
	dec := json.NewDecoder(bytes.NewReader(val))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, bad(err.Error())
	}
	if dec.More() {
		return nil, bad("trailing data")
	}
	if r.V != recordVersion {
		return nil, bad(fmt.Sprintf("version %d", r.V))
	}
	if id, ok := canonical(r.ID); !ok || id != r.ID || string(key) != r.ID {
		return nil, bad("id does not match its key")
	}
	if r.Owner == "" {
		return nil, bad("no owner")
	}
	if r.MaxTurns < 0 || r.Expires.IsZero() || r.Updated.Before(r.Created) {
		return nil, bad("bad times or turn cap")
	}
	for _, t := range r.Turns {
		if t.Role != "user" && t.Role != "assistant" {
			return nil, bad("bad role")
		}
	}
	var initial []byte
	if len(r.Initial) > 0 && !bytes.Equal(r.Initial, []byte("null")) {
		var m map[string]any
		if err := json.Unmarshal(r.Initial, &m); err != nil {
			return nil, bad("initial context is not an object")
		}
		initial = slices.Clone(r.Initial)
	}
	e := &entry{
		t: Thread{ID: r.ID, Owner: r.Owner, Tool: r.Tool, Created: r.Created.UTC(), Updated: r.Updated.UTC(),
			MaxTurns: r.MaxTurns, Turns: r.Turns},
		initial: initial,
		expires: r.Expires.UTC(),
	}
	e.bytes = threadSize(&e.t, initial)
	return e, nil
}
