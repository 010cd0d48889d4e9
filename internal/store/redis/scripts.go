package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts: every step that changes more than one key is one script,
// run with EVALSHA (EVAL when Redis has not seen it yet). Each touches the
// keys of one hash tag only, so on Redis Cluster it runs on one slot:
// KEYS[1] is a key of that tag and ARGV[1] the tag's base (keys.go), from
// which a script names the tag's other keys. docs/redis.md describes every
// key.
//
// Conventions: a delivery hash has the fields r (immutable JSON record), st
// (status), up (UpdatedAt, text), uu (UpdatedAt, µs), nx (NextAttemptAt,
// text, "" when none), du (NextAttemptAt, µs, "" when none), n (attempts),
// ls (last HTTP status), le (last error), dr (dead reason). Scores are
// unix microseconds.

// luaCommon are helpers every delivery script starts with.
const luaCommon = `
local base = ARGV[1]
local function dkey(id) return base .. ':dlv:' .. id end
local function skey(st) return base .. ':s:' .. st end
local function finished(st) return st == 'delivered' or st == 'dead' end
` + luaLines + `
-- unfile removes id from every index but its status set.
local function unfile(id)
  redis.call('ZREM', base .. ':due', id)
  redis.call('ZREM', base .. ':lease', id)
  redis.call('ZREM', base .. ':dead', id)
  redis.call('ZREM', base .. ':done', id)
end
local function setstatus(id, old, new)
  if old ~= new then
    redis.call('ZREM', skey(old), id)
    redis.call('ZADD', skey(new), 0, id)
  end
  redis.call('HSET', dkey(id), 'st', new)
end
-- requeue makes finished delivery id pending, due at now.
local function requeue(id, old, nowus, nowtext)
  unfile(id)
  setstatus(id, old, 'pending')
  redis.call('HSET', dkey(id), 'nx', nowtext, 'du', nowus, 'up', nowtext, 'uu', nowus, 'dr', '')
  local lk = redis.call('HGET', dkey(id), 'lk')
  if lk and lk ~= '' then
    rejoin(id, lk)
  else
    redis.call('ZADD', base .. ':due', nowus, id)
  end
end
-- reclaim files deliveries whose lease ended at or before nowus as due
-- again at their NextAttemptAt, at most limit of them.
local function reclaim(nowus, limit)
  local ids = redis.call('ZRANGEBYSCORE', base .. ':lease', '-inf', nowus, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    redis.call('ZREM', base .. ':lease', id)
    local f = redis.call('HMGET', dkey(id), 'st', 'du')
    if f[1] and not finished(f[1]) and f[2] and f[2] ~= '' then
      redis.call('ZADD', base .. ':due', f[2], id)
    end
  end
  return #ids
end
local fields = {'r', 'st', 'up', 'nx', 'n', 'ls', 'le', 'dr', 'ok', 'ob'}
local function record(id)
  return redis.call('HMGET', dkey(id), unpack(fields))
end
`

// scriptPut creates deliveries of one destination, skipping those that
// exist (so re-running it, as accept recovery does, is harmless).
// ARGV: base, then per delivery: id, due µs, r, up text, up µs, nx text,
// lease end µs ("": not leased; else it goes to the lease set, as a claim
// would file it). Returns how many it created.
var scriptPut = goredis.NewScript(luaPut + `
local made = 0
for i = 2, #ARGV, ` + putFieldsLua + ` do
  made = made + put(ARGV[1], i)
end
return made
`)

// luaPut defines put(base, i): it creates the delivery whose scriptPut
// values start at ARGV[i] in the destination of base, unless it exists,
// and returns 1 when it did.
const luaPut = `
local function put(base, i)
  local id = ARGV[i]
  local k = base .. ':dlv:' .. id
  if redis.call('EXISTS', k) == 1 then return 0 end
  local lk = ARGV[i + 8]
  if lk ~= '' then
    -- Ordered: it joins its line; only its head is due (or leased, when
    -- given a lease). Returns 2 for one given a lease that waits.
    redis.call('HSET', k, 'r', ARGV[i + 2], 'st', 'pending', 'up', ARGV[i + 3], 'uu', ARGV[i + 4],
      'nx', ARGV[i + 5], 'du', ARGV[i + 1], 'n', 0, 'ls', 0, 'le', '', 'dr', '', 'ok', ARGV[i + 7], 'lk', lk, 'ob', ARGV[i + 9])
    redis.call('ZADD', base .. ':s:pending', 0, id)
    if redis.call('RPUSH', base .. ':ln:' .. lk, id) == 1 then
      redis.call('SADD', base .. ':lns', lk)
      if ARGV[i + 6] ~= '' then
        redis.call('ZADD', base .. ':lease', ARGV[i + 6], id)
      else
        redis.call('ZADD', base .. ':due', ARGV[i + 1], id)
      end
      return 1
    end
    if ARGV[i + 6] ~= '' then return 2 end
    return 1
  end
  redis.call('HSET', k, 'r', ARGV[i + 2], 'st', 'pending', 'up', ARGV[i + 3], 'uu', ARGV[i + 4],
    'nx', ARGV[i + 5], 'du', ARGV[i + 1], 'n', 0, 'ls', 0, 'le', '', 'dr', '')
  if ARGV[i + 6] ~= '' then
    redis.call('ZADD', base .. ':lease', ARGV[i + 6], id)
  else
    redis.call('ZADD', base .. ':due', ARGV[i + 1], id)
  end
  redis.call('ZADD', base .. ':s:pending', 0, id)
  return 1
end
`

