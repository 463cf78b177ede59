package memory

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// kinds are the two ways of making a Store; every scenario below runs against both.
var kinds = map[string]func(t *testing.T, cfg Config) *Store{
	"memory": func(t *testing.T, cfg Config) *Store { return New(cfg) },
	"bolt": func(t *testing.T, cfg Config) *Store {
		s, err := OpenBolt(filepath.Join(t.TempDir(), "threads.db"), cfg, BoltOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	},
}

func TestStoresAgree(t *testing.T) {
	scenarios := map[string]func(t *testing.T, open func(Config) *Store){
		"lifecycle": func(t *testing.T, open func(Config) *Store) {
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			s := open(Config{TTL: time.Hour, MaxTurns: 4, Now: c.now})
			id, err := s.Create("me", "chat", map[string]any{"prompt": "p"})
			if err != nil {
				t.Fatal(err)
			}
			back := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
			if n, err := s.Append("me", id, Turn{Role: "user", Content: "q", Timestamp: back}, Turn{Role: "assistant", Content: "a", Model: "m"}); err != nil || n != 2 {
				t.Fatalf("append: %d %v", n, err)
			}
			th, err := s.Get("me", strings.ToUpper(id))
			if err != nil || len(th.Turns) != 2 || !th.Turns[0].Timestamp.Equal(c.t) || th.Turns[1].Model != "m" ||
				th.InitialContext["prompt"] != "p" || th.Tool != "chat" {
				t.Fatalf("get: %+v %v", th, err)
			}
			if _, err := s.Append("me", id, Turn{Role: "user"}, Turn{Role: "user"}, Turn{Role: "user"}); !errors.Is(err, ErrTurnLimit) {
				t.Fatalf("want ErrTurnLimit, got %v", err)
			}
			if th, _ := s.Get("me", id); len(th.Turns) != 2 {
				t.Fatalf("partial append: %d turns", len(th.Turns))
			}
			c.t = c.t.Add(61 * time.Minute)
			if _, err := s.Get("me", id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("want expiry, got %v", err)
			}
		},
		"owner": func(t *testing.T, open func(Config) *Store) {
			s := open(Config{})
			id, _ := s.Create("session:a", "chat", nil)
			if _, err := s.Get("session:b", id); !errors.Is(err, ErrNotFound) {
				t.Errorf("another principal read the thread: %v", err)
			}
			if _, err := s.Append("session:b", id, Turn{Role: "user", Content: "x"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("another principal appended: %v", err)
			}
			for _, bad := range []string{"", "nope", "../../etc", "00000000-0000-0000-0000-000000000000"} {
				if _, err := s.Get("session:a", bad); !errors.Is(err, ErrNotFound) {
					t.Errorf("Get(%q): %v", bad, err)
				}
			}
		},
		"bytes": func(t *testing.T, open func(Config) *Store) {
			s := open(Config{MaxThreadBytes: 4096})
			id, _ := s.Create("me", "t", nil)
			for _, turn := range []Turn{{Role: "user", Files: []string{strings.Repeat("f", 4000)}}, {Role: "user", Provider: strings.Repeat("p", 4000)}} {
				if _, err := s.Append("me", id, turn); !errors.Is(err, ErrTooLarge) {
					t.Errorf("a 4 KB field passed a 4 KB cap: %v", err)
				}
			}
			if _, err := s.Create("me", "t", map[string]any{"k": strings.Repeat("k", 4000)}); !errors.Is(err, ErrTooLarge) {
				t.Errorf("a 4 KB initial context passed: %v", err)
			}
		},
		"lru": func(t *testing.T, open func(Config) *Store) {
			s := open(Config{MaxThreadBytes: 8 << 10, MaxTotalBytes: 32 << 10})
			chunk := Turn{Role: "user", Content: strings.Repeat("c", 6<<10)}
			var ids []string
			for range 4 {
				id, _ := s.Create("me", "t", nil)
				if _, err := s.Append("me", id, chunk); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			s.Get("me", ids[0])
			id, _ := s.Create("me", "t", nil)
			if _, err := s.Append("me", id, chunk); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get("me", ids[1]); !errors.Is(err, ErrNotFound) {
				t.Error("the least recently used thread is still there")
			}
			if st := s.Stats(); st.Bytes > 32<<10 || st.Evicted != 1 || st.Threads != 4 {
				t.Fatalf("after eviction: %+v", st)
			}
		},
	}
	for kind, mk := range kinds {
		for name, run := range scenarios {
			t.Run(kind+"/"+name, func(t *testing.T) {
				run(t, func(cfg Config) *Store { return mk(t, cfg) })
			})
		}
	}
}

// TestBoltSurvivesReopen: what one Store wrote, the next one opened on the file reads, with
// the same bytes counted; expired threads are swept when the file is opened and evicted ones
// stay gone.
func TestBoltSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "threads.db")
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg := Config{TTL: time.Hour, Now: c.now}
	s, err := OpenBolt(path, cfg, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keep, _ := s.Create("local", "chat", map[string]any{"prompt": "hello", "n": 2.0})
	s.Append("local", keep, Turn{Role: "user", Content: "q1", Files: []string{"/a.go"}}, Turn{Role: "assistant", Content: "a1", Model: "m", Provider: "p"})
	old, _ := s.Create("local", "debug", nil)
	before, _ := s.Get("local", keep)
	stats := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", fi.Mode(), err)
	}
	s, err = OpenBolt(path, cfg, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.Get("local", keep)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if string(a) != string(b) {
		t.Fatalf("thread changed across a reopen:\n%s\n%s", a, b)
	}
	if got := s.Stats(); got.Bytes != stats.Bytes || got.Threads != 2 {
		t.Fatalf("stats before %+v, after %+v", stats, got)
	}
	if _, err := s.Get("other", keep); !errors.Is(err, ErrNotFound) {
		t.Fatal("the owner check does not survive a reopen")
	}
	// keep is refreshed; old is not, and expires while the store is closed.
	c.t = c.t.Add(40 * time.Minute)
	s.Append("local", keep, Turn{Role: "user", Content: "q2"})
	s.Close()
	c.t = c.t.Add(30 * time.Minute)
	s, err = OpenBolt(path, cfg, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("local", old); !errors.Is(err, ErrNotFound) {
		t.Fatal("an expired thread came back")
	}
	if th, err := s.Get("local", keep); err != nil || len(th.Turns) != 3 {
		t.Fatalf("refreshed thread: %+v %v", th, err)
	}
	s.Close()
	if n := countRecords(t, path); n != 1 {
		t.Fatalf("%d records on disk, want 1 (the expired one deleted)", n)
	}
}

// TestBoltEvictionIsWritten: a thread evicted for room is deleted from the file too.
func TestBoltEvictionIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "threads.db")
	s, err := OpenBolt(path, Config{MaxThreads: 2}, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.Create("me", "t", nil)
	s.Create("me", "t", nil)
	s.Create("me", "t", nil)
	s.Close()
	if n := countRecords(t, path); n != 2 {
		t.Fatalf("%d records on disk, cap 2", n)
	}
	s, _ = OpenBolt(path, Config{MaxThreads: 2}, BoltOptions{})
	defer s.Close()
	if _, err := s.Get("me", first); !errors.Is(err, ErrNotFound) {
		t.Fatal("the evicted thread came back")
	}
	// A lower cap at the next start drops the least recently updated threads.
	s.Close()
	s, _ = OpenBolt(path, Config{MaxThreads: 1}, BoltOptions{})
	if st := s.Stats(); st.Threads != 1 || st.Evicted != 1 {
		t.Fatalf("reopened under a lower cap: %+v", st)
	}
}

// TestBoltDiscardsBadRecords: records that are not threads this package wrote are deleted
// and counted, and the good ones load.
func TestBoltDiscardsBadRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "threads.db")
	s, _ := OpenBolt(path, Config{}, BoltOptions{})
	good, _ := s.Create("local", "chat", nil)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(threadsBucket)
		b.Put([]byte("junk"), []byte("{not json"))
		v := b.Get([]byte(good))
		other := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
		b.Put([]byte(other), append([]byte(nil), v...)) // the id inside is not its key
		return nil
	})
	db.Close()
	s, err = OpenBolt(path, Config{}, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Discarded != 2 || st.Threads != 1 {
		t.Fatalf("%+v", st)
	}
	if _, err := s.Get("local", good); err != nil {
		t.Fatal(err)
	}
}

