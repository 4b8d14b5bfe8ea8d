-- Re-issues the QR of a session still waiting for its scan. KEYS[1] = session key; ARGV[1] = the code expiry
-- the caller saw; ARGV[2] = the new code's expiry; ARGV[3] = the session's events channel; ARGV[4] = session id.
-- Compare-and-set on the code, so of several gateway instances rotating at once exactly one does; the old
-- code no longer scans. Returns {'rotated', version}, {'stale', current expiry} or {'not_pending'}.
local s = redis.call('HMGET', KEYS[1], 'st', 'cexp')
if s[1] ~= 'pending' then
  return {'not_pending'}
end
if s[2] ~= ARGV[1] then
  return {'stale', s[2]}
end
redis.call('HSET', KEYS[1], 'cexp', ARGV[2])
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {'rotated', tostring(v)}