// scriptEvent stores the events of one bucket, each after its dedupe
// check, in order (so the second of two events with one dedupe key in a
// batch is its duplicate). ARGV: base, then per event eventFields values:
// id, event record, delivery index JSON, received µs, accepted µs (wall
// clock, for recovery), recovery copy ("" without deliveries), dedupe key
// ("" for none), dedupe expiry µs, destination names joined by NUL.
// Returns per event "ok", "dup <first id>" or "exists". The recovery copy
// is the event hash's field p, and the event is in …:pend until
// scriptConfirm.
var scriptEvent = goredis.NewScript(luaEvent + `
local out = {}
for i = 2, #ARGV, ` + eventFieldsLua + ` do out[#out + 1] = storeEvent(ARGV[1], i) end
return out
`)

// luaEvent defines storeEvent(base, i): it stores, in the bucket of base,
// the event whose scriptEvent values start at ARGV[i] after its dedupe
// check, and returns "ok", "dup <first id>" or "exists".
const luaEvent = `
local function storeEvent(base, i)
  local id, dd = ARGV[i], ARGV[i + 6]
  if dd ~= '' then
    local v = redis.call('GET', base .. ':dd:' .. dd)
    if v then
      local sp = string.find(v, ' ', 1, true)
      if sp and tonumber(string.sub(v, sp + 1)) > tonumber(ARGV[i + 3]) then
        return 'dup ' .. string.sub(v, 1, sp - 1)
      end
    end
  end
  local ek = base .. ':evt:' .. id
  if redis.call('EXISTS', ek) == 1 then return 'exists' end
  if ARGV[i + 5] ~= '' then
    redis.call('HSET', ek, 'j', ARGV[i + 1], 'd', ARGV[i + 2], 'p', ARGV[i + 5])
    redis.call('ZADD', base .. ':pend', ARGV[i + 4], id)
  else
    redis.call('HSET', ek, 'j', ARGV[i + 1], 'd', ARGV[i + 2])
  end
  redis.call('ZADD', base .. ':events', ARGV[i + 3], id)
  if dd ~= '' then
    redis.call('SET', base .. ':dd:' .. dd, id .. ' ' .. ARGV[i + 7])
    redis.call('ZADD', base .. ':ddx', ARGV[i + 7], dd)
  end
  for d in string.gmatch(ARGV[i + 8], '[^%z]+') do redis.call('SADD', base .. ':dests', d) end
  return 'ok'
end
`

// scriptAccept stores a batch of events with their deliveries in one
// script, for a single Redis (on a cluster, keys of different hash tags
// live on different nodes, and an Accept takes scriptEvent and scriptPut
// with a recovery copy between them). ARGV: per event, its bucket's base,
// scriptEvent's eventFields values (no recovery copy), the number of its
// deliveries, then per delivery its destination's base and scriptPut's
// putFields values. Returns per event what scriptEvent does; the
// deliveries are stored only with "ok", which lists after it the ids of
// the ordered deliveries given a lease that wait in their line.
var scriptAccept = goredis.NewScript(luaEvent + luaPut + `
local out = {}
local i = 1
while i <= #ARGV do
  local res = storeEvent(ARGV[i], i + 1)
  local n = tonumber(ARGV[i + 1 + ` + eventFieldsLua + `])
  local j = i + 2 + ` + eventFieldsLua + `
  for _ = 1, n do
    if res == 'ok' or string.sub(res, 1, 3) == 'ok ' then
      if put(ARGV[j], j + 1) == 2 then res = res .. ' ' .. ARGV[j + 1] end
    end
    j = j + 1 + ` + putFieldsLua + `
  end
  out[#out + 1] = res
  i = j
end
return out
`)

// putFields is how many ARGV values scriptPut takes per delivery.
const (
	putFields    = 10
	putFieldsLua = "10"
)