// TestBoltLocked: a second store on the same file waits, then says another pal holds it.
func TestBoltLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "threads.db")
	s, err := OpenBolt(path, Config{}, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = OpenBolt(path, Config{}, BoltOptions{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("want ErrLocked naming %s, got %v", path, err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("gave up after %v, before the timeout", waited)
	}
}

// TestBoltWriteFailureChangesNothing: when the file cannot be written, Create and Append fail
// with ErrStorage and the store in memory is unchanged.
func TestBoltWriteFailureChangesNothing(t *testing.T) {
	s := kinds["bolt"](t, Config{})
	id, _ := s.Create("me", "t", nil)
	s.Append("me", id, Turn{Role: "user", Content: "one"})
	before := s.Stats()
	real := s.disk
	s.disk = failing{}
	if _, err := s.Append("me", id, Turn{Role: "assistant", Content: "two"}); !errors.Is(err, ErrStorage) {
		t.Fatalf("want ErrStorage, got %v", err)
	}
	if _, err := s.Create("me", "t", nil); !errors.Is(err, ErrStorage) {
		t.Fatalf("want ErrStorage, got %v", err)
	}
	s.disk = real
	if th, _ := s.Get("me", id); len(th.Turns) != 1 {
		t.Fatalf("%d turns after a failed append", len(th.Turns))
	}
	if after := s.Stats(); after != before {
		t.Fatalf("stats moved: %+v -> %+v", before, after)
	}
}

type failing struct{}

func (failing) Save(*Record, []string) error { return errors.New("disk full") }
func (failing) Close() error                 { return nil }

func countRecords(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(threadsBucket).ForEach(func(_, _ []byte) error { n++; return nil })
	})
	return n
}

