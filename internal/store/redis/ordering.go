package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// Ordered delivery (store.Orderer). Under a destination's hash tag:
//
//	…:ln:LK   list: the line of one ordering key, oldest first (LK is the
//	          line key: the key, or its SHA-256 when long)
//	…:lns     set: the line keys that have a line
//	…:blk     hash: line key → the dead head that blocks it
//
// and an ordered delivery's hash has ok (its key), lk (its line key) and
// ob ("1" when it blocks). Only a line's head is in …:due or …:lease; the
// scripts that change a delivery's state settle its line in the same
// script, so two instances never hold two deliveries of one key.

var _ store.Orderer = (*Store)(nil)

// luaLines defines settle(lk) and rejoin(id, lk), used by luaCommon's
// requeue and by the scripts below; it follows luaCommon's first helpers
// (base, dkey, finished).
const luaLines = `
-- settle makes a line's head what the rules say: finished deliveries that
-- do not block leave it; an unfinished head is due (unless leased); a dead
-- head that blocks is listed in …:blk. unblocked says the line has no
-- …:blk entry to clear (its head was being attempted).
local function settle(lk, unblocked)
  local ln = base .. ':ln:' .. lk
  local popped = false
  while true do
    local id = redis.call('LINDEX', ln, 0)
    if not id then
      if not unblocked then redis.call('HDEL', base .. ':blk', lk) end
      redis.call('SREM', base .. ':lns', lk)
      return
    end
    local f = redis.call('HMGET', dkey(id), 'st', 'du', 'ob')
    if f[1] and not finished(f[1]) then
      -- Only a head is ever leased: one that was waiting is not.
      if popped or not redis.call('ZSCORE', base .. ':lease', id) then
        redis.call('ZADD', base .. ':due', f[2], id)
      end
      if not unblocked then redis.call('HDEL', base .. ':blk', lk) end
      return
    elseif f[1] == 'dead' and f[3] == '1' then
      redis.call('HSET', base .. ':blk', lk, id)
      return
    end
    redis.call('LPOP', ln)
    popped = true
  end
end
-- rejoin files requeued delivery id: the head of its line when it still
-- is (a blocked head retried), else at the end.
local function rejoin(id, lk)
  local ln = base .. ':ln:' .. lk
  if redis.call('LINDEX', ln, 0) ~= id then
    redis.call('RPUSH', ln, id)
    redis.call('SADD', base .. ':lns', lk)
  end
  settle(lk)
end
`

// scriptDiscard gives up on one delivery. ARGV: base, now µs, now text,
// reason, id. Returns "ok", "missing", "delivered" or "leased".
var scriptDiscard = goredis.NewScript(luaCommon + `
local now, nowtext, id = ARGV[2], ARGV[3], ARGV[5]
local k = dkey(id)
local f = redis.call('HMGET', k, 'st', 'lk')
if not f[1] then return 'missing' end
if f[1] == 'delivered' then return 'delivered' end
if not finished(f[1]) then
  local lease = redis.call('ZSCORE', base .. ':lease', id)
  if lease and tonumber(lease) > tonumber(now) then return 'leased' end
  unfile(id)
  setstatus(id, f[1], 'dead')
  redis.call('HSET', k, 'nx', '', 'du', '', 'dr', ARGV[4], 'up', nowtext, 'uu', now)
  redis.call('ZADD', base .. ':dead', now, id)
end
if f[2] and f[2] ~= '' then
  redis.call('LREM', base .. ':ln:' .. f[2], 1, id)
  settle(f[2])
end
return 'ok'
`)

// scriptUnorder takes deliveries out of one line: those unfinished become
// due (unless leased). ARGV: base, line key, then ids. Returns how many
// left the line.
var scriptUnorder = goredis.NewScript(luaCommon + `
local lk = ARGV[2]
local ln = base .. ':ln:' .. lk
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('LREM', ln, 1, id) == 1 then
    n = n + 1
    local f = redis.call('HMGET', dkey(id), 'st', 'du')
    if f[1] and not finished(f[1]) and not redis.call('ZSCORE', base .. ':lease', id) then
      redis.call('ZADD', base .. ':due', f[2], id)
    end
  end
end
settle(lk)
return n
`)

// scriptAbandonLines dead-letters the unfinished, unleased deliveries of
// up to limit lines and deletes those lines. ARGV: base, now µs, now text,
// reason, limit. Returns {dead-lettered, lines}.
var scriptAbandonLines = goredis.NewScript(luaCommon + `
local now, nowtext, reason = ARGV[2], ARGV[3], ARGV[4]
local lks = redis.call('SRANDMEMBER', base .. ':lns', tonumber(ARGV[5]))
local n = 0
for _, lk in ipairs(lks) do
  local ln = base .. ':ln:' .. lk
  for _, id in ipairs(redis.call('LRANGE', ln, 0, -1)) do
    local st = redis.call('HGET', dkey(id), 'st')
    local lease = redis.call('ZSCORE', base .. ':lease', id)
    if st and not finished(st) and not (lease and tonumber(lease) > tonumber(now)) then
      unfile(id)
      setstatus(id, st, 'dead')
      redis.call('HSET', dkey(id), 'nx', '', 'du', '', 'dr', reason, 'up', nowtext, 'uu', now)
      redis.call('ZADD', base .. ':dead', now, id)
      n = n + 1
    end
  end
  redis.call('DEL', ln)
  redis.call('HDEL', base .. ':blk', lk)
  redis.call('SREM', base .. ':lns', lk)
end
return {n, #lks}
`)