// eventFields is how many ARGV values scriptEvent takes per event.
const (
	eventFields    = 9
	eventFieldsLua = "9"
)

// scriptConfirm ends the recovery window of accepted events whose
// deliveries are all stored: drops them from …:pend and their recovery
// copies (the event's field p). ARGV: base, then event ids.
var scriptConfirm = goredis.NewScript(`
local base = ARGV[1]
for i = 2, #ARGV do
  if redis.call('ZREM', base .. ':pend', ARGV[i]) == 1 then
    redis.call('HDEL', base .. ':evt:' .. ARGV[i], 'p')
  end
end
return 0
`)

// scriptClaim leases up to limit due deliveries, oldest due first, after
// filing expired leases as due again. ARGV: base, now µs, until µs, limit.
// Returns {id, record fields...} per delivery.
var scriptClaim = goredis.NewScript(luaCommon + `
local now, untilus, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
reclaim(now, 1000)
local out = {}
local ids = redis.call('ZRANGEBYSCORE', base .. ':due', '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(ids) do
  redis.call('ZREM', base .. ':due', id)
  local rec = record(id)
  if rec[1] and not finished(rec[2]) then
    redis.call('ZADD', base .. ':lease', untilus, id)
    table.insert(rec, 1, id)
    table.insert(out, rec)
  end
end
return out
`)

// scriptRelease ends leases without an attempt: each leased, unfinished
// delivery is due again at its NextAttemptAt. ARGV: base, then ids.
// Returns how many it released.
var scriptRelease = goredis.NewScript(luaCommon + `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', base .. ':lease', id) == 1 then
    local f = redis.call('HMGET', dkey(id), 'st', 'du')
    if f[1] and not finished(f[1]) and f[2] and f[2] ~= '' then
      redis.call('ZADD', base .. ':due', f[2], id)
      n = n + 1
    end
  end
end
return n
`)

// scriptSetAside dead-letters unfinished deliveries whose records do not
// decode: the record moves to the field rx and a replacement (id,
// destination) takes its place, so listings and the dead-letter set read
// it. ARGV: base, now µs, now text, reason, then pairs of id and
// replacement record.
var scriptSetAside = goredis.NewScript(luaCommon + `
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  local k = dkey(id)
  local st = redis.call('HGET', k, 'st')
  if not st or not (st == 'pending' or st == 'retrying' or st == 'delivered' or st == 'dead') then st = 'pending' end
  if not finished(st) then
    redis.call('HSET', k, 'rx', redis.call('HGET', k, 'r') or '', 'r', ARGV[i + 1])
    unfile(id)
    setstatus(id, st, 'dead')
    redis.call('HSET', k, 'nx', '', 'du', '', 'dr', ARGV[4], 'up', ARGV[3], 'uu', ARGV[2],
      'n', redis.call('LLEN', base .. ':att:' .. id), 'ls', 0, 'le', '')
    redis.call('ZADD', base .. ':dead', ARGV[2], id)
    local lk = redis.call('HGET', k, 'lk')
    if lk and lk ~= '' then settle(lk) end
  end
end
return 0
`)

// scriptComplete records attempts of one destination's deliveries and
// files each delivery by its outcome. ARGV: base, then per attempt
// completeFields values: id, status, attempt JSON, at text, at µs, next
// text, next µs, last HTTP status, last error, dead reason. Returns per
// attempt its number (its position in the delivery's attempts), 0 for a
// delivery not found or -1 for one already finished.
var scriptComplete = goredis.NewScript(luaCommon + `
local function complete(i)
  local id, status = ARGV[i], ARGV[i + 1]
  local k = dkey(id)
  local f = redis.call('HMGET', k, 'st', 'lk')
  local old = f[1]
  if not old then return 0 end
  if finished(old) then return -1 end
  -- Unfinished: it is in the due or the lease set, not in dead or done.
  redis.call('ZREM', base .. ':due', id)
  redis.call('ZREM', base .. ':lease', id)
  local n = redis.call('HINCRBY', k, 'n', 1)
  redis.call('RPUSH', base .. ':att:' .. id, ARGV[i + 2])
  if old ~= status then
    redis.call('ZREM', skey(old), id)
    redis.call('ZADD', skey(status), 0, id)
  end
  local nx, du, dr = '', '', ''
  if status == 'retrying' then
    nx, du = ARGV[i + 5], ARGV[i + 6]
    redis.call('ZADD', base .. ':due', du, id)
  elseif status == 'delivered' then
    redis.call('ZADD', base .. ':done', ARGV[i + 4], id)
  else
    dr = ARGV[i + 9]
    redis.call('ZADD', base .. ':dead', ARGV[i + 4], id)
  end
  redis.call('HSET', k, 'st', status, 'up', ARGV[i + 3], 'uu', ARGV[i + 4], 'ls', ARGV[i + 7], 'le', ARGV[i + 8],
    'nx', nx, 'du', du, 'dr', dr)
  if status ~= 'retrying' and f[2] and f[2] ~= '' then
    -- The head was being attempted: its line is not blocked.
    settle(f[2], true)
  end
  return n
end
local out = {}
for i = 2, #ARGV, ` + completeFieldsLua + ` do out[#out + 1] = complete(i) end
return out
`)

