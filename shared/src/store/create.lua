-- Creates a session hash and its TTL in one step. K[1] = session key; A[1] = ttl seconds, then
-- field/value pairs. A uuid collision (never expected) is refused rather than overwriting another login.
if redis.call('EXISTS', K[1]) == 1 then
  return 0
end
redis.call('HSET', K[1], 'v', 1, unpack(A, 2))
redis.call('EXPIRE', K[1], A[1])
return 1
