-- Is web session A[1] of the user (K[1] = the user's web sessions) live at A[2] (now)? If so its last seen
-- becomes now, at most once every A[3] seconds (a busy backend introspecting every request writes no more).
-- Returns 1 (live) or 0 (ended, expired or unknown).
local record = redis.call('HGET', K[1], A[1])
if not record then
  return 0
end
local r, now = cjson.decode(record), tonumber(A[2])
if r.e <= now then
  redis.call('HDEL', K[1], A[1])
  return 0
end
if now - r.s >= tonumber(A[3]) then
  r.s = now
  redis.call('HSET', K[1], A[1], cjson.encode(r))
end
return 1
