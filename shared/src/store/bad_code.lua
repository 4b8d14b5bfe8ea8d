-- A wrong verification string was presented for this session. K[1] = session key; A[1] = allowed misses;
-- A[2] = the session's events channel; A[3] = session id.
-- Counts the miss; at the limit the session is destroyed, so guessing stops there. Never creates a key.
-- Returns -1 for no such session, 0 when this miss destroyed it, else the misses still allowed.
if redis.call('EXISTS', K[1]) == 0 then
  return -1
end
local misses = redis.call('HINCRBY', K[1], 'bad', 1)
local left = tonumber(A[1]) - misses
if left <= 0 then
  redis.call('DEL', K[1])
  redis.call('PUBLISH', A[2], A[3])
  return 0
end
return left
