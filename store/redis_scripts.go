package store

import "github.com/tokengate/tokengate/resp"

// The Lua scripts behind Redis. Each runs atomically on the server.
//
// A session hash <prefix>sess:<sid> holds cur, prev, rot (ms), user and exp
// (Unix s, the latest Expires; the key is PEXPIREAT exp*1000), and once
// revoked: revoked=1, rat (the revocation's At), rexp (its Expires) and rmem
// (its member in the sorted set). The sorted set <prefix>revocations scores
// members by At (ms, server time, strictly increasing); decodeRevocation
// reads the members.

// luaCommon is prepended to the scripts that record a revocation.
const luaCommon = `
if redis.replicate_commands then redis.replicate_commands() end
local function num(x) return string.format('%.0f', x) end
-- server time in ms
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- returns a strictly increasing At (server ms, or one past the latest in
-- zset zk) and the server time
local function next_at(zk)
  local now = server_ms()
  local at = now
  local last = redis.call('ZREVRANGE', zk, 0, 0, 'WITHSCORES')
  if last[2] and tonumber(last[2]) >= at then at = tonumber(last[2]) + 1 end
  return at, now
end
-- adds member to zk at at, trims members older than retention (ms) and
-- renews the set's TTL
local function add(zk, at, now, member, retention)
  redis.call('ZADD', zk, num(at), member)
  redis.call('ZREMRANGEBYSCORE', zk, '-inf', '(' .. num(now - retention))
  redis.call('PEXPIRE', zk, num(retention))
end
-- marks session hash sk revoked by member recorded at at, until expires (s)
local function mark(sk, at, expires, member)
  redis.call('HSET', sk, 'revoked', '1', 'rat', num(at), 'rexp', num(expires), 'rmem', member, 'exp', num(expires))
  redis.call('PEXPIREAT', sk, num(expires * 1000))
end
`

// startScript: KEYS sess; ARGV refreshID, userID, expires (s).
// A revoked session is left as it is.
var startScript = resp.NewScript(`
local sk = KEYS[1]
if redis.call('HGET', sk, 'revoked') == '1' then return 0 end
redis.call('HSET', sk, 'cur', ARGV[1], 'prev', '', 'rot', '0', 'user', ARGV[2], 'exp', ARGV[3])
redis.call('PEXPIREAT', sk, string.format('%.0f', tonumber(ARGV[3]) * 1000))
return 1
`)

// spendScript: KEYS sess, revocations; ARGV presented, next, now (ms),
// grace (ms), expires (s), userID, retention (ms), sid, revokeUntil (s).
// Returns {outcome} or, on reuse, {outcome, at, member}.
var spendScript = resp.NewScript(luaCommon + `
local sk, zk = KEYS[1], KEYS[2]
local presented, nxt = ARGV[1], ARGV[2]
local now, grace, expires = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', sk, 'cur', 'prev', 'rot', 'exp', 'revoked', 'user')
if h[5] == '1' then return {3} end
if nxt == '' then return {0} end
if not h[1] then
  redis.call('HSET', sk, 'cur', nxt, 'prev', presented, 'rot', ARGV[3], 'user', ARGV[6], 'exp', ARGV[5])
  redis.call('PEXPIREAT', sk, num(expires * 1000))
  return {0}
end
local exp = math.max(tonumber(h[4]) or 0, expires)
if presented == h[1] then
  redis.call('HSET', sk, 'cur', nxt, 'prev', presented, 'rot', ARGV[3], 'exp', num(exp))
  redis.call('PEXPIREAT', sk, num(exp * 1000))
  return {0}
end
-- a retry needs a grace, and falls within it on either side of the
-- rotation (a replica whose clock is behind sees it in its future)
local since = now - (tonumber(h[3]) or 0)
if presented == h[2] and grace > 0 and since <= grace and -since <= grace then
  redis.call('HSET', sk, 'cur', nxt, 'exp', num(exp))
  redis.call('PEXPIREAT', sk, num(exp * 1000))
  return {1}
end
local rexp = math.max(exp, tonumber(ARGV[9]) or 0)
local member = 's|' .. (h[6] or ARGV[6]) .. '|' .. num(rexp) .. '|' .. ARGV[8]
local at, snow = next_at(zk)
add(zk, at, snow, member, tonumber(ARGV[7]))
mark(sk, at, rexp, member)
return {2, at, member}
`)

// revokeScript: KEYS revocations, sess or user; ARGV kind ("s" or "u"),
// userID, before (s), expires (s), retention (ms), sid. Returns {at,
// member}. A session already revoked at least as long is not recorded
// again: its revocation is returned; a longer one replaces it. A user has
// one revocation: <prefix>urev:<userID> holds its member, expiring with it;
// one that refuses no fewer tokens for no less long is returned, any other
// replaces it with the later Before and the later Expires of the two.
var revokeScript = resp.NewScript(luaCommon + `
local zk = KEYS[1]
local expires = tonumber(ARGV[4])
local retention = tonumber(ARGV[5])
local at, now = next_at(zk)
if ARGV[1] == 'u' then
  local uk = KEYS[2]
  local before = tonumber(ARGV[3])
  local old = redis.call('GET', uk)
  if old then
    local score = redis.call('ZSCORE', zk, old)
    local ob, oe = string.match(old, '^u|[^|]*|(%-?%d+)|(%-?%d+)|')
    ob, oe = tonumber(ob), tonumber(oe)
    if score and ob and oe then
      if ob >= before and oe >= expires then return {tonumber(score), old} end
      before, expires = math.max(before, ob), math.max(expires, oe)
    end
    redis.call('ZREM', zk, old)
  end
  local member = 'u|' .. ARGV[2] .. '|' .. num(before) .. '|' .. num(expires) .. '|' .. num(at)
  add(zk, at, now, member, retention)
  redis.call('SET', uk, member)
  redis.call('PEXPIREAT', uk, num(expires * 1000))
  return {at, member}
end
local sk = KEYS[2]
local h = redis.call('HMGET', sk, 'revoked', 'rexp', 'rat', 'rmem', 'exp')
if h[1] == '1' and tonumber(h[2]) >= expires then return {tonumber(h[3]), h[4]} end
if h[4] then redis.call('ZREM', zk, h[4]) end
expires = math.max(expires, tonumber(h[5]) or 0)
local member = 's|' .. ARGV[2] .. '|' .. num(expires) .. '|' .. ARGV[6]
add(zk, at, now, member, retention)
mark(sk, at, expires, member)
return {at, member}
`)

// failureScript: KEYS counter; ARGV now (ms), resetAfter (ms). Returns
// {failures, last}.
//
// A counter hash <prefix>thr:<key> holds n (consecutive failures), last (ms
// of the latest failure) and exp (ms, by the callers' clocks: Peek and
// Failure treat the count as gone from then on); the key itself expires
// (PEXPIRE, by the server's clock) resetAfter after the latest failure.
var failureScript = resp.NewScript(`
local k = KEYS[1]
local now, reset = tonumber(ARGV[1]), tonumber(ARGV[2])
local h = redis.call('HMGET', k, 'last', 'exp')
local last, exp = tonumber(h[1]) or 0, tonumber(h[2]) or 0
if exp <= now then
  redis.call('DEL', k)
  last, exp = 0, 0
end
local n = redis.call('HINCRBY', k, 'n', 1)
if now > last then last = now end
if now + reset > exp then exp = now + reset end
redis.call('HSET', k, 'last', string.format('%.0f', last), 'exp', string.format('%.0f', exp))
redis.call('PEXPIRE', k, string.format('%.0f', exp - now))
return {n, last}
`)
