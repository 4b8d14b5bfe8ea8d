-- The phone asks how a login its user scanned stands. K[1] = session key; K[2] = the login's outcome key;
-- A[1] = user id. Read-only.
-- While the session lives: its state ('scanned', 'confirmed', 'claimed', 'denied' or 'cancelled'), to its
-- scanner only. Once it is gone, what the outcome key kept of a confirmed login: 'claimed', 'cancelled', or
-- 'expired' (the login window ended before the browser collected it). Otherwise 'not_found': unknown, gone, or
-- scanned by another user, one answer, so nothing can be probed.
local s = redis.call('HMGET', K[1], 'st', 'uid')
if s[1] then
  if s[1] ~= 'pending' and s[2] == A[1] then
    return s[1]
  end
  return 'not_found'
end
local o = redis.call('HMGET', K[2], 'uid', 'st')
if o[1] == A[1] then
  return o[2] or 'expired'
end
return 'not_found'
