package memory

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisOptions say which Redis server holds the threads and how to reach it.
type RedisOptions struct {
	Addr     string // host:port
	Username string // ACL user, or "" for the default user
	// Password, when not empty, authenticates. It appears in no error or log of this package.
	Password string
	DB       int
	// Prefix starts every key the store writes, so that deployments can share a server.
	// Default "pal:".
	Prefix string
	// TLS, when not nil, connects with TLS under this configuration.
	TLS *tls.Config
	// Timeout bounds each operation (dial, read, write, and one whole store call). Default 5 s.
	Timeout time.Duration
}

// RedisStore keeps threads in Redis, where every pal replica configured with the same server
// and prefix finds them: a thread started on one replica continues on another. It has the
// semantics of Store: owners, host-stamped turns, a time-to-live every append refreshes, and
// caps on turns, on one thread's bytes, and on the threads and bytes under the prefix, past
// which the least recently updated threads are dropped. Appends are atomic across replicas:
// a turn appended by two replicas at once is never lost (an optimistic WATCH/MULTI
// transaction, retried).
//
// Keys, under the prefix P: P+"thread:"+id holds a thread as the bbolt backend encodes it
// (checked the same way when read) and expires with it; P+"threads" orders the ids by expiry;
// P+"sizes" holds each thread's size; P+"bytes" their sum; P+"evicted" the threads dropped for
// room. The bookkeeping and eviction run in one Lua script, so they are atomic too; the
// script names keys it is not passed, so the server must be a single Redis, not a cluster.
type RedisStore struct {
	cfg    Config
	rdb    *redis.Client
	prefix string
	op     time.Duration
}

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix  = "pal:"
	DefaultRedisTimeout = 5 * time.Second
)

// maxAppendAttempts bounds the retries of an append whose thread another replica changed
// meanwhile; each attempt lost means another append won.
const maxAppendAttempts = 100

// OpenRedis connects to the server opts names, checks it answers, and returns the store. An
// unreachable server or a refused password is an error that names the address, never the
// password.
func OpenRedis(cfg Config, opts RedisOptions) (*RedisStore, error) {
	redis.SetLogger(quiet{})
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRedisTimeout
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: opts.Addr, Username: opts.Username, Password: opts.Password, DB: opts.DB, TLSConfig: opts.TLS,
		DialTimeout: opts.Timeout, ReadTimeout: opts.Timeout, WriteTimeout: opts.Timeout,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	s := &RedisStore{cfg: cfg.withDefaults(), rdb: rdb, prefix: opts.Prefix, op: opts.Timeout}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("%w: redis %s: %w", ErrStorage, opts.Addr, scrub(err, opts.Password))
	}
	return s, nil
}

// quiet drops the client library's own log lines (reconnection attempts, written to stderr
// around pal's logger); what matters reaches pal's log as the errors of the calls.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// scrub returns err, or a plain error without its text when the text holds the password: no
// client error is known to, but the password must never reach a log.
func scrub(err error, password string) error {
	if password != "" && err != nil && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(password)) {
		return errors.New("the server refused the connection")
	}
	return err
}

func (s *RedisStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.op)
}

func (s *RedisStore) threadKey(id string) string { return s.prefix + "thread:" + id }

// bookKeys are the keys of the put script after the thread's own.
func (s *RedisStore) bookKeys() []string {
	return []string{s.prefix + "threads", s.prefix + "sizes", s.prefix + "bytes", s.prefix + "evicted"}
}

// storage wraps a server error as ErrStorage.
func storage(err error) error { return fmt.Errorf("%w: %w", ErrStorage, err) }

// putScript writes a thread (unless ARGV[2] is empty) with its bookkeeping, then drops the
// expired threads and, least recently updated first, the threads past the caps, never the one
// written. KEYS: the thread, the expiry index, the sizes, the byte sum, the eviction count.
// ARGV: id, record, expiry (ms since the epoch), size, now (ms), byte cap, thread cap, the
// prefix of thread keys. It returns the number of threads dropped for room.
var putScript = redis.NewScript(`
local id, rec, exp, size = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now, maxb, maxn, tp = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local function drop(v)
  local s = tonumber(redis.call('HGET', KEYS[3], v) or '0')
  redis.call('HDEL', KEYS[3], v)
  redis.call('ZREM', KEYS[2], v)
  redis.call('DEL', tp .. v)
  redis.call('DECRBY', KEYS[4], s)
end
if rec ~= '' then
  local old = tonumber(redis.call('HGET', KEYS[3], id) or '0')
  redis.call('SET', KEYS[1], rec, 'PXAT', exp)
  redis.call('HSET', KEYS[3], id, size)
  redis.call('ZADD', KEYS[2], exp, id)
  redis.call('INCRBY', KEYS[4], size - old)
end
for _, v in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)) do
  drop(v)
end
local evicted = 0
while tonumber(redis.call('GET', KEYS[4]) or '0') > maxb or redis.call('ZCARD', KEYS[2]) > maxn do
  local vs = redis.call('ZRANGE', KEYS[2], 0, 1)
  local v = vs[1]
  if v == id then v = vs[2] end
  if not v then break end
  drop(v)
  evicted = evicted + 1
end
if evicted > 0 then redis.call('INCRBY', KEYS[5], evicted) end
return evicted
`)