// FuzzDecodeRecord: no stored bytes make the decoder panic, and what it accepts is a thread
// whose id is its key, with an owner, known roles and a size counted as the store counts it.
func FuzzDecodeRecord(f *testing.F) {
	id := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	good, _ := encodeRecord(&Record{Thread: Thread{ID: id, Owner: "local", Tool: "chat", Created: now, Updated: now,
		Turns: []Turn{{Role: "user", Content: "q", Files: []string{"a"}}}}, Initial: json.RawMessage(`{"a":1}`), Expires: now.Add(time.Hour)})
	f.Add([]byte(id), good)
	f.Add([]byte(id), []byte(`{"v":1}`))
	f.Add([]byte("x"), []byte(`null`))
	f.Add([]byte(id), []byte(`{"v":1,"id":"`+id+`","owner":"o","expires":"2026-01-01T00:00:00Z","initial":[1],"turns":[]}`))
	f.Fuzz(func(t *testing.T, key, val []byte) {
		e, err := decodeRecord(key, val)
		if err != nil {
			return
		}
		if e.t.ID != string(key) || e.t.Owner == "" {
			t.Fatalf("accepted %q under %q", e.t.ID, key)
		}
		for _, tu := range e.t.Turns {
			if tu.Role != "user" && tu.Role != "assistant" {
				t.Fatalf("accepted role %q", tu.Role)
			}
		}
		th := e.t
		if e.initial != nil {
			if err := json.Unmarshal(e.initial, &th.InitialContext); err != nil {
				t.Fatalf("accepted initial context %q", e.initial)
			}
		}
		if e.bytes <= 0 {
			t.Fatalf("size %d", e.bytes)
		}
	})
}

