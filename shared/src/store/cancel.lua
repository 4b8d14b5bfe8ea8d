-- The browser gives up. K[1] = session key; A[1] = binding hash; A[2] = the session's events channel;
-- A[3] = session id; K[2] = the login's outcome key. Returns 'ok', 'forbidden' or 'gone'.
-- A confirmed login cancelled before the browser collected it is recorded as cancelled in its outcome key (made
-- by the confirm), so the phone that confirmed learns it even after the session is gone.
local s = redis.call('HMGET', K[1], 'st', 'bind')
if not s[1] then
  return 'gone'
end
if s[2] ~= A[1] then
  return 'forbidden'
end
if s[1] == 'claimed' then
  -- The browser has its token and is done: drop the copy kept for the grace window.
  redis.call('DEL', K[1])
  redis.call('PUBLISH', A[2], A[3])
  return 'gone'
end
if s[1] == 'confirmed' and redis.call('EXISTS', K[2]) == 1 then
  redis.call('HSET', K[2], 'st', 'cancelled')
end
if s[1] == 'pending' or s[1] == 'scanned' or s[1] == 'confirmed' then
  redis.call('HSET', K[1], 'st', 'cancelled')
  redis.call('HINCRBY', K[1], 'v', 1)
  redis.call('PUBLISH', A[2], A[3])
end
return 'ok'
