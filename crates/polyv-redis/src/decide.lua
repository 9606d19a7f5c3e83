-- polyv-rs: one rate-limit decision, atomically (GCRA; mirrors polyv_core::driver::Gcra::reserve).
-- KEYS[1]: the egress's hash, fields `tat` and `blocked` (microseconds of Redis's clock).
-- ARGV[1]: interval (us between two requests); ARGV[2]: tolerance (us, interval x (burst - 1)).
-- Returns {0, wait_us} when a slot is booked, {1, left_us} while a block lasts (nothing booked).
-- The clock is Redis's TIME, so the workers' own clocks never matter.
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked') or 0) or 0
if blocked > now then
  return {1, blocked - now}
end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or 0) or 0
-- Gcra::reserve: start = max(tat, now); wait = start - (now + tolerance), at least 0.
local start = math.max(tat, now)
local wait = math.max(0, start - (now + tolerance))
local next_tat = start + interval
-- '%d': Lua 5.1 would print a plain number with 14 significant digits only.
redis.call('HSET', KEYS[1], 'tat', string.format('%d', next_tat))
local ttl = math.floor((next_tat - now) / 1000) + 60000
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {0, wait}