// completeFields is how many ARGV values scriptComplete takes per attempt.
const (
	completeFields    = 10
	completeFieldsLua = "10"
)

// scriptRequeue makes finished deliveries pending again, due at now.
// ARGV: base, now µs, now text, only dead ("1": Replay) or any finished
// ("0": Retry), then ids. Returns {requeued, not found, not finished}.
var scriptRequeue = goredis.NewScript(luaCommon + `
local now, nowtext, onlydead = ARGV[2], ARGV[3], ARGV[4] == '1'
local done, missing, busy = 0, 0, 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local st = redis.call('HGET', dkey(id), 'st')
  if not st then
    missing = missing + 1
    redis.call('ZREM', base .. ':dead', id)
  elseif not finished(st) or (onlydead and st ~= 'dead') then
    busy = busy + 1
  else
    requeue(id, st, now, nowtext)
    done = done + 1
  end
end
return {done, missing, busy}
`)

// scriptAbandon dead-letters up to limit of a destination's unfinished,
// unleased deliveries (after filing expired leases as due). ARGV: base, now
// µs, now text, reason, limit. Returns {dead-lettered, examined}.
var scriptAbandon = goredis.NewScript(luaCommon + `
local now, nowtext, reason, limit = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local moved = reclaim(now, limit)
local ids = redis.call('ZRANGE', base .. ':due', 0, limit - 1)
local n = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', base .. ':due', id)
  local st = redis.call('HGET', dkey(id), 'st')
  if st and not finished(st) then
    setstatus(id, st, 'dead')
    redis.call('HSET', dkey(id), 'nx', '', 'du', '', 'dr', reason, 'up', nowtext, 'uu', now)
    redis.call('ZADD', base .. ':dead', now, id)
    n = n + 1
  end
end
return {n, #ids + moved}
`)

// scriptDrop deletes finished deliveries last updated before the cutoff,
// with their attempts, and the attempt-figures set earlier versions kept
// (…:atts, no longer read: luaFigures replaced it).
// ARGV: base, cutoff µs, then ids. Returns how many ids it could not
// delete (unfinished or updated since).
var scriptDrop = goredis.NewScript(luaCommon + `
local cutoff = tonumber(ARGV[2])
local kept = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', dkey(id), 'st', 'uu', 'lk')
  if f[1] then
    local head = f[3] and f[3] ~= '' and redis.call('HGET', base .. ':blk', f[3]) == id
    if finished(f[1]) and tonumber(f[2]) < cutoff and not head then
      unfile(id)
      redis.call('ZREM', skey(f[1]), id)
      redis.call('DEL', dkey(id), base .. ':att:' .. id)
    else
      kept = kept + 1
    end
  end
end
redis.call('UNLINK', base .. ':atts')
return kept
`)

// scriptDropEvents deletes events of one bucket that are past their
// recovery window. ARGV: base, then ids. Returns how many it deleted.
var scriptDropEvents = goredis.NewScript(`
local base = ARGV[1]
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if not redis.call('ZSCORE', base .. ':pend', id) then
    n = n + redis.call('DEL', base .. ':evt:' .. id)
    redis.call('ZREM', base .. ':events', id)
  end
end
return n
`)

// scriptExpireDedupe forgets up to limit dedupe keys whose window ended at
// or before now. ARGV: base, now µs, limit. Returns how many.
var scriptExpireDedupe = goredis.NewScript(`
local base = ARGV[1]
local keys = redis.call('ZRANGEBYSCORE', base .. ':ddx', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, k in ipairs(keys) do
  redis.call('DEL', base .. ':dd:' .. k)
  redis.call('ZREM', base .. ':ddx', k)
end
return #keys
`)

// allScripts are loaded together after a NOSCRIPT (a restarted Redis).
var allScripts = []*goredis.Script{
	scriptPut, scriptEvent, scriptConfirm, scriptClaim, scriptComplete, scriptRelease, scriptFigures, scriptAccept,
	scriptSetAside,
	scriptRequeue, scriptAbandon, scriptDrop, scriptDropEvents, scriptExpireDedupe,
	scriptDiscard, scriptUnorder, scriptAbandonLines,
}
