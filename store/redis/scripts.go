package redisstore

import "github.com/redis/go-redis/v9"

// lockTookOverForged is what lockScript returns when it replaced a forged lock.
const lockTookOverForged = 2

// The Lua scripts below make each compound step one atomic operation in Redis.
var (
	// getScript reads a string no longer than a limit, so that a value planted in
	// Redis cannot make a process read, and hold, megabytes at every look.
	// KEYS: key. ARGV: limit in bytes. Returns nil when there is no such key, 0 when
	// the value is longer than the limit, the value otherwise; a key of another
	// type is Redis's WRONGTYPE error.
	getScript = redis.NewScript(`
if redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then return 0 end
return redis.call('GET', KEYS[1])`)

	// loadPairScript reads the fields d (digest), v (sealed refresh token) and a
	// (sealed access token) of a refresh token's hash, each no longer than a limit.
	// KEYS: hash. ARGV: limit in bytes. Returns four entries: for each field, nil
	// when it is not there, 0 when it is longer than the limit, its value
	// otherwise; then 1 if the key exists (a deleted token leaves a hash without
	// those fields), 0 if not. A key of another type is Redis's WRONGTYPE error.
	loadPairScript = redis.NewScript(`
local out = {}
for i, f in ipairs({'d', 'v', 'a'}) do
  if redis.call('HSTRLEN', KEYS[1], f) > tonumber(ARGV[1]) then
    out[i] = 0
  else
    out[i] = redis.call('HGET', KEYS[1], f)
  end
end
out[4] = redis.call('EXISTS', KEYS[1])
return out`)

	// saveScript stores a token only while the caller still holds the fetch lock
	// (its fencing value), then wakes the waiters.
	// KEYS: token, lock. ARGV: fence, value, ttl ms, channel.
	saveScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], 'saved')
return 1`)

	// lockScript takes a fetch lock: a string holding a fencing value (32 hex
	// digits) that expires within the lock TTL. A value under the lock's key that is
	// not such a lock — no expiry, a longer one, another value or type — was not
	// written by a process of the fleet: it is replaced, or it would hold the fleet
	// off forever. KEYS: lock. ARGV: fence, ttl ms. Returns 1 (taken), 0 (held by
	// another process), 2 (taken over from a forged lock).
	lockScript = redis.NewScript(`
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if t == 'string' then
  local ttl = redis.call('PTTL', KEYS[1])
  local v = redis.call('GET', KEYS[1])
  if ttl > 0 and ttl <= tonumber(ARGV[2]) and string.len(v) == 32 and not string.find(v, '[^0-9a-f]') then
    return 0
  end
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2`)

	// unlockScript deletes a lock only if it still holds the caller's fencing value,
	// then wakes the waiters. KEYS: lock. ARGV: fence, channel ("" for none).
	unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], 'unlocked') end
return 1`)

	// renewScript extends a lock the caller still holds. KEYS: lock. ARGV: fence, ttl ms.
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`)

	// casScript replaces a refresh token if the stored one is still one the caller
	// spent, compared by digest: ARGV[1] lists the digests it accepts, separated by
	// spaces, "-" standing for none. A stored token that is already next counts as
	// replaced. An empty next deletes the token, leaving a hash with the field
	// "deleted" only, so that a process holding a copy does not take the missing
	// token for one Redis lost (see RefreshTokens). With ARGV[4] = "1" a missing token
	// counts as prev too (a write-back into a Redis that restarted empty).
	// ARGV[5], when not empty, is "x" followed by the digest of a value the caller
	// found corrupt ("x!type" for a key of another type, "x!big" for a digest
	// longer than ARGV[7]): that value counts as prev too, so that the next good
	// token replaces it. ARGV[6] is the sealed access token issued with next, or "".
	// KEYS: refresh token. ARGV: digests of prev, digest of next, sealed next, flag,
	// corrupt marker, sealed access token, the longest value read back.
	casScript = redis.NewScript(`
local t = redis.call('TYPE', KEYS[1]).ok
local cur = ''
if t == 'hash' then
  cur = redis.call('HGET', KEYS[1], 'd')
  if not cur then cur = '' end
  if string.len(cur) > tonumber(ARGV[7]) then cur = '!big' end
elseif t ~= 'none' then
  cur = '!type'
end
if ARGV[2] ~= '' and cur == ARGV[2] then return 1 end
local ok = (cur == '' and ARGV[4] == '1') or (ARGV[5] ~= '' and ('x' .. cur) == ARGV[5])
for d in string.gmatch(ARGV[1], '%S+') do
  if d == cur or (d == '-' and cur == '') then ok = true end
end
if not ok then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'd', ARGV[2], 'v', ARGV[3])
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'a', ARGV[6]) end
else
  redis.call('HSET', KEYS[1], 'deleted', '1')
end
return 1`)

	// acquireScript takes a semaphore lease if fewer than the limit are live. Leases
	// are members of a sorted set scored by their expiry (server time, ms); expired
	// ones are dropped first, so a dead holder's lease frees itself. A lease that
	// expires later than one lease TTL from now, or a key of another type, was not
	// written by a process of the fleet (each writes and renews its leases to expire
	// one lease TTL from now, on the server's clock): it is dropped too, or it would
	// hold the fleet's slots forever.
	// KEYS: set. ARGV: limit, lease ms, lease id. Returns {taken (1 or 0), forged
	// values dropped (1 or 0)}.
	acquireScript = redis.NewScript(`
local forged = 0
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and t ~= 'zset' then
  redis.call('DEL', KEYS[1])
  forged = 1
end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + lease), '+inf') > 0 then forged = 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return {0, forged} end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, forged}`)

	// renewLeaseScript extends a lease that has not expired.
	// KEYS: set. ARGV: lease ms, lease id.
	renewLeaseScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) <= now then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)

	// releaseScript gives a lease back and wakes the waiters.
	// KEYS: set. ARGV: lease id, channel.
	releaseScript = redis.NewScript(`
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'released')
return n`)

	// countScript counts the live leases, not those acquireScript would drop as
	// forged. KEYS: set. ARGV: lease ms.
	countScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, now + tonumber(ARGV[1]))`)
)
