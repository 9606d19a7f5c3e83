-- polyv-rs: record the server's rate-limit block for every worker (a longer one is kept).
-- KEYS[1]: the egress's hash; ARGV[1]: how long the block lasts, in microseconds.
-- Returns how long the block lasts from now, in microseconds.
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked') or 0) or 0
if blocked > until_us then
  until_us = blocked
end
redis.call('HSET', KEYS[1], 'blocked', string.format('%d', until_us))
local ttl = math.floor((until_us - now) / 1000) + 60000
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return until_us - now
