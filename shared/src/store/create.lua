-- Creates a session hash and its TTL in one step. KEYS[1] = session key; ARGV[1] = ttl seconds, then
-- field/value pairs. A uuid collision (never expected) is refused rather than overwriting another login.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'v', 1, unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