// put runs putScript on c for e (nil: only sweep and evict).
func (s *RedisStore) put(ctx context.Context, c redis.Scripter, e *entry) *redis.Cmd {
	id, rec, exp, size := "", []byte(nil), int64(0), int64(0)
	if e != nil {
		var err error
		if rec, err = encodeRecord(e.record()); err != nil {
			cmd := redis.NewCmd(ctx)
			cmd.SetErr(err)
			return cmd
		}
		id, exp, size = e.t.ID, e.expires.UnixMilli(), e.bytes
	}
	key := s.threadKey(id)
	return putScript.Eval(ctx, c, append([]string{key}, s.bookKeys()...),
		id, rec, exp, size, s.cfg.Now().UnixMilli(), s.cfg.MaxTotalBytes, s.cfg.MaxThreads, s.prefix+"thread:")
}

// MaxTurns is the turn cap of every thread.
func (s *RedisStore) MaxTurns() int { return s.cfg.MaxTurns }

// Create starts a thread owned by owner for tool and returns its id (a random UUID); see
// Store.Create.
func (s *RedisStore) Create(owner, tool string, initial map[string]any) (string, error) {
	e, err := s.cfg.newEntry(owner, tool, initial)
	if err != nil {
		return "", err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.put(ctx, s.rdb, e).Err(); err != nil {
		return "", storage(err)
	}
	return e.t.ID, nil
}

// load reads the live thread id (canonical) with c. A missing, expired or unreadable record
// is ErrNotFound.
func (s *RedisStore) load(ctx context.Context, c redis.Cmdable, id string) (*entry, error) {
	// At most one byte past the limit is read: a record planted by another client of the
	// server cannot make a replica read megabytes. A missing key reads as "".
	limit := recordLimit(s.cfg.MaxThreadBytes)
	val, err := c.GetRange(ctx, s.threadKey(id), 0, int64(limit)).Bytes()
	if err != nil {
		return nil, storage(err)
	}
	if len(val) == 0 || len(val) > limit {
		return nil, ErrNotFound
	}
	e, err := decodeRecord([]byte(id), val)
	if err != nil || !s.cfg.Now().Before(e.expires) {
		return nil, ErrNotFound
	}
	return e, nil
}

// Get returns a copy of the thread; see Store.Get. A server that cannot be reached is
// ErrStorage.
func (s *RedisStore) Get(owner, id string) (*Thread, error) {
	key, ok := canonical(id)
	if !ok {
		return nil, ErrNotFound
	}
	ctx, cancel := s.ctx()
	defer cancel()
	e, err := s.load(ctx, s.rdb, key)
	if err != nil {
		return nil, err
	}
	if e.t.Owner != owner {
		return nil, ErrNotFound
	}
	return e.thread(), nil
}

// Append adds turns to the thread and refreshes its time-to-live; see Store.Append. The read,
// the checks and the write are one transaction: if another replica changes the thread
// meanwhile, the append starts again from the new thread, so neither append is lost.
func (s *RedisStore) Append(owner, id string, turns ...Turn) (int, error) {
	key, ok := canonical(id)
	if !ok {
		return 0, ErrNotFound
	}
	ctx, cancel := s.ctx()
	defer cancel()
	n := 0
	for attempt := range maxAppendAttempts {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			e, err := s.load(ctx, tx, key)
			if err != nil {
				return err
			}
			if e.t.Owner != owner {
				return ErrNotFound
			}
			n = len(e.t.Turns)
			next, _, err := s.cfg.appended(e, s.cfg.Now().UTC(), turns)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				s.put(ctx, p, &next)
				return nil
			})
			if err == nil {
				n = len(next.t.Turns)
			}
			return err
		}, s.threadKey(key))
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, redis.TxFailedErr):
			// Another replica wrote the thread first: back off a little, at random, and retry.
			time.Sleep(time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond)
			continue
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrTurnLimit), errors.Is(err, ErrTooLarge), errors.Is(err, ErrStorage):
			return n, err
		default:
			return n, storage(err)
		}
	}
	return n, storage(fmt.Errorf("the thread changed under %d attempts to append", maxAppendAttempts))
}

// Stats drops the expired threads and reports those under the prefix: their number, their
// bytes and the threads dropped for room, by every replica. A server that cannot be reached
// reports zeros.
func (s *RedisStore) Stats() Stats {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.put(ctx, s.rdb, nil).Err(); err != nil {
		return Stats{}
	}
	keys := s.bookKeys()
	var n *redis.IntCmd
	var bytes, evicted *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		n = p.ZCard(ctx, keys[0])
		bytes = p.Get(ctx, keys[2])
		evicted = p.Get(ctx, keys[3])
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Stats{}
	}
	num := func(c *redis.StringCmd) int64 {
		v, _ := strconv.ParseInt(c.Val(), 10, 64)
		return v
	}
	return Stats{Threads: int(n.Val()), Bytes: num(bytes), Evicted: num(evicted)}
}

// Client is the store's connection pool, for other state replicas share on the same server
// (the HTTP transport's sessions). It is closed by Close.
func (s *RedisStore) Client() *redis.Client { return s.rdb }

// Prefix is the prefix of every key the store writes.
func (s *RedisStore) Prefix() string { return s.prefix }

// Close closes the connections.
func (s *RedisStore) Close() error { return s.rdb.Close() }
