-- A wrong verification string was presented for this session. KEYS[1] = session key; ARGV[1] = allowed misses;
-- ARGV[2] = the session's events channel; ARGV[3] = session id.
-- Counts the miss; at the limit the session is destroyed, so guessing stops there. Never creates a key.
-- Returns -1 for no such session, 0 when this miss destroyed it, else the misses still allowed.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local misses = redis.call('HINCRBY', KEYS[1], 'bad', 1)
local left = tonumber(ARGV[1]) - misses
if left <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 0
end
return left
