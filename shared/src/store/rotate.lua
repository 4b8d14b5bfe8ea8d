-- Re-issues the QR of a session still waiting for its scan. K[1] = session key; A[1] = the code expiry
-- the caller saw; A[2] = the new code's expiry; A[3] = the session's events channel; A[4] = session id.
-- Compare-and-set on the code, so of several gateway instances rotating at once exactly one does; the old
-- code no longer scans. Returns {'rotated', version}, {'stale', current expiry} or {'not_pending'}.
local s = redis.call('HMGET', K[1], 'st', 'cexp')
if s[1] ~= 'pending' then
  return {'not_pending'}
end
if s[2] ~= A[1] then
  return {'stale', s[2]}
end
redis.call('HSET', K[1], 'cexp', A[2])
local v = redis.call('HINCRBY', K[1], 'v', 1)
redis.call('PUBLISH', A[3], A[4])
return {'rotated', tostring(v)}
