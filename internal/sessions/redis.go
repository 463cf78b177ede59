package sessions

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store in a Redis server, shared by every pal replica that uses the same server and
// prefix, so that a replica accepts a session another one opened. It uses the connection pool
// of the conversation threads (memory.RedisStore.Client), so that one [memory.redis] section
// configures one client per process.
//
// Keys, under the prefix P: P+"session:"+id is a hash (c: the client, t: created, e: expiry in
// ms since the epoch, s: the state) that Redis expires with the session (PEXPIREAT);
// P+"sessions" orders the live ids by expiry, for the cap; P+"client:"+sha1hex(client) orders
// one client's live ids by expiry, for the per-client cap (the scripts of Touch and Delete
// derive that key from the session's own record, with Redis's sha1hex: standalone Redis, not
// Cluster). Create, Touch, SetState and Delete are Lua scripts, so a cap or an expiry holds
// across replicas. The expiry is also checked against the
// store's own clock, so a key Redis has not yet dropped is not a live session.
type Redis struct {
	rdb    *redis.Client
	prefix string
	max    int
	// PerClient caps the live sessions of one client across the replicas; 0 means
	// DefaultMaxPerClient.
	PerClient int
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
}

var _ Store = (*Redis)(nil)

// NewRedis returns a store on rdb under prefix, holding at most max live sessions across all
// the replicas (0: DefaultMaxSessions). The caller owns rdb.
func NewRedis(rdb *redis.Client, prefix string, max int) *Redis {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	return &Redis{rdb: rdb, prefix: prefix, max: max}
}

func (r *Redis) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Redis) key(id string) string { return r.prefix + "session:" + id }
func (r *Redis) index() string        { return r.prefix + "sessions" }

// clientIndex is the key of client's live ids; the Lua scripts compute the same key as
// ARGV prefix .. 'client:' .. redis.sha1hex(client). SHA-1 only names the key: the identity
// comes from a trusted token file.
func (r *Redis) clientIndex(client string) string {
	sum := sha1.Sum([]byte(client))
	return r.prefix + "client:" + hex.EncodeToString(sum[:])
}

// perClient is the per-client cap in force.
func (r *Redis) perClient() int {
	if r.PerClient <= 0 {
		return DefaultMaxPerClient
	}
	return r.PerClient
}

// keepClientIndex expires a client's index with its last session (Redis 6.2 has no
// PEXPIREAT GT), so the key of a client gone for good does not stay.
const keepClientIndex = `
local function keep(ck)
  local top = redis.call('ZRANGE', ck, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', ck, top[2]) end
end
`

// maxClientBytes bounds the client identity read back.
const maxClientBytes = 1 << 10

// createScript drops the expired ids from the indexes, refuses an id that is live (-1), a
// session past the cap (0) or past the client's cap (-2), else writes the session (1). KEYS:
// the session, the index, the client's index. ARGV: id, client, created, expiry (ms), now
// (ms), cap, state, per-client cap.
var createScript = redis.NewScript(keepClientIndex + `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[5])
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) and tonumber(e) > tonumber(ARGV[5]) then return -1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return 0 end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then return -2 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'c', ARGV[2], 't', ARGV[3], 'e', ARGV[4], 's', ARGV[7])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
keep(KEYS[3])
return 1
`)

// touchScript moves a live session's expiry, in the indexes too (0 when it is gone). KEYS:
// the session, the index. ARGV: id, new expiry (ms), now (ms), prefix.
var touchScript = redis.NewScript(keepClientIndex + `
local e = redis.call('HGET', KEYS[1], 'e')
if not e or not tonumber(e) or tonumber(e) <= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local c = redis.call('HGET', KEYS[1], 'c')
if c then
  local ck = ARGV[4] .. 'client:' .. redis.sha1hex(c)
  redis.call('ZADD', ck, ARGV[2], ARGV[1])
  keep(ck)
end
return 1
`)

// deleteScript ends a session and drops it from the indexes. KEYS: the session, the index.
// ARGV: id, prefix.
var deleteScript = redis.NewScript(`
local c = redis.call('HGET', KEYS[1], 'c')
if c then redis.call('ZREM', ARGV[2] .. 'client:' .. redis.sha1hex(c), ARGV[1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// stateScript replaces a live session's state (0 when it is gone). KEYS: the session. ARGV:
// state, now (ms).
var stateScript = redis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e or not tonumber(e) or tonumber(e) <= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1])
return 1
`)