// lineKey is the line key of an ordering key: as is when short, else its
// SHA-256.
func lineKey(key string) string {
	if len(key) > maxDedupeKey {
		sum := sha256.Sum256([]byte(key))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return key
}

// orderArgs are scriptPut's ordering values of d: key, line key, blocks.
func orderArgs(d *store.Delivery) (key, lk, blocks string) {
	if d.Key == "" {
		return "", "", ""
	}
	blocks = "0"
	if d.KeyBlocks {
		blocks = "1"
	}
	return d.Key, lineKey(d.Key), blocks
}

// Discard gives up on delivery id (store.Orderer).
func (s *Store) Discard(ctx context.Context, id string, now time.Time) error {
	op := "discard " + id
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if checkName("delivery id", id, false) != nil {
		return s.wrap(op, store.ErrNotFound)
	}
	dest, err := s.destOf(ctx, id)
	if err != nil {
		return s.wrap(op, err)
	}
	base := s.k.dest(dest)
	c := call(scriptDiscard, base+":due", base, micros(now), timeText(now), store.DiscardedReason, id)
	if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
		return s.wrap(op, err)
	}
	res, err := c.cmd.Text()
	switch {
	case err != nil:
		return s.wrap(op, err)
	case res == "missing":
		return s.wrap(op, store.ErrNotFound)
	case res == "delivered":
		return s.wrap(op, fmt.Errorf("%w: delivery is delivered", store.ErrConflict))
	case res == "leased":
		return s.wrap(op, fmt.Errorf("%w: delivery is being attempted", store.ErrConflict))
	}
	return nil
}

// Blocked lists destination's blocked keys (store.Orderer).
func (s *Store) Blocked(ctx context.Context, destination string, limit int) ([]store.BlockedKey, error) {
	op := "blocked " + destination
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return nil, s.wrap(op, err)
	}
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	base := s.k.dest(destination)
	heads, err := s.rdb.HGetAll(ctx, base+":blk").Result()
	if err != nil {
		return nil, s.wrap(op, err)
	}
	lks := make([]string, 0, len(heads))
	for lk := range heads {
		lks = append(lks, lk)
	}
	sort.Strings(lks)
	var out []store.BlockedKey
	for len(lks) > 0 && len(out) < limit {
		part := lks[:min(chunk, len(lks))]
		lks = lks[len(part):]
		pipe := s.rdb.Pipeline()
		recs := make([]*goredis.SliceCmd, len(part))
		lens := make([]*goredis.IntCmd, len(part))
		for i, lk := range part {
			recs[i] = pipe.HMGet(ctx, base+":dlv:"+heads[lk], recordFields...)
			lens[i] = pipe.LLen(ctx, base+":ln:"+lk)
		}
		pipe.Exec(ctx) // errors are on the commands
		for i := range part {
			vals, err := recs[i].Result()
			if err != nil {
				return nil, s.wrap(op, err)
			}
			d, err := decodeDelivery(vals)
			if err != nil {
				continue // gone meanwhile, or unreadable
			}
			n, _ := lens[i].Result()
			out = append(out, store.BlockedKey{Key: d.Key, DeliveryID: d.ID, Route: d.Route, Since: d.UpdatedAt, Waiting: max(int(n)-1, 0)})
			if len(out) == limit {
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Unorder takes the deliveries of routes no longer ordered out of
// destination's lines (store.Orderer).
func (s *Store) Unorder(ctx context.Context, destination string, ordered func(route string) bool) (int, error) {
	op := "unorder " + destination
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return 0, s.wrap(op, err)
	}
	base := s.k.dest(destination)
	lks, err := s.rdb.SMembers(ctx, base+":lns").Result()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	total := 0
	for _, lk := range lks {
		ids, err := s.rdb.LRange(ctx, base+":ln:"+lk, 0, -1).Result()
		if err != nil {
			return total, s.wrap(op, err)
		}
		var gone []any
		for len(ids) > 0 {
			part := ids[:min(chunk, len(ids))]
			ids = ids[len(part):]
			pipe := s.rdb.Pipeline()
			cmds := make([]*goredis.StringCmd, len(part))
			for i, id := range part {
				cmds[i] = pipe.HGet(ctx, base+":dlv:"+id, "r")
			}
			pipe.Exec(ctx) // errors are on the commands
			for i, c := range cmds {
				v, err := c.Result()
				if err != nil && err != goredis.Nil {
					return total, s.wrap(op, err)
				}
				var r deliveryRec
				if err == nil && r.decode([]byte(v)) == nil && ordered(r.Route) {
					continue
				}
				gone = append(gone, part[i])
			}
		}
		if len(gone) == 0 {
			continue
		}
		c := call(scriptUnorder, base+":due", append([]any{base, lk}, gone...)...)
		if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
			return total, s.wrap(op, err)
		}
		n, err := c.cmd.Int64()
		if err != nil {
			return total, s.wrap(op, err)
		}
		total += int(n)
	}
	return total, nil
}

// abandonLines is Abandon's second pass: the deliveries waiting in
// destination's lines.
func (s *Store) abandonLines(ctx context.Context, base, reason string, now time.Time) (int, error) {
	total := 0
	for {
		c := call(scriptAbandonLines, base+":due", base, micros(now), timeText(now), reason, 100)
		if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
			return total, err
		}
		res, err := c.cmd.Int64Slice()
		if err != nil || len(res) != 2 {
			return total, corrupt("abandon reply", fmt.Errorf("%v %v", res, err))
		}
		total += int(res[0])
		if res[1] == 0 {
			return total, nil
		}
	}
}

// unleased reports whether d, given with a LeaseUntil, was stored without
// its lease: an ordered delivery waiting in its line.
func (r *acceptReq) unleased(d *store.Delivery) bool {
	return slices.Contains(r.waiting, d.ID)
}