// BenchmarkAppend: one tool call's two turns (2 KB each) appended to a thread, in memory and
// written through to bbolt (one fsync'd transaction per append). The thread restarts every 40
// turns, so the record rewritten stays of a realistic size.
func BenchmarkAppend(b *testing.B) {
	for _, kind := range []string{"memory", "bolt"} {
		b.Run(kind, func(b *testing.B) {
			var s *Store
			if kind == "memory" {
				s = New(Config{})
			} else {
				var err error
				if s, err = OpenBolt(filepath.Join(b.TempDir(), "threads.db"), Config{}, BoltOptions{}); err != nil {
					b.Fatal(err)
				}
				defer s.Close()
			}
			turn := Turn{Role: "user", Content: strings.Repeat("t", 2048)}
			var id string
			for i := range b.N {
				if i%20 == 0 {
					id, _ = s.Create("local", "chat", map[string]any{"prompt": "p"})
				}
				if _, err := s.Append("local", id, turn, turn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBoltClosed: a closed store refuses writes instead of keeping threads in memory only,
// and a record too long for the thread cap is discarded without being decoded.
func TestBoltClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "threads.db")
	s, err := OpenBolt(path, Config{MaxThreadBytes: 4096}, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Create("me", "t", nil); !errors.Is(err, ErrStorage) {
		t.Fatalf("Create after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	db, _ := bolt.Open(path, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error {
		id := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
		return tx.Bucket(threadsBucket).Put([]byte(id), []byte(`{"v":1,"id":"`+id+`","owner":"me","expires":"2999-01-01T00:00:00Z","turns":[],"tool":"`+strings.Repeat("x", recordLimit(4096))+`"}`))
	})
	db.Close()
	s, err = OpenBolt(path, Config{MaxThreadBytes: 4096}, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Discarded != 1 || st.Threads != 0 {
		t.Fatalf("%+v", st)
	}
}

// TestBoltLeavesOtherFilesAlone: pointed at a file that is not a bbolt store, OpenBolt fails
// and the file is unchanged.
func TestBoltLeavesOtherFilesAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte(strings.Repeat("my notes, not a database\n", 1000))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenBolt(path, Config{}, BoltOptions{}); err == nil {
		s.Close()
		t.Fatal("opened a text file as the store")
	}
	if got, _ := os.ReadFile(path); string(got) != string(content) {
		t.Fatal("the file was changed")
	}
}

// BenchmarkAppendToLongThread: one tool call's two turns (2 KB each) appended to a thread that
// already holds `held` turns, in memory and written through to bbolt. Each bbolt append
// re-encodes and rewrites the whole thread record, so its cost grows with the thread; the
// record-KB metric is the size rewritten per append.
func BenchmarkAppendToLongThread(b *testing.B) {
	turn := Turn{Role: "user", Content: strings.Repeat("t", 2048)}
	for _, kind := range []string{"memory", "bolt"} {
		for _, held := range []int{2, 24, 46} {
			b.Run(fmt.Sprintf("%s/held=%d", kind, held), func(b *testing.B) {
				cfg := Config{MaxThreads: b.N + 1, MaxTotalBytes: 1 << 40}
				var s *Store
				if kind == "memory" {
					s = New(cfg)
				} else {
					var err error
					if s, err = OpenBolt(filepath.Join(b.TempDir(), "threads.db"), cfg, BoltOptions{}); err != nil {
						b.Fatal(err)
					}
					defer s.Close()
				}
				prefill := make([]Turn, held)
				for i := range prefill {
					prefill[i] = turn
				}
				ids := make([]string, b.N)
				for i := range ids {
					ids[i], _ = s.Create("local", "chat", map[string]any{"prompt": "p"})
					if _, err := s.Append("local", ids[i], prefill...); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := range b.N {
					if _, err := s.Append("local", ids[i], turn, turn); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64((held+2)*len(turn.Content))/1024, "record-KB")
			})
		}
	}
}

// BenchmarkEncodeRecord is the CPU share of that rewrite: encoding a thread of `held` 2 KB
// turns to its record.
func BenchmarkEncodeRecord(b *testing.B) {
	for _, held := range []int{4, 26, 48} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			turns := make([]Turn, held)
			for i := range turns {
				turns[i] = Turn{Role: "user", Content: strings.Repeat("t", 2048)}
			}
			now := time.Now().UTC()
			r := &Record{Thread: Thread{ID: "00000000-0000-4000-8000-000000000001", Owner: "local", Tool: "chat", Created: now, Updated: now, Turns: turns},
				Expires: now.Add(time.Hour)}
			b.ReportAllocs()
			for range b.N {
				if _, err := encodeRecord(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