// getScript returns client, created, expiry and state, or nil when a field is over its bound
// (ARGV: the client bound, the state bound): a record planted by another user of the server
// cannot make a replica read megabytes.
var getScript = redis.NewScript(`
if redis.call('HSTRLEN', KEYS[1], 'c') > tonumber(ARGV[1]) or redis.call('HSTRLEN', KEYS[1], 't') > 64
  or redis.call('HSTRLEN', KEYS[1], 'e') > 32 or redis.call('HSTRLEN', KEYS[1], 's') > tonumber(ARGV[2]) then
  return false
end
return redis.call('HMGET', KEYS[1], 'c', 't', 'e', 's')
`)

func storeErr(err error) error { return fmt.Errorf("sessions: redis: %w", err) }

// Create implements Store.
func (r *Redis) Create(ctx context.Context, s Session, ttl time.Duration) error {
	if !ValidID(s.ID) {
		return ErrInvalidID
	}
	if len(s.State) > MaxStateBytes {
		return ErrTooLarge
	}
	now := r.now()
	exp := now.Add(ttl).UnixMilli()
	created := s.Created.UTC().Format(time.RFC3339Nano)
	res, err := createScript.Run(ctx, r.rdb, []string{r.key(s.ID), r.index(), r.clientIndex(s.Client)},
		s.ID, s.Client, created, exp, now.UnixMilli(), r.max, s.State, r.perClient()).Int()
	switch {
	case err != nil:
		return storeErr(err)
	case res == -1:
		return ErrInvalidID // live already: ids are random, so a bug or an attack
	case res == -2:
		return ErrClientFull
	case res == 0:
		return ErrFull
	}
	return nil
}

// Get implements Store. A record that is not one this package wrote is ErrNotFound.
func (r *Redis) Get(ctx context.Context, id string) (Session, error) {
	if !ValidID(id) {
		return Session{}, ErrNotFound
	}
	vals, err := getScript.Run(ctx, r.rdb, []string{r.key(id)}, maxClientBytes, MaxStateBytes).Slice()
	if errors.Is(err, redis.Nil) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, storeErr(err)
	}
	str := func(i int) (string, bool) {
		if i >= len(vals) {
			return "", false
		}
		v, ok := vals[i].(string)
		return v, ok
	}
	client, ok1 := str(0)
	created, ok2 := str(1)
	exp, ok3 := str(2)
	state, _ := str(3)
	if !ok1 || !ok2 || !ok3 {
		return Session{}, ErrNotFound
	}
	ms, err1 := strconv.ParseInt(exp, 10, 64)
	t, err2 := time.Parse(time.RFC3339Nano, created)
	if err1 != nil || err2 != nil {
		return Session{}, ErrNotFound
	}
	s := Session{ID: id, Client: client, Created: t, Expires: time.UnixMilli(ms)}
	if state != "" {
		s.State = []byte(state)
	}
	if !r.now().Before(s.Expires) {
		return Session{}, ErrNotFound
	}
	return s, nil
}

// Touch implements Store.
func (r *Redis) Touch(ctx context.Context, id string, ttl time.Duration) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	now := r.now()
	ok, err := touchScript.Run(ctx, r.rdb, []string{r.key(id), r.index()}, id, now.Add(ttl).UnixMilli(), now.UnixMilli(), r.prefix).Int()
	if err != nil {
		return storeErr(err)
	}
	if ok == 0 {
		return ErrNotFound
	}
	return nil
}

// SetState implements Store.
func (r *Redis) SetState(ctx context.Context, id string, state []byte) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	if len(state) > MaxStateBytes {
		return ErrTooLarge
	}
	ok, err := stateScript.Run(ctx, r.rdb, []string{r.key(id)}, state, r.now().UnixMilli()).Int()
	if err != nil {
		return storeErr(err)
	}
	if ok == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return nil
	}
	if err := deleteScript.Run(ctx, r.rdb, []string{r.key(id), r.index()}, id, r.prefix).Err(); err != nil {
		return storeErr(err)
	}
	return nil
}
